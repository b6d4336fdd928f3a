"""The two known-answer ScaleShapes classifiers shipped with the package.

Both are ``transformers`` ResNets (basic blocks, 0.48 M parameters) trained from scratch by
``benchmarks/train_scale_shapes.py`` on :func:`xaitk_wcam.datasets.scale_shapes` images, in which a
coarse cue (a shape) and a fine cue (a texture of period 2 or 4 pixels) both give the class:

- ``"standard"``: trained on clean images; it decides by the texture on cue-conflict images;
- ``"robust"``: trained with random Gaussian blur (sigma 1 to 2 px) and Gaussian noise, which make
  the texture unreliable; it decides by the shape.

Each folder (``scale_shapes/<kind>/``) holds ``config.json`` (labels: ``xaitk_wcam.datasets.CLASS_NAMES``),
``model.safetensors``, ``preprocessor_config.json`` (64 x 64 input, rescale 1/255, mean / std 0.5) and
``training_record.json`` (the training command's arguments and measured accuracies).

``scale_shapes/detector/`` holds the known-answer *detector* (``config.json``, ``model.safetensors``,
``training_record.json``), trained by ``benchmarks/train_scale_shapes_detector.py``; it needs no transformers and
loads through :class:`xaitk_wcam.detectors.CenterNetDetector` (alias ``"scale-shapes-detector"``).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SCALE_SHAPES_KINDS", "scale_shapes_classifier", "scale_shapes_folder"]

SCALE_SHAPES_KINDS = ("standard", "robust")


def scale_shapes_folder(kind: str) -> Path:
    """Path of the shipped ``save_pretrained`` folder of ``kind`` (``"standard"`` or ``"robust"``)."""
    if kind not in SCALE_SHAPES_KINDS:
        raise ValueError(f"kind must be one of {SCALE_SHAPES_KINDS}, got {kind!r}")
    folder = Path(__file__).with_name("scale_shapes") / kind
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(
            f"{folder} has no config.json: the shipped weights are missing; re-create them with "
            "`python benchmarks/train_scale_shapes.py --out src/xaitk_wcam/models/scale_shapes`"
        )
    return folder


def scale_shapes_classifier(kind: str, device: str = "auto", batch_size: int = 256):
    """A shipped ScaleShapes classifier as a :class:`~xaitk_wcam.classifiers.huggingface.HuggingFaceImageClassifier`.

    Inputs: ``64 x 64 x 3`` ``uint8`` images (other sizes are resized to 64 x 64, bilinear). Cost: 42 MFLOPs
    (21 M multiply-adds) per image.

    :param kind: ``"standard"`` (texture-biased) or ``"robust"`` (shape-biased).
    :param device: ``"auto"`` or a torch device string.
    :param batch_size: Images per forward pass.
    """
    from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier

    return HuggingFaceImageClassifier(str(scale_shapes_folder(kind)), device=device, batch_size=batch_size)
