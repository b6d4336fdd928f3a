"""The data of a study's work: an image to process (:class:`ImageUnit`), a computed item (:class:`Item`), what the
other items of an image need from its reference item (:class:`Reference`), and an item's record
(:func:`item_record`, :func:`commit_item`: the one way items reach the store)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xaitk_wcam.study.plan import StudyPlan
from xaitk_wcam.study.store import OK, ItemArrays, ResultsStore, item_key
from xaitk_wcam.study.tasks import ModelTask, Targets

__all__ = [
    "OK",
    "ImageUnit",
    "Item",
    "Reference",
    "attach_reference",
    "commit_item",
    "failed_item",
    "image_hash",
    "item_record",
]


@dataclass
class ImageUnit:
    """One image to process, with the perturbation indices still to do.

    :param image_index: Position of the image in the source.
    :param image_id: The source's id of the image.
    :param image: ``H x W [x C]`` array (``None`` when the source could not read it).
    :param label: Ground-truth label from the source, or ``None``.
    :param todo: Perturbation indices to compute, ascending (``0`` is the reference).
    :param error: Why the source could not give the image, if it could not.
    :param image_hash: SHA-256 of the image's shape, dtype and bytes (a resumed study recomputes an image that
        changed under its id).
    :param reference_item: The committed reference item (its record and arrays) when the unit's items to do come
        after it (a resumed or retried image): read from the store by the study's process
        (:func:`attach_reference`), so that a worker never reads ``OUT_DIR``.
    """

    image_index: int
    image_id: str
    image: np.ndarray | None
    label: Any
    todo: list[int]
    error: str | None = None
    image_hash: str | None = None
    reference_item: tuple[Mapping[str, Any], ItemArrays] | None = None


def image_hash(image: np.ndarray | None) -> str | None:
    """SHA-256 of an image's shape, dtype and bytes (``None`` for no image)."""
    if image is None:
        return None
    digest = hashlib.sha256(f"{image.shape}{image.dtype}".encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()


@dataclass
class Item:
    """One computed item: the body of its record (``rows``, ``item_status`` and its targets' fields) and its arrays."""

    body: dict[str, Any]
    arrays: ItemArrays = field(default_factory=ItemArrays)


@dataclass
class Reference:
    """What the other items of an image need from its reference item: its status, targets and maps.

    :param status: The reference item's status (the other items fail with it when it is not ``ok``).
    :param targets: Its targets, as the store holds them (:meth:`ModelTask.targets_from_record`).
    :param maps: Method -> space -> one map per target (the stack of :meth:`ModelTask.map_stack`).
    :param image: The reference image (what relative stability metrics compare an item's image with).
    """

    status: str
    targets: Targets | None = None
    maps: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    image: np.ndarray | None = None

    @classmethod
    def of(cls, task: type[ModelTask], body: Mapping[str, Any], arrays: ItemArrays) -> Reference:
        """The reference of a computed or committed reference item (read back as the store holds it, so that a
        resumed study compares with exactly what an uninterrupted one does)."""
        status = str(body.get("item_status"))
        if status != OK:
            return cls(status)
        maps = {
            method: {space: task.map_stack(m) for space, m in spaces.items()} for method, spaces in arrays.maps.items()
        }
        return cls(status, task.targets_from_record(body), maps, arrays.image)

    @classmethod
    def committed(cls, task: type[ModelTask], unit: ImageUnit) -> Reference:
        """The reference of ``unit``'s image as committed before the unit started (:attr:`ImageUnit.reference_item`,
        attached by :func:`attach_reference`)."""
        if unit.reference_item is None:
            return cls("reference item missing")
        record, arrays = unit.reference_item
        return cls.of(task, record, arrays)

    @classmethod
    def load(cls, task: type[ModelTask], store: ResultsStore, image_index: int) -> Reference:
        """The committed reference item of image ``image_index`` (a resumed study)."""
        key = item_key(image_index, 0)
        record = store.load_item(key)
        if record is None:
            return cls("reference item missing")
        return cls.of(task, record, store.load_arrays(key))


def attach_reference(store: ResultsStore, unit: ImageUnit) -> ImageUnit:
    """Give ``unit`` its committed reference item (record and arrays, read from ``store``) when its first item to do
    comes after the reference; return ``unit``. Called by the study's process, which alone reads and writes
    ``OUT_DIR``: workers get the reference maps with the unit."""
    if unit.todo and unit.todo[0] > 0 and unit.reference_item is None:
        key = item_key(unit.image_index, 0)
        record = store.load_item(key)
        if record is not None:
            unit.reference_item = (record, store.load_arrays(key))
    return unit


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


def commit_item(store: ResultsStore, plan: StudyPlan, unit: ImageUnit, p_index: int, item: Item) -> str:
    """Commit item ``p_index`` of ``unit``'s image, computed or failed (the one way items reach the store);
    return its key."""
    key = item_key(unit.image_index, p_index)
    store.commit(key, item_record(plan, unit, p_index, item.body), item.arrays)
    return key
