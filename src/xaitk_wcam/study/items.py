"""The data of a study's work: an image to process (:class:`ImageUnit`), a computed item (:class:`Item`) and what
the other items of an image need from its reference item (:class:`Reference`); :mod:`.work` and
:mod:`.detection` compute them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xaitk_wcam.study.store import ItemArrays

#: The status of an item or row computed without error.
OK = "ok"


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
    """

    image_index: int
    image_id: str
    image: np.ndarray | None
    label: Any
    todo: list[int]
    error: str | None = None
    image_hash: str | None = None


@dataclass
class Item:
    """One computed item: the body of its record (``rows``, ``target_index``, ``item_status``) and its arrays."""

    body: dict[str, Any]
    arrays: ItemArrays = field(default_factory=ItemArrays)


@dataclass
class Reference:
    """What the other items of an image need from its reference item: its status, target and maps."""

    status: str
    target_index: int | None = None
    maps: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # method -> space -> map
    detections: dict[str, Any] | None = None  # a detection study's reference detections (detection.Targets)

    @classmethod
    def of(cls, body: Mapping[str, Any], arrays: ItemArrays) -> Reference:
        """The reference of a computed or committed reference item."""
        status = str(body.get("item_status"))
        if status != OK:
            return cls(status)
        return cls(status, body["target_index"], arrays.maps, body.get("detections"))
