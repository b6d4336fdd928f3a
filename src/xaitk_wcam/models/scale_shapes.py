"""The known-answer ScaleShapes models shipped with the package: two classifiers and a detector.

Both are ``transformers`` ResNets (basic blocks, 0.48 M parameters) trained from scratch by
``benchmarks/train_scale_shapes.py`` on :func:`xaitk_wcam.datasets.scale_shapes` images, in which a
coarse cue (a shape) and a fine cue (a texture of period 2 or 4 pixels) both give the class:

- ``"standard"``: trained on clean images; it decides by the texture on cue-conflict images;
- ``"robust"``: trained with random Gaussian blur (sigma 1 to 2 px) and Gaussian noise, which make
  the texture unreliable; it decides by the shape.

Each folder (``scale_shapes/<kind>/``) holds ``config.json`` (labels: ``xaitk_wcam.datasets.CLASS_NAMES``),
``model.safetensors``, ``preprocessor_config.json`` (64 x 64 input, rescale 1/255, mean / std 0.5) and
``training_record.json`` (the training command's arguments and measured accuracies).

The detector (``scale_shapes/detector/``: ``config.json``, ``model.safetensors``, ``training_record.json``) is a
:class:`~xaitk_wcam.detectors.centernet.CenterNetLite` trained by ``benchmarks/train_scale_shapes_detector.py`` on
:func:`xaitk_wcam.datasets.scale_shapes_scenes`: shapes (found at levels 0-1) and texture patches (found only at
the level of their period), eight classes (:data:`xaitk_wcam.datasets.SCENE_CLASSES`).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SCALE_SHAPES_KINDS", "scale_shapes_classifier", "scale_shapes_detector", "scale_shapes_folder"]

SCALE_SHAPES_KINDS = ("standard", "robust")


def scale_shapes_folder(kind: str) -> Path:
    """Path of the shipped folder of ``kind``: ``"standard"`` or ``"robust"`` (``save_pretrained`` classifiers) or
    ``"detector"``."""
    if kind not in (*SCALE_SHAPES_KINDS, "detector"):
        raise ValueError(f"kind must be one of {(*SCALE_SHAPES_KINDS, 'detector')}, got {kind!r}")
    folder = Path(__file__).with_name("scale_shapes") / kind
    if not (folder / "config.json").is_file():
        script = "train_scale_shapes_detector.py" if kind == "detector" else "train_scale_shapes.py"
        raise FileNotFoundError(
            f"{folder} has no config.json: the shipped weights are missing; re-create them with "
            f"`python benchmarks/{script} --out {folder.relative_to(folder.parents[3])}`"
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


def scale_shapes_detector(score_threshold: float = 0.3, device: str = "cpu", batch_size: int = 256, **kwargs):
    """The shipped ScaleShapes detector as a :class:`~xaitk_wcam.detectors.centernet.CenterNetDetector`.

    Inputs: ``96 x 96 x 3`` ``uint8`` scenes (any size works; objects of 12 to 28 pixels). Cost: about 22 M
    multiply-adds per 96 x 96 image. Labels: :data:`xaitk_wcam.datasets.SCENE_CLASSES`.

    :param score_threshold: Detections scoring at or below it are dropped (0.05 for explanations: see
        :class:`~xaitk_wcam.WCAMDetector`).
    :param device: ``"auto"`` or a torch device string.
    :param batch_size: Images per forward pass.
    :param kwargs: Other :class:`~xaitk_wcam.detectors.centernet.CenterNetDetector` keywords (``max_detections``).
    """
    from xaitk_wcam.detectors.centernet import CenterNetDetector

    return CenterNetDetector(
        "scale-shapes-detector", score_threshold=score_threshold, device=device, batch_size=batch_size, **kwargs
    )
