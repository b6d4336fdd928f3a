"""Detection studies: each item explains detections of an smqtk ``DetectImageObjects``.

The reference item explains the detections that the study's ``detections`` rule chooses among the detector's on the
reference image (:func:`~xaitk_wcam.utils.detections.select_detections`); a perturbation carries their boxes as nrtk
carries boxes (a geometric perturber moves them, or drops those that leave the image), and the detector's outcome on
an item is each detection's *survival*: its D-RISE similarity to the best match among the detector's detections on
the item's image (:func:`~xaitk_wcam.utils.detections.drise_similarity`). Rows: one per method and reference
detection, a detection the perturbation removed included.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects

from xaitk_wcam.interfaces.explanation import PIXEL
from xaitk_wcam.study.tasks.base import ModelTask, Targets
from xaitk_wcam.utils.checks import check_image
from xaitk_wcam.utils.detections import (
    DetectionSet,
    detect,
    detection_labels,
    drise_similarity,
    parse_detections_rule,
    select_detections,
)

#: Detections a detection study explains per reference image by default: the three best scores.
DEFAULT_DETECTIONS = 3
#: The metadata key under which a box handed to a perturber carries its target's position.
_POSITION = "xaitk_wcam_target"
#: The status of a target whose box a geometric perturber removed or emptied (it left the image).
BOX_REMOVED = "box removed by the perturber (it left the image)"
#: The box-aware map column: the share of the pixel map's absolute mass inside the detection's box.
BOX_ENERGY = "box_energy"
_BOX = ("box_x0", "box_y0", "box_x1", "box_y1")


class DetectionTargets(Targets):
    """The detections an item explains, and their survival on its image.

    :param positions: Each one's position among the reference item's targets (``0 ... R-1``).
    :param index: Each one's index among the detector's detections on the reference image (the ``detection``
        column).
    :param detections: Their boxes on the item's image, reference class scores and objectness.
    :param survival: Each one's D-RISE similarity on the item's image (``None`` for targets read back from a
        committed item, whose outcome is in its rows).
    """

    def __init__(
        self, positions: np.ndarray, index: np.ndarray, detections: DetectionSet, survival: np.ndarray | None = None
    ) -> None:
        self.positions = np.asarray(positions, dtype=np.int64)
        self.index = np.asarray(index, dtype=np.int64)
        self.detections, self.survival = detections, survival

    @property
    def explained(self) -> DetectionSet:
        return self.detections

    def single(self, index: int) -> DetectionSet:
        return self.detections.subset([index])

    def record(self) -> dict[str, Any]:
        d = self.detections
        detections = {
            "positions": self.positions.tolist(),
            "index": self.index.tolist(),
            "boxes": d.boxes.tolist(),
            "scores": None if d.scores is None else d.scores.tolist(),
            "objectness": d.objectness.tolist(),
            "labels": list(d.labels),
        }
        return {"target_index": None, "detections": detections}

    def describe(self, position: int) -> dict[str, Any]:
        """The explained detection: its index, label and score on the reference image."""
        label = self.detections.class_labels[position]
        return {
            "detection": int(self.index[position]),
            "detection_label": None if label is None else str(label),
            "detection_score": float(self.detections.confidence[position]),
        }

    def outcome(self, position: int) -> dict[str, Any]:
        """Its box on the item's image and its survival there, or :data:`BOX_REMOVED`."""
        found = np.flatnonzero(self.positions == position)
        if not found.size:
            return {"status": BOX_REMOVED, "survival": 0.0}
        box = self.detections.boxes[found[0]]
        assert self.survival is not None, "the outcome of targets read back from the store is in their rows"
        return {**dict(zip(_BOX, (float(v) for v in box), strict=True)), "survival": float(self.survival[found[0]])}

    def map_fields(self, index: int, maps: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """:data:`BOX_ENERGY` of the pixel map (``None`` without one)."""
        pixel = maps.get(PIXEL)
        return {BOX_ENERGY: None if pixel is None else box_energy(pixel, self.detections.boxes[index])}


def box_energy(pixel_map: np.ndarray, box: np.ndarray) -> float:
    """Share of the absolute mass of ``pixel_map`` on the pixels that ``box`` covers (xaitk-saliency's Shared
    Interest saliency coverage, ``compute_saliency_coverage``); 0 for an all-zero map."""
    from xaitk_saliency.utils.sal_metrics import compute_saliency_coverage

    height, width = pixel_map.shape
    # clamped to the image on both ends: a box outside it covers nothing (a negative end would wrap a numpy slice)
    x0, x1 = (int(np.clip(v, 0, width)) for v in (np.floor(box[0]), np.ceil(box[2])))
    y0, y1 = (int(np.clip(v, 0, height)) for v in (np.floor(box[1]), np.ceil(box[3])))
    mask = np.zeros((height, width), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return float(compute_saliency_coverage(np.abs(pixel_map), mask))


class DetectionTask(ModelTask):
    """A study of an smqtk ``DetectImageObjects`` (see the module doc)."""

    section = "detector"
    study_name = "detection"
    model_interface = "smqtk_detection.interfaces.detect_image_objects.DetectImageObjects"
    setting_keys = ("detections",)
    columns = ("detection", "detection_label", "detection_score", *_BOX, "survival")
    text_columns = ("detection_label",)
    label_columns = ("detection", "detection_label", "detection_score", *_BOX)
    map_columns = (BOX_ENERGY,)
    outcome_column = "survival"
    #: A detection is lost when its survival falls below half of its survival on the reference image (a box the
    #: perturbation removed has survival 0: lost).
    outcome_names = ("survival drop", "lost")
    legend = (
        ("detection, detection_label, detection_score", "the explained detection: its index among the "
         "detector's detections on the reference image, its label and score there"),
        ("box_x0, box_y0, box_x1, box_y1", "its box on the item's image (moved by geometric perturbers)"),
        ("survival", "its D-RISE similarity on the item's image (IoU x class-score cosine x objectness of the "
         "best match; 0 when the detector no longer finds it)"),
        (BOX_ENERGY, "share of the pixel map's absolute mass inside the box (Shared Interest coverage)"),
    )  # fmt: skip
    figure_profiles = True
    figure_name = "detection"

    def __init__(self, model: Any, settings: Mapping[str, Any]) -> None:
        super().__init__(model, settings)
        #: The detector's labels (``None`` for a detector without ``get_labels``: read off its score dicts).
        self.labels: list[Hashable] | None = detection_labels(model)

    @classmethod
    def resolve_settings(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        return {"detections": parse_detections_rule(config.get("detections", DEFAULT_DETECTIONS))}

    @classmethod
    def max_targets(cls, settings: Mapping[str, Any]) -> int:
        """The ``detections`` rule when it is a number of detections, else 1 (a score threshold: unknown before the
        detector runs)."""
        rule = settings.get("detections")
        return int(rule) if isinstance(rule, int) and not isinstance(rule, bool) else 1

    def run_model(self, images: Sequence[np.ndarray]) -> None:
        for answer in self.model.detect_objects(images):  # lazy answers: consume them
            _ = list(answer)

    def stand_in(self, image: np.ndarray) -> tuple[DetectImageObjects, DetectionSet] | None:
        """The detector's own detections on ``image`` (as many as :meth:`max_targets`), returned by a stand-in for every
        image; ``None`` when it finds none."""
        answers = self.model.detect_objects(np.asarray(image)[None])
        found = list(next(iter(answers), []))[: self.max_targets(self.settings)]
        if not found:
            return None
        return StandInDetector(found), DetectionSet.from_detections(found, self.labels)

    # -- items ----------------------------------------------------------------------------------------
    def reference(self, image: np.ndarray, label: Any) -> DetectionTargets:
        """The detections the ``detections`` rule chooses on the reference image (the detector runs once on it).

        :raises ValueError: The detector finds nothing to explain there.
        """
        found = detect(self.model, image, self.labels)
        index = select_detections(found, self.settings["detections"])
        chosen = found.subset(index)
        return DetectionTargets(np.arange(len(index)), index, chosen, drise_similarity(chosen, found))

    def follow(self, perturber: Any, image: np.ndarray, reference: Targets, label: Any) -> tuple[np.ndarray, Targets]:
        assert isinstance(reference, DetectionTargets)
        perturbed, carried = carry_boxes(perturber, image, reference)
        perturbed = check_image(np.asarray(perturbed))
        survival = np.zeros(0)
        if len(carried.positions):
            survival = drise_similarity(carried.detections, detect(self.model, perturbed, self.labels))
        return perturbed, DetectionTargets(carried.positions, carried.index, carried.detections, survival)

    @classmethod
    def targets_from_record(cls, record: Mapping[str, Any]) -> DetectionTargets:
        data = record["detections"]
        scores = None if data["scores"] is None else np.asarray(data["scores"], dtype=np.float64)
        boxes = np.asarray(data["boxes"], dtype=np.float64).reshape(-1, 4)
        found = DetectionSet(boxes, scores, np.asarray(data["objectness"], dtype=np.float64), tuple(data["labels"]))
        return DetectionTargets(np.asarray(data["positions"]), np.asarray(data["index"]), found)

    # -- the report: one sample and one maps figure per explained detection --------------------------------
    @classmethod
    def sample_ids(cls, frame: Any) -> Any:
        """``image_id`` becomes ``<image_id>#<detection>``: the curves average over detections."""
        if not len(frame):
            return frame
        out = frame.copy()
        detections = frame["detection"].astype(float)
        out["image_id"] = [f"{i}#{d:g}" for i, d in zip(frame["image_id"], detections, strict=True)]
        return out

    @classmethod
    def figure_targets(cls, record: Mapping[str, Any]) -> list[int | None]:
        return list((record.get("detections") or {}).get("index", []))

    @classmethod
    def rows_of(cls, rows: Sequence[Mapping[str, Any]], target: int | None) -> list[Mapping[str, Any]]:
        return [row for row in rows if row.get("detection") == target]

    @classmethod
    def map_of(cls, record: Mapping[str, Any], stored: np.ndarray | None, target: int | None) -> np.ndarray | None:
        """The item's map of detection ``target`` from its stack (one map per detection the item explained)."""
        index = (record.get("detections") or {}).get("index", [])
        return None if stored is None or target not in index else stored[index.index(target)]

    @classmethod
    def figure_title(cls, row: Mapping[str, Any]) -> list[str]:
        return [] if row.get("survival") is None else [f"survival {row['survival']:.2f}"]

    @classmethod
    def figure_subject(cls, row: Mapping[str, Any], target: int | None) -> str:
        return f"detection #{target}: {row.get('detection_label')}, score {row.get('detection_score', 0):.2f}"

    @classmethod
    def figure_box(cls, row: Mapping[str, Any]) -> list[float] | None:
        return None if row.get("box_x0") is None else [row[key] for key in _BOX]


def carry_boxes(perturber: Any, image: np.ndarray, reference: DetectionTargets) -> tuple[np.ndarray, DetectionTargets]:
    """``perturber`` on ``image`` and the reference boxes, as nrtk passes boxes; the targets whose box it returned
    (each tagged with its position), with the returned box. A box returned empty (no area: nrtk's translation
    clamps a box that left the image to a line) counts as removed, like one the perturber dropped, unless it had no
    area on the reference image either (a degenerate detection is followed, not declared removed).

    :raises ValueError: The perturber returned a box it was not given.
    """
    from smqtk_image_io.bbox import AxisAlignedBoundingBox

    boxes = [
        (AxisAlignedBoundingBox(box[:2], box[2:]), {_POSITION: int(p)})
        for p, box in zip(reference.positions, reference.detections.boxes, strict=True)
    ]
    perturbed, moved = perturber(image=np.copy(image), boxes=boxes)
    if moved is None:
        return perturbed, reference
    moved = list(moved)
    positions = [meta.get(_POSITION) for _, meta in moved]
    if any(p not in range(len(reference.positions)) for p in positions):
        raise ValueError(f"{type(perturber).__name__} returned boxes it was not given (their metadata changed)")
    had_area = (reference.detections.boxes[:, 2:] > reference.detections.boxes[:, :2]).all(axis=1)
    kept = [
        (box, meta)
        for box, meta in moved
        if (np.asarray(box.max_vertex) > np.asarray(box.min_vertex)).all() or not had_area[meta[_POSITION]]
    ]
    moved, positions = kept, [meta[_POSITION] for _, meta in kept]
    keep = np.asarray(positions, dtype=np.int64)
    subset = reference.detections.subset(keep)
    new_boxes = np.array([[*box.min_vertex, *box.max_vertex] for box, _ in moved], dtype=np.float64).reshape(-1, 4)
    moved_set = DetectionSet(new_boxes, subset.scores, subset.objectness, subset.labels)
    return perturbed, DetectionTargets(reference.positions[keep], reference.index[keep], moved_set)


class StandInDetector(DetectImageObjects):
    """The calibration's stand-in for a detector: the same detections on every image, their scores moved by the
    image's mean colour, no network.

    :param detections: ``(AxisAlignedBoundingBox, {label: score})`` pairs (the real detector's on the first image).
    """

    def __init__(self, detections: list[tuple[Any, dict[Any, float]]]) -> None:
        self.detections = detections

    def detect_objects(self, img_iter: Iterable[np.ndarray]) -> Iterable[list[tuple[Any, dict[Any, float]]]]:
        for image in img_iter:
            shift = 0.5 + 0.5 * np.cos(float(np.mean(image)) / 25.0)
            yield [(box, {label: score * shift for label, score in scores.items()}) for box, scores in self.detections]

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def is_usable(cls) -> bool:
        """Never: an internal stand-in, not a plugin a config may name (smqtk's discovery leaves it out)."""
        return False
