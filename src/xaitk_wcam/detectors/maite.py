"""Any MAITE object-detection model as an smqtk ``DetectImageObjects`` (the detector side of
:class:`~xaitk_wcam.classifiers.maite.MaiteImageClassifier`)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects
from smqtk_image_io.bbox import AxisAlignedBoundingBox

from xaitk_wcam.classifiers._inputs import hwc_batches
from xaitk_wcam.classifiers.maite import model_labels, resolve_object
from xaitk_wcam.utils.arrays import to_numpy
from xaitk_wcam.utils.checks import check_int

__all__ = ["MaiteObjectDetector"]


class MaiteObjectDetector(DetectImageObjects):
    """Wrap a MAITE ``object_detection.Model`` as an smqtk ``DetectImageObjects``.

    Images (``H x W [x C]`` numpy, as xaitk passes them) are handed to the model as ``C x H x W`` arrays, in
    batches of ``batch_size``, in their own dtype and value range. Each returned target (``boxes`` ``N x 4``
    ``x0, y0, x1, y1``; ``labels`` ``N`` ints; ``scores`` ``N`` or ``N x n_labels``) becomes ``N`` pairs
    ``(AxisAlignedBoundingBox, {label: score})``: with one score per box, its label has it and every other
    label 0; with a score vector, every label has its own.

    ``get_config`` round-trips only when ``model`` was given as an import path (as for
    :class:`~xaitk_wcam.classifiers.maite.MaiteImageClassifier`).

    Cost: one model call per ``batch_size`` images.

    :param model: A MAITE object-detection model, or an import path ``"package.module:attribute"`` to one.
    :param labels: One label per class index; ``None`` reads ``model.metadata["index2label"]``.
    :param batch_size: Images per model call, ``>= 1``.
    """

    def __init__(self, model: Any, labels: Sequence[Hashable] | None = None, batch_size: int = 32) -> None:
        self._model_spec, self._model = resolve_object(model, "model", "MAITE object-detection model")
        if not callable(self._model):
            raise ValueError(f"model: expected a callable MAITE model; got {type(self._model).__name__}")
        self._batch_size = check_int("batch_size", batch_size, 1)
        self._labels_given = None if labels is None else list(labels)
        self._labels = model_labels(self._model, labels)

    @property
    def model(self) -> Any:
        """The wrapped MAITE model."""
        return self._model

    def get_labels(self) -> list[Hashable]:
        return list(self._labels)

    def detect_objects(
        self, img_iter: Iterable[np.ndarray]
    ) -> Iterator[list[tuple[AxisAlignedBoundingBox, dict[Hashable, float]]]]:
        """Detections of each image (see the class docstring).

        :raises ValueError: Wrong image rank or channels; a target whose boxes are not ``N x 4``, whose labels
            fall outside ``labels`` or whose scores are neither ``N`` nor ``N x n_labels``.
        """
        labels, n_labels = self._labels, len(self._labels)
        for runs in hwc_batches(img_iter, self._batch_size):
            for target in self._model([image.numpy() for run in runs for image in run]):
                boxes = np.asarray(to_numpy(target.boxes), dtype=np.float64).reshape(-1, 4)
                classes = np.asarray(to_numpy(target.labels)).astype(np.int64).reshape(-1)
                scores = np.asarray(to_numpy(target.scores), dtype=np.float64)
                n = len(boxes)
                if len(classes) != n or scores.shape not in ((n,), (n, n_labels)):
                    raise ValueError(
                        f"model returned {n} boxes, {len(classes)} labels and scores of shape {scores.shape}; expected "
                        f"N boxes, N labels and N or N x {n_labels} scores"
                    )
                if n and (classes.min() < 0 or classes.max() >= n_labels):
                    raise ValueError(f"model returned class indices outside [0, {n_labels}) (labels has {n_labels})")
                detections = []
                for i in range(n):
                    if scores.ndim == 2:
                        vector = dict(zip(labels, scores[i].tolist(), strict=True))
                    else:
                        vector = dict.fromkeys(labels, 0.0)
                        vector[labels[classes[i]]] = float(scores[i])
                    detections.append((AxisAlignedBoundingBox(boxes[i, :2], boxes[i, 2:]), vector))
                yield detections

    def get_config(self) -> dict[str, Any]:
        return {"model": self._model_spec, "labels": self._labels_given, "batch_size": self._batch_size}
