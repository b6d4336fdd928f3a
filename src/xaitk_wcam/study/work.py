"""Work items of a study: one image x one perturbation (the reference included), all methods and metrics.

The unit of dispatch is one *image* (:class:`ImageUnit`): its reference item first, then each perturbation,
then the noise floor, each item committed to the :class:`~xaitk_wcam.study.store.ResultsStore` before the next
starts (:func:`run_unit`). The reference map of each method is therefore computed once per image and reused by
every comparison; when a resumed study finds the reference item already committed, its maps are read back from
``maps/`` (stored losslessly), so the comparisons are the same numbers as in an uninterrupted run.

Every method is called through its :class:`~xaitk_wcam.interfaces.explainer.Explainer`, which gives the map of
the target class whatever the kind of generator (:func:`method_fields`); each metric scores the map in a space
it accepts (:mod:`.scoring`).

Items of one image: the reference (index 0), each perturbation, and the noise floor (last): each seeded method
explains the reference image again with its seed plus one and the comparison metrics score the two maps.

A detection study (a config with a ``detector``) computes its items in :mod:`.detection`: the same items, with one
row per method and reference detection.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from xaitk_wcam.interfaces.explainer import DETECTOR, Explainer, target_row
from xaitk_wcam.study.context import StudyContext
from xaitk_wcam.study.detection import detection_item
from xaitk_wcam.study.items import OK, ImageUnit, Item, Reference
from xaitk_wcam.study.plan import NOISE_FLOOR, MetricColumn, StudyPlan
from xaitk_wcam.study.scoring import scale_shares, score_maps
from xaitk_wcam.study.store import ItemArrays, ResultsStore, item_key
from xaitk_wcam.utils.checks import check_image
from xaitk_wcam.utils.errors import error_text


def image_hash(image: np.ndarray | None) -> str | None:
    """SHA-256 of an image's shape, dtype and bytes (``None`` for no image)."""
    if image is None:
        return None
    digest = hashlib.sha256(f"{image.shape}{image.dtype}".encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()


def run_unit(
    ctx: StudyContext,
    store: ResultsStore,
    unit: ImageUnit,
    on_commit: Callable[[str], None] | None = None,
) -> list[str]:
    """Compute and commit the items ``unit.todo`` of one image, reference first.

    Errors of the image (unreadable, wrong shape), of the perturber or of the classifier are recorded in the
    ``status`` of the item's rows, and the study goes on; a perturbed item of an image whose reference failed
    records ``reference failed: ...``.

    :param ctx: The worker's context.
    :param store: Output folder.
    :param unit: The image and the perturbation indices to do.
    :param on_commit: Called with each committed key (progress).
    :return: Committed keys, in order.
    """
    committed: list[str] = []
    image, image_error = _checked_image(unit)
    ref: Reference | None = None
    for p_index in unit.todo:
        if image_error is None and p_index > 0 and ref is None:
            ref = load_reference(store, unit)
        status = image_error
        if status is None and p_index > 0 and ref.status != OK:  # type: ignore[union-attr]
            status = f"reference failed: {ref.status}"  # type: ignore[union-attr]
        if status is None:
            try:
                item = compute_item(ctx, unit, p_index, image, ref)  # type: ignore[arg-type]
            except Exception as err:
                status = error_text(err)
        if status is not None:
            item = failed_item(ctx.plan, unit, p_index, status)
        if p_index == 0:
            ref = Reference.of(item.body, item.arrays)
        committed.append(commit_item(store, ctx.plan, unit, p_index, item))
        if on_commit is not None:
            on_commit(committed[-1])
    return committed


def commit_item(store: ResultsStore, plan: StudyPlan, unit: ImageUnit, p_index: int, item: Item) -> str:
    """Commit item ``p_index`` of ``unit``'s image, computed or failed (the one way items reach the store);
    return its key."""
    key = item_key(unit.image_index, p_index)
    store.commit(key, item_record(plan, unit, p_index, item.body), item.arrays)
    return key


def _checked_image(unit: ImageUnit) -> tuple[np.ndarray | None, str | None]:
    if unit.error is not None:
        return None, unit.error
    try:
        return check_image(unit.image), None
    except (TypeError, ValueError) as err:
        return None, error_text(err)


def load_reference(store: ResultsStore, unit: ImageUnit) -> Reference:
    """The committed reference item of ``unit``'s image (a resumed study)."""
    key = item_key(unit.image_index, 0)
    record = store.load_item(key)
    if record is None:
        return Reference("reference item missing")
    return Reference.of(record, store.load_arrays(key))


def compute_item(ctx: StudyContext, unit: ImageUnit, p_index: int, image: np.ndarray, ref: Reference | None) -> Item:
    """Item ``p_index`` of the image: the reference, a perturbation or the noise floor."""
    if ctx.plan.model_kind == DETECTOR:
        return detection_item(ctx, unit, p_index, image, ref)
    if p_index == 0:
        return classified_item(ctx, unit, 0, image, None)
    assert ref is not None
    if p_index == ctx.plan.noise_floor_index:
        return noise_floor_item(ctx, unit, image, ref)
    perturbed, _ = ctx.perturber(p_index)(image=np.copy(image))
    return classified_item(ctx, unit, p_index, check_image(np.asarray(perturbed)), ref)


def classified_item(ctx: StudyContext, unit: ImageUnit, p_index: int, image: np.ndarray, ref: Reference | None) -> Item:
    """The reference or a perturbed item: the prediction, then every method's map and metrics for the target."""
    confidences = ctx.confidences(image)
    predicted = int(np.argmax(confidences))
    target = ctx.target_index(confidences, unit.label, None if ref is None else ref.target_index)
    common = {
        "predicted_label": ctx.labels[predicted],
        "predicted_confidence": float(confidences[predicted]),
        "target_label": ctx.labels[target],
        "target_confidence": float(confidences[target]),
    }
    rows, maps = [], {}
    for m, method in enumerate(ctx.plan.methods):
        ref_maps = None if ref is None else ref.maps.get(method.name, {})
        fields, maps[method.name] = method_fields(
            ctx, method.name, ctx.explainer(method.name), image, target, ref_maps, ctx.plan.columns, shares=True
        )
        row = {"image_id": unit.image_id, "perturbation": ctx.plan.item_label(p_index), "method": method.name}
        rows.append({"_method_index": m, **row, **common, **fields})
    body = {"rows": rows, "target_index": target, "item_status": OK}
    return Item(body, ItemArrays(image, {name: found for name, found in maps.items() if found}))


def noise_floor_item(ctx: StudyContext, unit: ImageUnit, image: np.ndarray, ref: Reference) -> Item:
    """The noise floor of one image: each seeded method explains the reference image again with its seed plus one,
    and the comparison metrics score that map against the reference map."""
    comparisons = [c for c in ctx.plan.columns if c.kind == "comparison"]
    rows, maps = [], {}
    for m, method in enumerate(ctx.plan.methods):
        if not method.seeded:
            continue
        explainer = ctx.explainer(method.name).second_draw()
        ref_maps = ref.maps.get(method.name, {})
        fields, maps[method.name] = method_fields(
            ctx, method.name, explainer, image, int(ref.target_index), ref_maps, comparisons, shares=False
        )  # type: ignore[arg-type]
        rows.append({"_method_index": m, "image_id": unit.image_id, "perturbation": NOISE_FLOOR, "method": method.name,
                     **fields})  # fmt: skip
    body = {"rows": rows, "target_index": ref.target_index, "item_status": OK}
    return Item(body, ItemArrays(None, {name: found for name, found in maps.items() if found}))


def method_fields(
    ctx: StudyContext,
    name: str,
    explainer: Explainer,
    image: np.ndarray,
    target: int,
    ref_maps: dict[str, np.ndarray] | None,
    columns: list[MetricColumn] | tuple[MetricColumn, ...],
    *,
    shares: bool,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """One method on one item: the target's maps (space -> map) and the row's fields: ``columns``' values, the
    scale shares (with ``shares``), ``status`` (``ok``, or what failed) and ``seconds``.

    :param ref_maps: The method's reference maps, or ``None`` on the reference item.
    """
    start = time.perf_counter()
    fields: dict[str, Any] = {}
    try:
        explainer.check_memory(image.shape, ctx.plan.memory_budget_mb)
        explanation = explainer.explain(image, ctx.classifier, target)
        row = target_row(explanation, ctx.labels[target])
        maps = {space: np.asarray(explanation.maps_in(space)[row]) for space in explanation.spaces}
        if shares:
            level_shares = explanation.level_shares()
            fields.update(scale_shares(None if level_shares is None else level_shares[row]))
    except Exception as err:
        return {"status": error_text(err), "seconds": time.perf_counter() - start}, {}
    values, errors = score_maps(ctx.plan, ctx.metrics, ctx.classifier, name, columns, maps, ref_maps, image, target)
    fields.update(values)
    fields["status"] = OK if not errors else "; ".join(errors)
    fields["seconds"] = time.perf_counter() - start
    return fields, maps


def failed_item(plan: StudyPlan, unit: ImageUnit, p_index: int, status: str) -> Item:
    """An item that could not be computed: one row per method, all with ``status``."""
    rows = [
        {"_method_index": m, "image_id": unit.image_id, "perturbation": plan.item_label(p_index), "method": name,
         "status": status}
        for m, name in enumerate(plan.method_names)
    ]  # fmt: skip
    return Item({"rows": rows, "item_status": status})


def item_record(plan: StudyPlan, unit: ImageUnit, p_index: int, body: Mapping[str, Any]) -> dict[str, Any]:
    """An item's record: ``body`` (its rows and status) with the item's metadata."""
    meta: dict[str, Any] = {
        "key": item_key(unit.image_index, p_index),
        "config_hash": plan.digest,
        "image_index": unit.image_index,
        "image_id": unit.image_id,
        "image_hash": unit.image_hash,
        "perturbation_index": p_index,
        "perturbation": plan.item_label(p_index),
        "group": None,
        "axis": None,
        "strength": None,
    }
    if 0 < p_index <= len(plan.perturbations):
        p = plan.perturbations[p_index - 1]
        meta.update({"group": p.group, "axis": p.axis, "strength": p.strength})
    return {**meta, **body}
