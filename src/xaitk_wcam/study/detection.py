"""Work items of a detection study: the detections of each reference image, followed under every perturbation.

A detection study (a config with a ``detector``) explains *detections*, not classes. Its reference item runs the
detector on the image and keeps the detections the config's ``detections`` chooses
(:func:`~xaitk_wcam.impls.gen_object_detector_blackbox_sal.wcam_detector.select_detections`: all, the top K, a
label): the :class:`Targets`, stored with the item so that a resumed study reads them back. Every other item of
the image follows the same detections:

- a perturbed item hands their boxes to the perturber as nrtk does (``perturb(image=..., boxes=...)``): geometric
  perturbers return them moved (or without a box that left the image), photometric ones as they were;
- the detector runs on the item's image and each target's ``survival`` is its D-RISE similarity to the best
  match there (:func:`~xaitk_wcam.utils.detections.drise_similarity`; 0 when it vanished);
- each method explains all targets at once (one map per detection, through its
  :class:`~xaitk_wcam.interfaces.explainer.DetectorExplainer`), and every row (one per method and detection)
  gets the configured metrics, the comparisons with the reference map of the same detection, the scale shares and
  :data:`~xaitk_wcam.study.plan.BOX_ENERGY` (xaitk-saliency's ``compute_saliency_coverage`` of the absolute
  pixel map over the box);
- the noise floor explains the reference image again with each seeded method's seed plus one.

Cost per item: one detector pass on the item's image plus each method's own passes (WCAMDetector:
``nb_design * (grid_size**2 + 2)`` whatever the number of detections).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from xaitk_wcam.interfaces.explainer import Explainer
from xaitk_wcam.interfaces.explanation import PIXEL
from xaitk_wcam.study.context import StudyContext
from xaitk_wcam.study.items import OK, ImageUnit, Item, Reference
from xaitk_wcam.study.plan import BOX_ENERGY, NOISE_FLOOR, MetricColumn
from xaitk_wcam.study.scoring import scale_shares, score_maps
from xaitk_wcam.study.store import ItemArrays
from xaitk_wcam.utils.checks import check_image
from xaitk_wcam.utils.detections import DetectionSet, drise_similarity
from xaitk_wcam.utils.errors import error_text

#: The metadata key under which a box handed to a perturber carries its target's position.
_POSITION = "xaitk_wcam_target"
#: The status of a target whose box a geometric perturber removed or emptied (it left the image).
BOX_REMOVED = "box removed by the perturber (it left the image)"


@dataclass(frozen=True)
class Targets:
    """The detections an item explains.

    :param positions: Each one's position among the reference item's targets (``0 ... R-1``).
    :param index: Each one's index among the detector's detections on the reference image (the ``detection``
        column).
    :param detections: Their boxes on the item's image, reference class scores and objectness.
    """

    positions: np.ndarray
    index: np.ndarray
    detections: DetectionSet

    def to_json(self) -> dict[str, Any]:
        """The item record's ``detections`` entry."""
        d = self.detections
        return {
            "positions": self.positions.tolist(),
            "index": self.index.tolist(),
            "boxes": d.boxes.tolist(),
            "scores": None if d.scores is None else d.scores.tolist(),
            "objectness": d.objectness.tolist(),
            "labels": list(d.labels),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Targets:
        """The targets of an item record's ``detections`` entry."""
        scores = None if data["scores"] is None else np.asarray(data["scores"], dtype=np.float64)
        boxes = np.asarray(data["boxes"], dtype=np.float64).reshape(-1, 4)
        found = DetectionSet(boxes, scores, np.asarray(data["objectness"], dtype=np.float64), tuple(data["labels"]))
        return cls(np.asarray(data["positions"], dtype=np.int64), np.asarray(data["index"], dtype=np.int64), found)


def detection_item(ctx: StudyContext, unit: ImageUnit, p_index: int, image: np.ndarray, ref: Reference | None) -> Item:
    """Item ``p_index`` of a detection study's image: the reference, a perturbation or the noise floor.

    :raises ValueError: The detector finds nothing to explain on the reference image (an error row for the image).
    """
    from xaitk_wcam.impls.gen_object_detector_blackbox_sal.wcam_detector import select_detections

    if p_index == 0:
        found = detect(ctx, image)
        if not len(found):
            raise ValueError("the detector found no detection on the reference image: nothing to explain")
        index = select_detections(found, ctx.plan.detections)
        targets = Targets(np.arange(len(index)), index, found.subset(index))
        return explained_item(ctx, unit, 0, image, targets, None, found)
    assert ref is not None and ref.detections is not None
    reference = Targets.from_json(ref.detections)
    if p_index == ctx.plan.noise_floor_index:
        return noise_floor_item(ctx, unit, image, reference, ref)
    perturbed, targets = perturb(ctx.perturber(p_index), image, reference)
    return explained_item(ctx, unit, p_index, check_image(np.asarray(perturbed)), targets, ref)


def detect(ctx: StudyContext, image: np.ndarray) -> DetectionSet:
    """The detector's detections on one image."""
    found = next(iter(ctx.classifier.detect_objects(image[None])), [])
    return DetectionSet.from_detections(found, ctx.labels)


def perturb(perturber: Any, image: np.ndarray, reference: Targets) -> tuple[np.ndarray, Targets]:
    """``perturber`` on ``image`` and the reference boxes, as nrtk passes boxes; the targets whose box it returned
    (each tagged with its position), with the returned box. A box returned empty (no area: nrtk's translation
    clamps a box that left the image to a line) counts as removed, like one the perturber dropped.

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
    moved = [(box, meta) for box, meta in moved if (np.asarray(box.max_vertex) > np.asarray(box.min_vertex)).all()]
    positions = [meta.get(_POSITION) for _, meta in moved]
    if any(p not in range(len(reference.positions)) for p in positions):
        raise ValueError(f"{type(perturber).__name__} returned boxes it was not given (their metadata changed)")
    keep = np.asarray(positions, dtype=np.int64)
    subset = reference.detections.subset(keep)
    new_boxes = np.array([[*box.min_vertex, *box.max_vertex] for box, _ in moved], dtype=np.float64).reshape(-1, 4)
    moved_set = DetectionSet(new_boxes, subset.scores, subset.objectness, subset.labels)
    return perturbed, Targets(reference.positions[keep], reference.index[keep], moved_set)


def explained_item(
    ctx: StudyContext,
    unit: ImageUnit,
    p_index: int,
    image: np.ndarray,
    targets: Targets,
    ref: Reference | None,
    found: DetectionSet | None = None,
) -> Item:
    """The reference or a perturbed item: each target's survival, then every method's maps and rows.

    :param found: The detector's detections on ``image`` when already known (the reference item's), so the
        detector does not run on it twice.
    """
    if found is None and len(targets.positions):
        found = detect(ctx, image)
    survival = drise_similarity(targets.detections, found) if len(targets.positions) else np.zeros(0)
    reference = targets if ref is None else Targets.from_json(ref.detections)  # type: ignore[arg-type]
    item_label = ctx.plan.item_label(p_index)
    rows, maps = [], {}
    for m, method in enumerate(ctx.plan.methods):
        ref_maps = None if ref is None else ref.maps.get(method.name, {})
        fields, maps[method.name] = detection_fields(
            ctx, method.name, ctx.explainer(method.name), image, targets, ref_maps, ctx.plan.columns, shares=True
        )
        for position in reference.positions:  # every reference detection, a removed box included
            row = {"_method_index": m, "image_id": unit.image_id, "perturbation": item_label, "method": method.name,
                   **target_fields(reference, position)}  # fmt: skip
            found = np.flatnonzero(targets.positions == position)
            if found.size:
                row.update(box_fields(targets.detections.boxes[found[0]]), survival=float(survival[found[0]]))
                row.update(fields[found[0]])
            else:
                row.update(status=BOX_REMOVED, survival=0.0)
            rows.append(row)
    body = {"rows": rows, "target_index": None, "item_status": OK, "detections": targets.to_json()}
    return Item(body, ItemArrays(image, {name: found for name, found in maps.items() if found}))


def noise_floor_item(ctx: StudyContext, unit: ImageUnit, image: np.ndarray, reference: Targets, ref: Reference) -> Item:
    """Each seeded method explains the reference detections on the reference image again with its seed plus one;
    the comparison metrics score each map against the reference map of the same detection."""
    comparisons = [c for c in ctx.plan.columns if c.kind == "comparison"]
    rows, maps = [], {}
    for m, method in enumerate(ctx.plan.methods):
        if not method.seeded:
            continue
        explainer = ctx.explainer(method.name).second_draw()
        fields, maps[method.name] = detection_fields(
            ctx, method.name, explainer, image, reference, ref.maps.get(method.name, {}), comparisons, shares=False
        )
        for position, values in zip(reference.positions, fields, strict=True):
            rows.append({"_method_index": m, "image_id": unit.image_id, "perturbation": NOISE_FLOOR,
                         "method": method.name, **target_fields(reference, position), **values})  # fmt: skip
    body = {"rows": rows, "target_index": None, "item_status": OK, "detections": reference.to_json()}
    return Item(body, ItemArrays(None, {name: found for name, found in maps.items() if found}))


def target_fields(reference: Targets, position: int) -> dict[str, Any]:
    """The columns that name a reference detection: its index, label and score on the reference image."""
    d = reference.detections
    label = d.class_labels[position]
    return {
        "detection": int(reference.index[position]),
        "detection_label": None if label is None else str(label),
        "detection_score": float(d.confidence[position]),
    }


def box_fields(box: np.ndarray) -> dict[str, float]:
    """The ``box_*`` columns of one ``(x0, y0, x1, y1)`` box."""
    return dict(zip(("box_x0", "box_y0", "box_x1", "box_y1"), (float(v) for v in box), strict=True))


def box_energy(pixel_map: np.ndarray, box: np.ndarray) -> float:
    """Share of the absolute mass of ``pixel_map`` on the pixels that ``box`` covers (xaitk-saliency's Shared
    Interest saliency coverage, ``compute_saliency_coverage``); 0 for an all-zero map."""
    from xaitk_saliency.utils.sal_metrics import compute_saliency_coverage

    height, width = pixel_map.shape
    x0, y0 = max(int(np.floor(box[0])), 0), max(int(np.floor(box[1])), 0)
    x1, y1 = min(int(np.ceil(box[2])), width), min(int(np.ceil(box[3])), height)
    mask = np.zeros((height, width), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return float(compute_saliency_coverage(np.abs(pixel_map), mask))


def detection_fields(
    ctx: StudyContext,
    name: str,
    explainer: Explainer,
    image: np.ndarray,
    targets: Targets,
    ref_maps: dict[str, np.ndarray] | None,
    columns: list[MetricColumn] | tuple[MetricColumn, ...],
    *,
    shares: bool,
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """One method on one item: its maps of every target (space -> ``R x H x W``) and, per target, the row's fields:
    ``columns``' values (comparisons against ``ref_maps`` at the target's position), :data:`BOX_ENERGY`, the scale
    shares (with ``shares``), ``status`` and ``seconds`` (the method's time for all targets).

    :param ref_maps: The method's reference maps (space -> ``R x H x W``), or ``None`` on the reference item.
    """
    start = time.perf_counter()
    n = len(targets.positions)
    try:
        if not n:
            return [], {}
        explainer.check_memory(image.shape, ctx.plan.memory_budget_mb)
        explanation = explainer.explain(image, ctx.classifier, targets.detections)
        maps = {space: np.asarray(explanation.maps_in(space)) for space in explanation.spaces}
        level_shares = explanation.level_shares() if shares else None
    except Exception as err:
        return [{"status": error_text(err), "seconds": time.perf_counter() - start}] * n, {}
    out = []
    for r, position in enumerate(targets.positions):
        one = {space: stack[r] for space, stack in maps.items()}
        ref_one = None if ref_maps is None else {space: stack[position] for space, stack in ref_maps.items()}
        values, errors = score_maps(ctx.plan, ctx.metrics, None, name, columns, one, ref_one, image, 0)
        fields: dict[str, Any] = dict(values)
        if shares:
            fields[BOX_ENERGY] = box_energy(one[PIXEL], targets.detections.boxes[r]) if PIXEL in one else None
            fields.update(scale_shares(None if level_shares is None else level_shares[r]))
        fields["status"] = OK if not errors else "; ".join(errors)
        out.append(fields)
    seconds = time.perf_counter() - start
    return [{**fields, "seconds": seconds} for fields in out], maps
