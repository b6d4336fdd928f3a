"""The one reader of a ``DetectImageObjects``' output, and the D-RISE similarity of reference detections to it.

An smqtk detector returns, per image, ``(AxisAlignedBoundingBox, {label: score})`` pairs. :func:`read_detections`
turns a batch of them into arrays, with xaitk-saliency's conventions (``PerturbationOcclusion``): a detection
whose scores have exactly one positive entry is a one-class detection, read as objectness = that score and a
one-hot class vector; any other detection has objectness 1 and its score vector as is. Images with fewer
detections than the most in the batch are padded with objectness 0 (they match nothing).

:func:`drise_similarity` is D-RISE's similarity (Petsiuk et al., "Black-box Explanation of Object Detectors via
Saliency Maps", CVPR 2021): for each reference detection, the maximum over an image's detections of
IoU x cosine of the class-score vectors x objectness, with xaitk's ``DRISEScoring.iou`` (inclusive pixel
coordinates, as its ``DRISEStack``). A reference detection the image no longer has scores 0.
"""

from __future__ import annotations

import operator
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "ALL",
    "DetectionSet",
    "batch_similarity",
    "check_unit_scores",
    "detect",
    "detection_labels",
    "drise_similarity",
    "parse_detections_rule",
    "read_detections",
    "select_detections",
]

#: The ``detections`` rule that explains every detection of the reference image.
ALL = "all"


@dataclass(frozen=True)
class DetectionSet:
    """Detections of one image as arrays (reference detections, or what a detector found).

    :param boxes: ``N x 4`` float64 ``(x0, y0, x1, y1)`` boxes.
    :param scores: ``N x K`` float64 class scores in the order of ``labels``, or ``None`` for class-agnostic
        detections (boxes given by a user: the class term of the similarity is then 1).
    :param objectness: ``N`` float64 objectness scores (1 where the detector has none).
    :param labels: The ``K`` class labels of the detector, in score order (empty when ``scores`` is ``None``).
    """

    boxes: np.ndarray
    scores: np.ndarray | None
    objectness: np.ndarray
    labels: tuple[Hashable, ...] = ()

    def __len__(self) -> int:
        return len(self.boxes)

    @property
    def confidence(self) -> np.ndarray:
        """``N`` detection scores: objectness x the highest class score (objectness alone when class-agnostic)."""
        return self.objectness if self.scores is None else self.objectness * self.scores.max(axis=1)

    @property
    def class_labels(self) -> list[Hashable | None]:
        """The label of each detection's highest class score (its index when ``labels`` is empty; ``None`` when
        class-agnostic)."""
        if self.scores is None:
            return [None] * len(self)
        return [self.labels[k] if self.labels else int(k) for k in self.scores.argmax(axis=1)]

    @classmethod
    def from_detections(
        cls, detections: Iterable[tuple[Any, dict[Hashable, float]]], labels: Sequence[Hashable] | None = None
    ) -> DetectionSet:
        """One image's ``detect_objects`` result, read as :func:`read_detections` reads it.

        :param detections: ``(AxisAlignedBoundingBox, {label: score})`` pairs.
        :param labels: Class labels in score order; ``None``: the keys of the first detection's scores.
        """
        boxes, scores, objectness, labels = read_detections([detections], labels, 1)
        count = int((objectness[0] > 0).sum())
        return cls(boxes[0, :count], scores[0, :count], objectness[0, :count], tuple(labels))

    def subset(self, index: Sequence[int] | np.ndarray) -> DetectionSet:
        """The detections at ``index``, in that order."""
        index = np.asarray(index, dtype=np.int64)
        scores = None if self.scores is None else self.scores[index]
        return DetectionSet(self.boxes[index], scores, self.objectness[index], self.labels)


def detection_labels(detector: Any) -> list[Hashable] | None:
    """The detector's class labels in score order: its ``get_labels()`` when it has one (this package's
    detectors do), else ``None`` (smqtk's interface has none: the keys of its score dicts then give them)."""
    get_labels = getattr(detector, "get_labels", None)
    return list(get_labels()) if callable(get_labels) else None


def detect(detector: Any, image: np.ndarray, labels: Sequence[Hashable] | None = None) -> DetectionSet:
    """The detector's detections on one image (one ``detect_objects`` call), read as :func:`read_detections` does.

    :param labels: The detector's labels in score order (:func:`detection_labels`); ``None``: the keys of its first
        detection's scores.
    """
    found = next(iter(detector.detect_objects(np.asarray(image)[None])), [])
    return DetectionSet.from_detections(found, labels)


def parse_detections_rule(value: Any, name: str = "detections") -> int | str:
    """The one parser of a ``detections`` rule: which of a detector's detections on a reference image to explain.

    :param value: ``"all"`` (:data:`ALL`); an int ``K >= 1``: the ``K`` best scores; another non-empty string: the
        detections of that class label.
    :param name: How to name ``value`` in errors.
    :return: ``value`` as an ``int`` or a ``str``.
    :raises TypeError: Neither an int nor a string.
    :raises ValueError: An int below 1, or an empty string.
    """
    accepted = f"{name} must be 'all', an int K >= 1 (the K best scores) or a class label, got {value!r}"
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        if value < 1:
            raise ValueError(accepted)
        return int(value)
    if not isinstance(value, str):
        raise TypeError(accepted)
    if not value:
        raise ValueError(accepted)
    return value


def select_detections(reference: DetectionSet, which: int | str) -> np.ndarray:
    """Indices of the detections to explain, in the detector's order.

    :param reference: The detector's detections on the reference image.
    :param which: A rule of :func:`parse_detections_rule`: ``"all"``; an int ``K``: the ``K`` highest scores
        (objectness x highest class score; ties keep the detector's order); another string: the detections whose
        highest class score is that label.
    :raises ValueError: No detection at all, an unknown label (the labels are listed) or no detection of it.
    """
    which = parse_detections_rule(which)
    if not len(reference):
        raise ValueError(
            "the detector found no detection on the reference image: nothing to explain; lower its score threshold "
            "or give the boxes to explain"
        )
    if which == ALL:
        return np.arange(len(reference))
    if isinstance(which, int):
        return np.sort(np.argsort(-reference.confidence, kind="stable")[:which])
    if which not in reference.labels:
        raise ValueError(
            f"detections={which!r} is not 'all', an int K or one of the detector's labels {reference.labels}"
        )
    index = np.flatnonzero([label == which for label in reference.class_labels])
    if not index.size:
        found = sorted({str(label) for label in reference.class_labels})
        raise ValueError(
            f"detections={which!r}: the detector found no {which!r} on the reference image (it found {found})"
        )
    return index


def read_detections(
    results: Iterable[Iterable[tuple[Any, dict[Hashable, float]]]], labels: Sequence[Hashable] | None, expected: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Hashable]]:
    """A batch of ``detect_objects`` results as padded arrays.

    :param results: What ``detect_objects`` returned for ``expected`` images.
    :param labels: Class labels to read, in order; ``None``: the keys of the first detection's scores.
    :param expected: Number of images in the batch.
    :return: ``boxes`` (``n x P x 4``), ``scores`` (``n x P x K``), ``objectness`` (``n x P``, 0 on padding) and the
        labels read, ``P`` the most detections of one image (at least 1).
    :raises ValueError: A result count other than ``expected``; a box that is not an ``AxisAlignedBoundingBox``
        of two 2-D vertices with finite ``x0 <= x1, y0 <= y1``; scores that lack a label, have labels other than
        ``labels``, are not finite or lie outside ``[0, 1]``.
    """
    images: list[list[tuple[Any, dict[Hashable, float]]]] = [list(detections) for detections in results]
    if len(images) != expected:
        raise ValueError(f"blackbox returned detections for {len(images)} images; expected {expected}")
    if labels is None:
        first = next((d for detections in images for d in detections), None)
        labels = [] if first is None else list(_scores_of(first))
    labels = list(labels)
    k = len(labels)
    pick = operator.itemgetter(*labels) if k > 1 else (lambda scores: tuple(scores[label] for label in labels))
    most = max([len(detections) for detections in images] + [1])
    boxes = np.zeros((expected, most, 4))
    scores = np.ones((expected, most, k))
    objectness = np.zeros((expected, most))
    for i, detections in enumerate(images):
        for j, detection in enumerate(detections):
            values = _scores_of(detection)
            low, high = getattr(detection[0], "min_vertex", ()), getattr(detection[0], "max_vertex", ())
            if len(low) != 2 or len(high) != 2:
                raise ValueError(
                    f"blackbox returned a box {detection[0]!r}; expected an smqtk AxisAlignedBoundingBox with 2-D min "
                    "and max vertices"
                )
            boxes[i, j, :2], boxes[i, j, 2:] = low, high
            if len(values) != k:
                raise ValueError(
                    f"blackbox returned a detection with {len(values)} class scores; expected {k} (the detector's "
                    f"labels, e.g. {labels[:5]})"
                )
            try:
                scores[i, j] = pick(values)
            except KeyError as error:
                missing = [label for label in labels if label not in values][:5]
                raise ValueError(
                    f"blackbox returned a detection whose scores lack label(s) {missing}; every detection must score "
                    "every label of the detector"
                ) from error
            objectness[i, j] = 1.0
    if not (np.isfinite(boxes).all() and np.isfinite(scores).all()):
        raise ValueError("blackbox returned non-finite (NaN or inf) boxes or class scores; they must be finite")
    check_unit_scores(scores[objectness > 0], "blackbox returned class scores")
    inverted = (boxes[..., 2:] < boxes[..., :2]).any(axis=-1)
    if inverted.any():
        bad = boxes[inverted][0].tolist()
        raise ValueError(f"blackbox returned a malformed box {bad}: (x0, y0, x1, y1) must have x0 <= x1, y0 <= y1")
    single = (scores > 0).sum(axis=2) == 1  # xaitk's one-class detections: objectness = score, one-hot vector
    single &= objectness > 0
    if single.any():
        objectness[single] = scores[single].max(axis=1)
        scores[single] = scores[single] > 0
    return boxes, scores, objectness, labels


def check_unit_scores(values: np.ndarray, what: str) -> None:
    """Refuse detection scores outside ``[0, 1]``: D-RISE's similarity, survival and confidence read them as
    probabilities (a logit of 5 made a detection survive "5.0 times", a score of -2 a negative confidence).

    :param what: The start of the message, naming where the scores come from.
    :raises ValueError: Naming the first value outside ``[0, 1]``.
    """
    outside = values[(values < 0.0) | (values > 1.0)]
    if outside.size:
        raise ValueError(
            f"{what} outside [0, 1] (e.g. {float(outside.flat[0]):g}); detection scores must be probabilities: apply "
            "the detector's sigmoid or softmax to logits"
        )


def _scores_of(detection: Any) -> dict[Hashable, float]:
    if not isinstance(detection, tuple) or len(detection) != 2 or not hasattr(detection[1], "keys"):
        raise ValueError(
            f"blackbox returned a detection {detection!r:.80}; expected (AxisAlignedBoundingBox, {{label: score}})"
        )
    return detection[1]


def drise_similarity(reference: DetectionSet, detections: DetectionSet) -> np.ndarray:
    """D-RISE similarity of every reference detection to its best match among the detections of one image.

    ``s(d, d') = IoU(d, d') x cos(scores(d), scores(d')) x objectness(d')``, maximised over the image's detections
    ``d'`` (Petsiuk et al. 2021); the cosine is 1 for a class-agnostic reference (``reference.scores is None``).
    This is what :class:`~xaitk_wcam.WCAMDetector` explains, and whether a detection survives a perturbation.

    :param reference: ``R`` reference detections.
    :param detections: The detections of one image (:meth:`DetectionSet.from_detections`), scores in the order
        of ``reference.labels``.
    :return: ``R`` similarities, in ``[0, 1]`` for scores in ``[0, 1]``; 0 for a detection that has no match.
    :raises ValueError: Class scores of different widths (detectors with different labels).
    """
    if reference.scores is not None and detections.scores is not None and len(detections):
        if detections.scores.shape[1] != reference.scores.shape[1]:
            raise ValueError(
                f"detections have {detections.scores.shape[1]} class scores, the reference detections "
                f"{reference.scores.shape[1]}; both must come from the same detector's labels"
            )
    scores = detections.scores if detections.scores is not None else np.ones((len(detections), 1))
    return batch_similarity(reference, detections.boxes[None], scores[None], detections.objectness[None])[0]


def batch_similarity(
    reference: DetectionSet, boxes: np.ndarray, scores: np.ndarray, objectness: np.ndarray
) -> np.ndarray:
    """:func:`drise_similarity` for a batch of ``n`` images in :func:`read_detections`' padded arrays.

    :param boxes: ``n x P x 4``; ``scores``: ``n x P x K``; ``objectness``: ``n x P`` (0 on padding).
    :return: ``n x R`` similarities.
    """
    from xaitk_saliency.impls.gen_detector_prop_sal.drise_scoring import DRISEScoring

    n, p = objectness.shape
    if p == 0 or len(reference) == 0:
        return np.zeros((n, len(reference)))
    iou = DRISEScoring().iou(boxes.reshape(-1, 4), reference.boxes).reshape(n, p, len(reference))
    similarity = iou * objectness[..., None]
    if reference.scores is not None:
        similarity *= _cosine(scores.reshape(n * p, -1), reference.scores).reshape(n, p, len(reference))
    return similarity.max(axis=1)


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``A x B`` cosine similarities; 0 with an all-zero vector (instead of scipy's NaN)."""
    norm_a, norm_b = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    dot = a @ b.T
    denominator = norm_a[:, None] * norm_b[None, :]
    return np.divide(dot, denominator, out=np.zeros_like(dot), where=denominator > 0)
