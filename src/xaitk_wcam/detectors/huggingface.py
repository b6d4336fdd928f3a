"""HuggingFace ``transformers`` object detectors as smqtk ``DetectImageObjects`` and MAITE models."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects
from smqtk_image_io.bbox import AxisAlignedBoundingBox

from xaitk_wcam.classifiers._inputs import check_pixel_values, chw_batches, hwc_batches
from xaitk_wcam.classifiers.huggingface import (
    check_task,
    load_config,
    load_model,
    load_processor,
    resolve_device,
    unique_labels,
)
from xaitk_wcam.utils.checks import check_float, check_int
from xaitk_wcam.utils.extras import has_extra, require_extra

__all__ = ["HuggingFaceObjectDetector", "ObjectDetectionTarget"]

DETECTION = tuple[AxisAlignedBoundingBox, dict[Hashable, float]]


@dataclass(frozen=True)
class ObjectDetectionTarget:
    """MAITE's ``object_detection.ObjectDetectionTarget`` for one image.

    :param boxes: ``N x 4`` float32 ``(x0, y0, x1, y1)`` boxes in input pixels.
    :param labels: ``N`` int64 class indices (``metadata["index2label"]`` names them).
    :param scores: ``N`` float32 scores.
    """

    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray


class HuggingFaceObjectDetector(DetectImageObjects):
    """A HuggingFace object detector (``AutoModelForObjectDetection`` + its image processor's
    ``post_process_object_detection``): DETR, Conditional / Deformable DETR, YOLOS, RT-DETR, ...

    It is an smqtk ``DetectImageObjects`` (``H x W [x C]`` images in, per image a list of
    ``(AxisAlignedBoundingBox, {label: score})``) and a MAITE ``object_detection.Model`` (``__call__`` on
    ``C x H x W`` images returns one :class:`ObjectDetectionTarget` per image; ``metadata`` holds ``id`` and
    ``index2label``). Each detection is exactly what the processor's post-processing returns (box in input
    pixels, label, score above ``score_threshold``); its score dict gives the detected label that score and
    every other label 0, which xaitk's D-RISE reads as objectness = score with a one-hot class vector.

    Preprocessing is the model's own image processor (resize, rescale, normalise, pad), on runs of
    equal-size images, so padding never mixes images of different sizes; ``uint8`` images are in
    ``[0, 255]``, float images in ``[0, 1]`` (not rescaled again). Grey images are repeated to three
    channels; alpha is dropped. Remote code is never executed (``trust_remote_code=False``). Needs the ``hf``
    extra (transformers).

    Cost: one forward pass per ``batch_size`` images, plus the processor's per-image resizing.

    :param model_name_or_path: A ``save_pretrained`` folder (model and image processor), a Hub id such as
        ``"facebook/detr-resnet-50"`` (network or a populated HuggingFace cache), or a registered alias.
    :param score_threshold: Detections scoring at or below it are dropped (the post-processing's
        ``threshold``), in ``[0, 1)``. For explanations keep it low (see :class:`~xaitk_wcam.WCAMDetector`).
    :param device: ``"auto"`` (CUDA, then MPS, then CPU), or any torch device string.
    :param batch_size: Images per forward pass, ``>= 1``.
    """

    @classmethod
    def is_usable(cls) -> bool:
        """Usable when transformers (the ``hf`` extra) is installed."""
        return has_extra("hf")

    def __init__(
        self, model_name_or_path: str, score_threshold: float = 0.5, device: str = "auto", batch_size: int = 8
    ) -> None:
        require_extra("hf", "HuggingFaceObjectDetector")
        self._threshold = check_float("score_threshold", score_threshold, 0.0, 1.0, strict=False)
        if self._threshold >= 1.0:
            raise ValueError(f"score_threshold must be in [0, 1), got {score_threshold!r}")
        self._batch_size = check_int("batch_size", batch_size, 1)
        self._device_arg = device
        self._device = resolve_device(device)
        source, config = load_config(model_name_or_path)
        self._name = str(model_name_or_path)

        from transformers import AutoModelForObjectDetection
        from transformers.models.auto.modeling_auto import MODEL_FOR_OBJECT_DETECTION_MAPPING

        check_task(config, MODEL_FOR_OBJECT_DETECTION_MAPPING, self._name, "object detector", "detr, yolos, rt_detr")
        self._processor = load_processor(source, self._name)
        if not hasattr(self._processor, "post_process_object_detection"):
            raise ValueError(
                f"model_name_or_path={self._name!r}: its image processor {type(self._processor).__name__} has no "
                "post_process_object_detection"
            )
        self._model = load_model(AutoModelForObjectDetection, source)
        self._model.eval().to(self._device)
        self._labels = unique_labels(config.id2label)
        self.metadata: dict[str, Any] = {"id": self._name, "index2label": dict(enumerate(self._labels))}

    @property
    def model(self) -> torch.nn.Module:
        """The underlying ``transformers`` model (in eval mode)."""
        return self._model

    @property
    def processor(self) -> Any:
        """The image processor (preprocessing and ``post_process_object_detection``)."""
        return self._processor

    @property
    def score_threshold(self) -> float:
        return self._threshold

    def get_labels(self) -> list[Hashable]:
        """Labels from ``config.id2label`` in id order (the keys of every score dict, in that order)."""
        return list(self._labels)

    def _post_processed(self, run: torch.Tensor) -> list[dict[str, torch.Tensor]]:
        """The post-processing's ``{"scores", "labels", "boxes"}`` of each image of an ``n x C x H x W`` run."""
        channels = run.shape[1]
        if channels in (1, 2):
            run = run[:, :1].expand(-1, 3, -1, -1)
        elif channels == 4:
            run = run[:, :3]
        check_pixel_values(run)
        floating = run.is_floating_point()
        images = list(run.permute(0, 2, 3, 1).cpu().numpy())
        inputs = self._processor(
            images=images, return_tensors="pt", do_rescale=not floating, input_data_format="channels_last"
        )
        with torch.inference_mode():
            outputs = self._model(**{k: v.to(self._device) for k, v in inputs.items()})
            return self._processor.post_process_object_detection(
                outputs, threshold=self._threshold, target_sizes=[tuple(run.shape[-2:])] * len(images)
            )

    def detect_objects(self, img_iter: Iterable[np.ndarray]) -> Iterator[list[DETECTION]]:
        """Detect objects in ``H x W [x C]`` images (a stacked ``N x H x W [x C]`` array or an iterable).

        :return: Per image, one ``(AxisAlignedBoundingBox, {label: score})`` per detection, in the
            post-processing's order; every dict has every label (0 but for the detected one).
        :raises ValueError: Wrong rank, channel count, dtype or value range.
        """
        labels = self._labels
        for runs in hwc_batches(img_iter, self._batch_size):
            for run in runs:
                for result in self._post_processed(run):
                    detections = []
                    for box, label, score in zip(
                        result["boxes"].tolist(), result["labels"].tolist(), result["scores"].tolist(), strict=True
                    ):
                        vector = dict.fromkeys(labels, 0.0)
                        vector[labels[label]] = score
                        detections.append((AxisAlignedBoundingBox(box[:2], box[2:]), vector))
                    yield detections

    def __call__(self, batch: Any) -> list[ObjectDetectionTarget]:
        """MAITE ``object_detection.Model`` call.

        :param batch: An ``N x C x H x W`` array/tensor or a sequence of ``C x H x W`` arrays (``uint8`` in
            ``[0, 255]`` or floating in ``[0, 1]``).
        :return: One :class:`ObjectDetectionTarget` per image.
        """
        out = []
        for runs in chw_batches(batch, self._batch_size):
            for run in runs:
                out.extend(
                    ObjectDetectionTarget(
                        boxes=r["boxes"].float().cpu().numpy().reshape(-1, 4),
                        labels=r["labels"].cpu().numpy().astype(np.int64),
                        scores=r["scores"].float().cpu().numpy(),
                    )
                    for r in self._post_processed(run)
                )
        return out

    def get_config(self) -> dict[str, Any]:
        return {
            "model_name_or_path": self._name,
            "score_threshold": self._threshold,
            "device": self._device_arg,
            "batch_size": self._batch_size,
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self._name!r}, score_threshold={self._threshold}, device={str(self._device)!r}, "
            f"batch_size={self._batch_size})"
        )
