"""WCAM for object detectors: at which wavelet scale, and where, a detector finds each object.

D-RISE (Petsiuk et al., "Black-box Explanation of Object Detectors via Saliency Maps", CVPR 2021) reduces a
detection to one number per perturbed image: its similarity to the best-matching detection of that image
(IoU x cosine of the class-score vectors x objectness; :func:`xaitk_wcam.utils.detections.drise_similarity`).
WCAM's estimator (Kasmi et al., "Scale Matters", NeurIPS 2023 XAI in Action workshop) works on any such
number, so :class:`WCAMDetector` shows WCAM the detector as a classifier whose classes are the reference
detections (:class:`DetectionSimilarity`) and runs :class:`~xaitk_wcam.WCAM` itself on it: the same design,
masking, estimators and stability, and every reference detection from the same forward passes.

Cost: WCAM's ``nb_design * (grid_size**2 + 2)`` forward passes of the detector (6,288 at the defaults)
whatever the number of detections, plus one on the reference image when the detections to explain come from
the detector.

**Score threshold and non-maximum suppression.** A perturbed image's detections are what the detector
returns, after its own score threshold and NMS (or CenterNet's peak picking). A reference detection whose
match falls below the threshold vanishes: its similarity drops from about ``threshold x IoU`` to the
similarity of the best remaining box, usually 0. That step is real model behaviour, but it hides how far
the score fell, and an explanation of a detection near the threshold becomes a map of "where does the
score cross the threshold" rather than "what raises the score". NMS takes part the same way: the
similarity is a maximum over the surviving boxes, so suppressing a weaker duplicate changes nothing, but a
perturbation that lets a box of another class win NMS over the matching box removes the match. Recommended:
run the detector for explanations with a low score threshold (0.05 or less, with a cap on the number of
detections: ``CenterNetDetector(score_threshold=0.05)``, ``HuggingFaceObjectDetector(score_threshold=0.05)``),
and choose which detections to explain (``detections``) on the reference image, where a low threshold
would otherwise add many weak ones.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects
from xaitk_saliency.interfaces.gen_object_detector_blackbox_sal import GenerateObjectDetectorBlackboxSaliency

from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM, WCAMResult
from xaitk_wcam.interfaces.explainer import WaveletDetectorExplainer, register_explainer
from xaitk_wcam.interfaces.explanation import PIXEL, WAVELET
from xaitk_wcam.utils.checks import check_boxes, check_detector, check_image, check_int
from xaitk_wcam.utils.detections import (
    DetectionSet,
    batch_similarity,
    check_unit_scores,
    detection_labels,
    read_detections,
)

__all__ = ["DetectionSimilarity", "ReferenceDetection", "WCAMDetector", "select_detections"]

#: ``detections`` value that explains every detection of the reference image.
ALL = "all"


class ReferenceDetection(NamedTuple):
    """One explained detection: the label of its maps in a :class:`~xaitk_wcam.WCAMResult`.

    :param index: Position in the reference detections (the detector's list on the reference image, or the
        boxes given).
    :param label: Class label of its highest score (``None`` for a class-agnostic box).
    :param score: Objectness x highest class score (1 for a class-agnostic box).
    :param box: ``(x0, y0, x1, y1)``.
    """

    index: int
    label: Hashable | None
    score: float
    box: tuple[float, float, float, float]

    def __str__(self) -> str:
        return f"#{self.index} {self.label if self.label is not None else 'box'} {self.score:.2f}"


class DetectionSimilarity(ClassifyImage):
    """A detector and reference detections seen as a classifier: one label per reference detection
    (:class:`ReferenceDetection`), whose confidence on an image is its D-RISE similarity to that image's
    detections (0 when none matches).

    Not a plugin (``is_usable()`` is false): :class:`WCAMDetector` builds it for one explanation.

    :param detector: The detector.
    :param reference: The reference detections; their ``labels`` are the detector's (when not class-agnostic).
    :param index: The :attr:`ReferenceDetection.index` of each reference detection (default: its position).
    """

    def __init__(
        self, detector: DetectImageObjects, reference: DetectionSet, index: Iterable[int] | None = None
    ) -> None:
        self._detector = detector
        self._reference = reference
        self._class_labels = list(reference.labels) if reference.labels else detection_labels(detector)
        index = range(len(reference)) if index is None else index
        self._labels = [
            ReferenceDetection(int(i), label, float(score), tuple(float(v) for v in box))
            for i, label, score, box in zip(
                index, reference.class_labels, reference.confidence, reference.boxes, strict=True
            )
        ]

    @classmethod
    def is_usable(cls) -> bool:
        """Never offered by plugin discovery."""
        return False

    def get_labels(self) -> list[ReferenceDetection]:
        """The reference detections, in order."""
        return list(self._labels)

    def classify_images(self, img_iter: np.ndarray | Iterable[np.ndarray]) -> Iterator[dict[Hashable, float]]:
        """D-RISE similarity of every reference detection for each image (one ``detect_objects`` call)."""
        images = img_iter if isinstance(img_iter, np.ndarray) else list(img_iter)
        boxes, scores, objectness, labels = read_detections(
            self._detector.detect_objects(images), self._class_labels, len(images)
        )
        width = None if self._reference.scores is None else self._reference.scores.shape[1]
        if width is not None and objectness.any() and scores.shape[2] != width:
            raise ValueError(
                f"scores has {width} columns but the detector scores {scores.shape[2]} labels ({labels[:5]}...); "
                "the reference class scores must follow the detector's labels"
            )
        similarity = batch_similarity(self._reference, boxes, scores, objectness)
        return iter([dict(zip(self._labels, row, strict=True)) for row in similarity.tolist()])

    def get_config(self) -> dict[str, Any]:
        """Not configurable: holds a live detector."""
        return {}


def select_detections(reference: DetectionSet, which: int | str) -> np.ndarray:
    """Indices of the detections to explain, in order.

    :param reference: The detector's detections on the reference image.
    :param which: ``"all"``; an int ``K >= 1``: the ``K`` highest scores (objectness x highest class score; ties
        keep the detector's order); another string: the detections whose highest class score is that label.
    :raises ValueError: An unknown label (the labels are listed) or no detection of it.
    """
    if which == ALL:
        return np.arange(len(reference))
    if isinstance(which, (int, np.integer)) and not isinstance(which, bool):
        return np.sort(np.argsort(-reference.confidence, kind="stable")[: int(which)])
    if which not in reference.labels:
        raise ValueError(
            f"detections={which!r} is not 'all', an int K or one of the detector's labels {reference.labels}"
        )
    index = np.flatnonzero([label == which for label in reference.class_labels])
    if not index.size:
        found = sorted({str(label) for label in reference.class_labels})
        raise ValueError(f"detections={which!r}: the detector found no {which!r} on ref_image (it found {found})")
    return index


class WCAMDetector(GenerateObjectDetectorBlackboxSaliency):
    """WCAM for object detectors (see the module docstring for the method and the cost).

    ``generate(ref_image, bboxes, scores, blackbox, objectness=None)`` (xaitk's interface) returns the
    ``nDets x H x W`` pixel maps in ``[0, 1]`` of the given reference detections; ``explain(ref_image, detector,
    detections=...)`` returns the whole :class:`~xaitk_wcam.WCAMResult` (wavelet and pixel maps, scale profile,
    stability), whose labels are the explained detections (:class:`ReferenceDetection`).

    :param wavelet: As :class:`~xaitk_wcam.WCAM`, like every keyword up to ``tolerance``.
    :param levels: DWT levels.
    :param grid_size: Side of the grid of Sobol variables over the coefficient layout.
    :param nb_design: Design size ``N`` (a power of two) or ``"auto"``.
    :param estimator: ``"importance"``, ``"jansen"``, ``"homma"`` or ``"janon"``.
    :param batch_size: Perturbed images per ``detect_objects`` call.
    :param seed: Seed; the same seed gives bit-identical maps.
    :param max_evaluations: Forward-pass budget of ``nb_design="auto"``.
    :param tolerance: Stability tolerance of ``nb_design="auto"``.
    :param detections: Which of the detector's detections on the reference image :meth:`explain` explains by
        default: ``"all"``, an int ``K`` (the ``K`` best scores) or a class label (every detection of it).
    """

    def __init__(
        self,
        *,
        wavelet: str = "haar",
        levels: int = 3,
        grid_size: int = 28,
        nb_design: int | str = 8,
        estimator: str = "importance",
        batch_size: int = 64,
        seed: int = 0,
        max_evaluations: int | None = None,
        tolerance: float = 0.2,
        detections: int | str = ALL,
    ) -> None:
        #: The WCAM that does the work (pixel maps first, as xaitk's detector interface returns).
        self.wcam = WCAM(
            wavelet=wavelet,
            levels=levels,
            grid_size=grid_size,
            nb_design=nb_design,
            estimator=estimator,
            batch_size=batch_size,
            seed=seed,
            max_evaluations=max_evaluations,
            tolerance=tolerance,
            output="spatial",
        )
        if isinstance(detections, (int, np.integer)) and not isinstance(detections, bool):
            detections = check_int("detections", detections, 1)
        elif not isinstance(detections, str):
            raise TypeError(f"detections must be 'all', an int K >= 1 or a class label string, got {detections!r}")
        self.detections = detections

    def get_config(self) -> dict[str, Any]:
        config = self.wcam.get_config()
        del config["output"]
        return {**config, "detections": self.detections}

    @property
    def map_spaces(self) -> tuple[str, ...]:
        """Spaces of the maps :meth:`explain` returns: pixel (what ``generate`` returns), then wavelet."""
        return (PIXEL, WAVELET)

    @property
    def wavelet_levels(self) -> int:
        return self.wcam.levels

    @property
    def seed(self) -> int:
        return self.wcam.seed

    @property
    def batch_size(self) -> int:
        """Perturbed images per ``detect_objects`` call (what a study's memory estimate counts)."""
        return self.wcam.batch_size

    @property
    def grid_size(self) -> int:
        return self.wcam.grid_size

    @property
    def n_evaluations(self) -> int:
        """Forward passes per explanation at most (not counting the one on the reference image)."""
        return self.wcam.n_evaluations

    def explain(
        self,
        ref_image: np.ndarray,
        detector: DetectImageObjects,
        detections: int | str | np.ndarray | DetectionSet | None = None,
    ) -> WCAMResult:
        """Explain detections of ``detector`` on ``ref_image``; all of them come from one set of forward passes.

        :param ref_image: ``H x W [x C]`` image (as :meth:`WCAM.explain <xaitk_wcam.WCAM.explain>`), never modified.
        :param detector: Any smqtk ``DetectImageObjects``; it receives ``N x H x W [x C]`` batches in the dtype
            and range of ``ref_image``.
        :param detections: What to explain. ``None``: the ``detections`` keyword. ``"all"``, an int ``K`` or a
            class label: chosen among the detector's detections on ``ref_image`` (:func:`select_detections`).
            An ``N x 4`` array of ``(x0, y0, x1, y1)`` boxes: class-agnostic (whatever the detector finds there,
            scored by IoU x objectness). A :class:`~xaitk_wcam.utils.detections.DetectionSet`: these
            detections (scores in the order of the detector's labels).
        :return: A :class:`~xaitk_wcam.WCAMResult` with one map per detection; its ``labels`` are
            :class:`ReferenceDetection` s (their ``index`` is the position among the detector's detections on
            ``ref_image``, or among the given ones).
        :raises TypeError: ``detector`` is not a ``DetectImageObjects``; ``detections`` of an unknown kind.
        :raises ValueError: A wrong image, malformed boxes or scores, no detection to explain, an unknown label; a
            detector that returns NaN scores or malformed boxes (on its first batch).
        """
        image = check_image(ref_image)
        check_detector(detector, "detector")
        which = self.detections if detections is None else detections
        if isinstance(which, DetectionSet):
            labels = which.labels or (() if which.scores is None else _detector_labels(detector, image))
            reference = _checked_set(which, labels)
            index = np.arange(len(reference))
        elif isinstance(which, np.ndarray) and which.dtype.kind not in "USO":
            boxes = check_boxes(which, "detections")
            reference = DetectionSet(boxes, None, np.ones(len(boxes)))
            index = np.arange(len(boxes))
        elif isinstance(which, (str, int, np.integer)) and not isinstance(which, bool):
            found = next(iter(detector.detect_objects(image[None])), [])
            every = DetectionSet.from_detections(found, detection_labels(detector))
            if not len(every):
                raise ValueError(
                    "detector found no detection on ref_image: nothing to explain; lower its score threshold or pass "
                    "detections as boxes"
                )
            index = select_detections(every, which if isinstance(which, str) else check_int("detections", which, 1))
            reference = every.subset(index)
        else:
            raise TypeError(
                "detections must be None, 'all', an int K, a class label, an N x 4 array of boxes or a DetectionSet; "
                f"got {type(which).__name__}"
            )
        return self.wcam.explain(image, DetectionSimilarity(detector, reference, index))

    def _verify_generate_inputs(
        self, ref_image: np.ndarray, bboxes: np.ndarray, scores: np.ndarray, objectness: np.ndarray | None = None
    ) -> None:
        """xaitk's input checks, with messages naming the argument (and boxes with ``x0 < x1, y0 < y1``)."""
        check_image(ref_image)
        _reference_set(bboxes, scores, objectness, labels=())

    def _generate(
        self,
        ref_image: np.ndarray,
        bboxes: np.ndarray,
        scores: np.ndarray,
        blackbox: DetectImageObjects,
        objectness: np.ndarray | None = None,
    ) -> np.ndarray:
        check_detector(blackbox)
        reference = _reference_set(bboxes, scores, objectness, labels=_detector_labels(blackbox, ref_image))
        return self.explain(ref_image, blackbox, detections=reference).maps


def _reference_set(bboxes: Any, scores: Any, objectness: Any, labels: tuple[Hashable, ...]) -> DetectionSet:
    """Checked reference detections from xaitk's three arrays (``labels``: the detector's, when known)."""
    boxes = check_boxes(bboxes, "bboxes")
    if not isinstance(scores, np.ndarray) or not np.issubdtype(scores.dtype, np.number) or np.iscomplexobj(scores):
        raise TypeError(f"scores must be a real numpy array of shape nDets x nClasses, got {type(scores).__name__}")
    if scores.ndim != 2 or len(scores) != len(boxes):
        raise ValueError(
            f"scores must have shape nDets x nClasses with nDets = len(bboxes) = {len(boxes)}, got {scores.shape}"
        )
    if labels and scores.shape[1] != len(labels):
        raise ValueError(
            f"scores has {scores.shape[1]} columns; expected the detector's label count {len(labels)} "
            f"({list(labels)[:5]}...), in its label order"
        )
    if not np.isfinite(scores).all():
        raise ValueError("scores holds NaN or infinite values; accepted: finite values")
    check_unit_scores(scores, "scores holds values")
    if objectness is None:
        objectness = np.ones(len(boxes))
    elif not isinstance(objectness, np.ndarray) or objectness.shape not in ((len(boxes),), (len(boxes), 1)):
        raise ValueError(f"objectness must be None or a vector of nDets = {len(boxes)} values, got {objectness!r:.60}")
    elif not np.isfinite(objectness.astype(np.float64)).all():
        raise ValueError("objectness holds NaN or infinite values; accepted: finite values")
    check_unit_scores(objectness.astype(np.float64), "objectness holds values")
    return DetectionSet(boxes, scores.astype(np.float64), objectness.astype(np.float64).reshape(-1), labels)


def _checked_set(detections: DetectionSet, labels: tuple[Hashable, ...]) -> DetectionSet:
    scores = np.ones((len(detections.boxes), 1)) if detections.scores is None else detections.scores
    checked = _reference_set(detections.boxes, scores, detections.objectness, labels)
    return checked if detections.scores is not None else DetectionSet(checked.boxes, None, checked.objectness)


def _detector_labels(detector: DetectImageObjects, image: np.ndarray) -> tuple[Hashable, ...]:
    """The detector's labels: ``get_labels()``, else (smqtk's interface has none) the keys of its first detection on
    ``image`` (one forward pass); empty when it finds nothing there (then read off the perturbed images)."""
    labels = detection_labels(detector)
    if labels is None:
        found = next(iter(detector.detect_objects(np.asarray(image)[None])), [])
        labels = list(DetectionSet.from_detections(found).labels)
    return tuple(labels)


register_explainer(WCAMDetector, WaveletDetectorExplainer)  # a study gets its wavelet maps, not generate's pixels
