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

import inspect
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects
from xaitk_saliency.interfaces.gen_object_detector_blackbox_sal import GenerateObjectDetectorBlackboxSaliency

from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM, WCAMResult
from xaitk_wcam.interfaces.explainer import WaveletDetectorExplainer, register_explainer
from xaitk_wcam.interfaces.explanation import PIXEL, WAVELET
from xaitk_wcam.utils.checks import check_boxes, check_detector, check_image
from xaitk_wcam.utils.detections import (
    ALL,
    DetectionSet,
    batch_similarity,
    check_unit_scores,
    detect,
    detection_labels,
    parse_detections_rule,
    read_detections,
    select_detections,
)

__all__ = ["DetectionSimilarity", "ReferenceDetection", "WCAMDetector", "select_detections"]


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


#: WCAM's keywords that :class:`WCAMDetector` takes (all but ``output``), in WCAM's order, with WCAM's defaults.
WCAM_KEYWORDS: dict[str, inspect.Parameter] = {
    name: parameter
    for name, parameter in inspect.signature(WCAM.__init__).parameters.items()
    if name not in ("self", "output")
}


def with_wcam_keywords(init: Callable[..., None]) -> Callable[..., None]:
    """Give ``init`` (``self, *, <own keywords>, **wcam_keywords``) the signature ``self, *, <WCAM's keywords>, <own
    keywords>``: smqtk's configuration (``get_default_config``), a study config's parameter check, ``help()`` and
    the API docs then list WCAM's keywords and defaults, read from WCAM itself."""
    own = inspect.signature(init).parameters
    mine = [p for name, p in own.items() if name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD]
    init.__signature__ = inspect.Signature([own["self"], *WCAM_KEYWORDS.values(), *mine])  # type: ignore[attr-defined]
    return init


class WCAMDetector(GenerateObjectDetectorBlackboxSaliency):
    """WCAM for object detectors (see the module docstring for the method and the cost).

    ``generate(ref_image, bboxes, scores, blackbox, objectness=None)`` (xaitk's interface) returns the
    ``nDets x H x W`` pixel maps in ``[0, 1]`` of the given reference detections; ``explain(ref_image, detector,
    detections=...)`` returns the whole :class:`~xaitk_wcam.WCAMResult` (wavelet and pixel maps, scale profile,
    stability), whose labels are the explained detections (:class:`ReferenceDetection`).

    :param wcam_keywords: :class:`~xaitk_wcam.WCAM`'s keywords, all but ``output`` (``wavelet``, ``levels``,
        ``grid_size``, ``nb_design``, ``estimator``, ``batch_size``: perturbed images per ``detect_objects`` call,
        ``seed``, ``max_evaluations``, ``tolerance``, ``progress``: a bar of the detector's forward passes, not part
        of :meth:`get_config`), with WCAM's defaults; the signature lists them (one definition: WCAM's,
        :func:`with_wcam_keywords`).
    :param detections: Which of the detector's detections on the reference image :meth:`explain` explains by
        default: ``"all"``, an int ``K`` (the ``K`` best scores) or a class label (every detection of it).
    :raises TypeError: A keyword WCAM does not take (``output`` included: the maps are pixel maps first).
    """

    @with_wcam_keywords
    def __init__(self, *, detections: int | str = ALL, **wcam_keywords: Any) -> None:
        unknown = sorted(set(wcam_keywords) - set(WCAM_KEYWORDS))
        if unknown:
            raise TypeError(f"WCAMDetector has no parameter {unknown[0]!r}; accepted: {[*WCAM_KEYWORDS, 'detections']}")
        #: The WCAM that does the work (pixel maps first, as xaitk's detector interface returns).
        self.wcam = WCAM(**wcam_keywords, output="spatial")
        self.wcam.progress_label = type(self).__name__  # its progress bar names the detector method
        self.detections = parse_detections_rule(detections)

    @classmethod
    def get_default_config(cls) -> dict[str, Any]:
        """The constructor's defaults without ``progress`` (as :class:`~xaitk_wcam.WCAM`'s)."""
        config = super().get_default_config()
        config.pop("progress", None)
        return config

    @property
    def progress(self) -> bool | None:
        """The ``progress`` keyword (``None``: auto)."""
        return self.wcam.progress

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
        reference, index = self._reference(image, detector, self.detections if detections is None else detections)
        return self._explain(image, detector, reference, index)

    def _reference(
        self, image: np.ndarray, detector: DetectImageObjects, which: Any
    ) -> tuple[DetectionSet, np.ndarray]:
        """The checked reference detections that ``which`` names (see :meth:`explain`) and their indices.

        :raises TypeError: ``which`` of an unknown kind.
        :raises ValueError: Malformed boxes or scores, no detection to explain, an unknown label.
        """
        if isinstance(which, DetectionSet):
            labels = which.labels or (() if which.scores is None else _detector_labels(detector, image))
            return _checked_set(which, labels), np.arange(len(which))
        if isinstance(which, np.ndarray) and which.dtype.kind not in "USO":
            boxes = check_boxes(which, "detections")
            return DetectionSet(boxes, None, np.ones(len(boxes))), np.arange(len(boxes))
        if isinstance(which, (str, int, np.integer)) and not isinstance(which, bool):
            every = detect(detector, image, detection_labels(detector))
            index = select_detections(every, which)
            return every.subset(index), index
        raise TypeError(
            "detections must be None, 'all', an int K, a class label, an N x 4 array of boxes or a DetectionSet; "
            f"got {type(which).__name__}"
        )

    def _explain(
        self, image: np.ndarray, detector: DetectImageObjects, reference: DetectionSet, index: np.ndarray
    ) -> WCAMResult:
        """WCAM on the detector seen as a classifier of the ``reference`` detections (inputs checked)."""
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
        return self._explain(check_image(ref_image), blackbox, reference, np.arange(len(reference))).maps


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
