"""A small CenterNet-style detector (Zhou, Wang, Krähenbühl, "Objects as Points", arXiv:1904.07850, 2019)
as an smqtk ``DetectImageObjects``.

The network is a five-layer convolutional backbone of output stride 8 (receptive field 79 pixels) with
three 1 x 1 heads: a per-class centre heatmap (sigmoid), the box size and the sub-cell centre offset, in
units of the stride. Decoding keeps the local maxima of the heatmap (a 3 x 3 max-pool: CenterNet's
replacement for non-maximum suppression), the ``max_detections`` best over all classes and positions, and
those above ``score_threshold``.

It exists to give the package a detector with a known answer (the ScaleShapes scenes,
:func:`xaitk_wcam.datasets.scale_shapes_scenes`) that trains in minutes on one CPU core; a folder holds
``config.json`` (labels, widths, stride) and ``model.safetensors`` (``benchmarks/train_scale_shapes_detector.py``
writes them). Cost: about 22 M multiply-adds per 96 x 96 image (widths 16, 32, 64).
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects
from smqtk_image_io.bbox import AxisAlignedBoundingBox
from torch import nn

from xaitk_wcam.classifiers._inputs import check_pixel_values, hwc_batches
from xaitk_wcam.classifiers.huggingface import resolve_device
from xaitk_wcam.classifiers.model_registry import resolve_alias
from xaitk_wcam.utils.checks import check_float, check_int

__all__ = [
    "SHIPPED",
    "CenterNetDetector",
    "CenterNetLite",
    "decode",
    "load_centernet",
    "save_centernet",
    "shipped_folder",
]

#: Keys of ``config.json`` and their meaning (see :class:`CenterNetLite`).
CONFIG_KEYS = ("labels", "widths", "stride")
#: The alias of the known-answer ScaleShapes detector shipped with the package (``models/scale_shapes/detector``).
SHIPPED = "scale-shapes-detector"


def shipped_folder(name: str) -> Path | None:
    """The folder of the shipped detector for its alias :data:`SHIPPED`, else ``None`` (a ``model_aliases`` entry
    point: it reads no module of :mod:`xaitk_wcam.models`, which needs transformers)."""
    return Path(__file__).parents[1] / "models" / "scale_shapes" / "detector" if name == SHIPPED else None


class CenterNetLite(nn.Module):
    """Backbone (3 x 3 convolutions, batch norm, ReLU) and CenterNet's three heads.

    :param n_classes: Heatmap channels.
    :param widths: Channels of the three strided stages (stride 2, 4, 8); the last width is kept by two
        dilated convolutions (dilation 1, 2) and a 3 x 3 head convolution.
    :param stride: Output stride; 8 with three strided stages.
    """

    def __init__(self, n_classes: int, widths: Sequence[int] = (16, 32, 64), stride: int = 8) -> None:
        super().__init__()
        if stride != 2 ** len(widths):
            raise ValueError(f"stride must be 2**len(widths) = {2 ** len(widths)}, got {stride}")
        layers: list[nn.Module] = []
        channels = 3
        for width in widths:
            layers += _conv(channels, width, stride=2)
            channels = width
        for dilation in (1, 2):
            layers += _conv(channels, channels, dilation=dilation)
        layers += _conv(channels, channels)
        self.backbone = nn.Sequential(*layers)
        self.heatmap = nn.Conv2d(channels, n_classes, 1)
        self.size = nn.Conv2d(channels, 2, 1)
        self.offset = nn.Conv2d(channels, 2, 1)
        self.stride = stride
        nn.init.constant_(self.heatmap.bias, -2.19)  # CenterNet's prior: sigmoid(-2.19) = 0.1

    def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``N x 3 x H x W`` normalised pixels -> heatmap logits ``N x K x h x w``, then sizes and offsets
        (``N x 2 x h x w``, in units of the stride)."""
        features = self.backbone(pixels)
        return self.heatmap(features), self.size(features), self.offset(features)


def _conv(inputs: int, outputs: int, stride: int = 1, dilation: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(inputs, outputs, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(outputs),
        nn.ReLU(inplace=True),
    ]


def normalise(images: torch.Tensor) -> torch.Tensor:
    """``N x C x H x W`` uint8 (``[0, 255]``) or float (``[0, 1]``) RGB -> the network's input (``(x - 0.5) / 0.5``),
    a new contiguous float32 tensor (the input is never modified)."""
    x = images.contiguous().to(torch.float32, copy=True)
    if images.dtype == torch.uint8:
        x.div_(255.0)
    return x.sub_(0.5).div_(0.5)


def decode(
    heatmap: torch.Tensor, size: torch.Tensor, offset: torch.Tensor, stride: int, max_detections: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """CenterNet's decoding of a batch: the ``max_detections`` best local maxima over classes and positions.

    :param heatmap: ``N x K x h x w`` logits.
    :return: ``scores`` (``N x M``, sigmoid, descending), ``classes`` (``N x M``) and ``boxes`` (``N x M x 4``,
        ``x0, y0, x1, y1`` in input pixels, unclipped), ``M = min(max_detections, K h w)``.
    """
    n, k, h, w = heatmap.shape
    heat = torch.sigmoid(heatmap)
    peaks = heat * (heat == nn.functional.max_pool2d(heat, 3, stride=1, padding=1))
    scores, index = peaks.reshape(n, -1).topk(min(max_detections, k * h * w), dim=1)
    classes, position = index // (h * w), index % (h * w)
    ys, xs = (position // w).float(), (position % w).float()
    pick = position[:, None, :].expand(-1, 2, -1)
    sizes = size.reshape(n, 2, -1).gather(2, pick) * stride
    offsets = offset.reshape(n, 2, -1).gather(2, pick)
    cx, cy = (xs + offsets[:, 0]) * stride, (ys + offsets[:, 1]) * stride
    half_w, half_h = sizes[:, 0].abs() / 2, sizes[:, 1].abs() / 2
    return scores, classes, torch.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], dim=-1)


class CenterNetDetector(DetectImageObjects):
    """A saved :class:`CenterNetLite` as an smqtk ``DetectImageObjects`` plugin.

    Each detection is ``(AxisAlignedBoundingBox, {label: score})`` where the detected class has its heatmap
    score and every other label 0: CenterNet detects a class at a point, and xaitk's D-RISE reads such a
    one-class vector as objectness = score with a one-hot class vector. Boxes are clipped to the image.
    Images are ``H x W [x C]``, ``uint8`` in ``[0, 255]`` or float in ``[0, 1]``; grey images are repeated to
    three channels, alpha is dropped. Another dtype, a float image outside ``[0, 1]`` (e.g. in ``[0, 255]``) or one
    holding NaN is a ``ValueError`` before the network runs (it gave full-image boxes at score 1, or nothing).

    Cost: one forward pass per ``batch_size`` images.

    :param model_path: A folder with ``config.json`` and ``model.safetensors``, or a registered model alias
        (default ``"scale-shapes-detector"``: the ScaleShapes detector shipped with this package, trained on
        :func:`~xaitk_wcam.datasets.scale_shapes_scenes`' 96 x 96 scenes, labels
        :data:`~xaitk_wcam.datasets.SCENE_CLASSES`).
    :param score_threshold: Detections scoring at or below it are dropped, in ``[0, 1)``. A detection that
        falls below it under a perturbation vanishes: see :class:`~xaitk_wcam.WCAMDetector` for what that does to
        an explanation.
    :param max_detections: Most detections per image (CenterNet's top-K), ``>= 1``.
    :param device: ``"auto"`` or a torch device string.
    :param batch_size: Images per forward pass, ``>= 1``.
    """

    def __init__(
        self,
        model_path: str = SHIPPED,
        score_threshold: float = 0.3,
        max_detections: int = 20,
        device: str = "cpu",
        batch_size: int = 256,
    ) -> None:
        self.model_path = str(model_path)
        self.score_threshold = check_float("score_threshold", score_threshold, 0.0, 1.0, strict=False)
        if self.score_threshold >= 1.0:
            raise ValueError(f"score_threshold must be in [0, 1), got {score_threshold!r}")
        self.max_detections = check_int("max_detections", max_detections, 1)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.device_name = device
        self.device = resolve_device(device)
        folder = resolve_alias(self.model_path) or Path(self.model_path).expanduser()
        self.model, self.labels = load_centernet(folder)
        self.model.to(self.device)

    def get_labels(self) -> list[Hashable]:
        """Class labels, in heatmap-channel order (the order of the score dicts' keys)."""
        return list(self.labels)

    def detect_objects(
        self, img_iter: Iterable[np.ndarray]
    ) -> Iterator[list[tuple[AxisAlignedBoundingBox, dict[Hashable, float]]]]:
        """Detections of every image, ``batch_size`` images per forward pass (see the class docstring)."""
        for runs in hwc_batches(img_iter, self.batch_size):
            for run in runs:
                yield from self._detect_run(run)

    def _detect_run(self, run: torch.Tensor) -> Iterator[list[tuple[AxisAlignedBoundingBox, dict[Hashable, float]]]]:
        check_pixel_values(run)
        height, width = run.shape[-2:]
        channels = run.shape[1]
        if channels in (1, 2):
            run = run[:, :1].expand(-1, 3, -1, -1)
        elif channels == 4:
            run = run[:, :3]
        with torch.inference_mode():
            outputs = self.model(normalise(run).to(self.device))
            scores, classes, boxes = decode(*outputs, self.model.stride, self.max_detections)
            boxes = boxes.cpu().numpy()
        np.clip(boxes[..., 0::2], 0, width, out=boxes[..., 0::2])
        np.clip(boxes[..., 1::2], 0, height, out=boxes[..., 1::2])
        keep = scores > self.score_threshold
        labels = self.labels
        for image_scores, image_classes, image_boxes, image_keep in zip(
            scores.tolist(), classes.tolist(), boxes, keep.tolist(), strict=True
        ):
            detections = []
            for score, cls, box, kept in zip(image_scores, image_classes, image_boxes, image_keep, strict=True):
                if not kept:
                    break  # scores are sorted
                vector = dict.fromkeys(labels, 0.0)
                vector[labels[cls]] = score
                detections.append((AxisAlignedBoundingBox(box[:2], box[2:]), vector))
            yield detections

    def get_config(self) -> dict[str, Any]:
        return {
            "model_path": self.model_path,
            "score_threshold": self.score_threshold,
            "max_detections": self.max_detections,
            "device": self.device_name,
            "batch_size": self.batch_size,
        }


def load_centernet(folder: Path) -> tuple[CenterNetLite, list[Hashable]]:
    """The eval-mode network and the labels saved in ``folder`` (:func:`save_centernet`'s layout).

    :raises FileNotFoundError: ``folder`` lacks ``config.json`` or ``model.safetensors``.
    :raises ValueError: The config lacks a key of :data:`CONFIG_KEYS`.
    """
    from safetensors.torch import load_file

    config_file, weights = Path(folder) / "config.json", Path(folder) / "model.safetensors"
    if not (config_file.is_file() and weights.is_file()):
        raise FileNotFoundError(
            f"model_path={str(folder)!r}: expected a folder with config.json and model.safetensors (written by "
            "benchmarks/train_scale_shapes_detector.py) or a registered alias such as 'scale-shapes-detector'"
        )
    config = json.loads(config_file.read_text(encoding="utf-8"))
    missing = [key for key in CONFIG_KEYS if key not in config]
    if missing:
        raise ValueError(f"model_path={str(folder)!r}: config.json lacks {missing}")
    model = CenterNetLite(len(config["labels"]), config["widths"], config["stride"])
    model.load_state_dict(load_file(str(weights)))
    return model.eval(), list(config["labels"])


def save_centernet(model: CenterNetLite, labels: Sequence[str], widths: Sequence[int], folder: Path) -> None:
    """Write ``config.json`` and ``model.safetensors`` (contiguous float32 tensors) into ``folder``."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    config = {"architecture": "CenterNetLite", "labels": list(labels), "widths": list(widths), "stride": model.stride}
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, str(folder / "model.safetensors"))
