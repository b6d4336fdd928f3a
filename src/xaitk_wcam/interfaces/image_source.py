"""The ``ImageSource`` interface: a named, limited stream of images for studies and notebooks.

An image source yields ``(image_id, image, label)`` triples: ``image_id`` a string unique within the
source, ``image`` an ``H x W x C`` ``uint8`` numpy array (``C`` = 1 for grayscale, 3 for colour; alpha
is dropped), ``label`` a hashable ground-truth label or ``None``. Implementations live in
:mod:`xaitk_wcam.sources`; as in xaitk-saliency, the public method is a template: :meth:`__iter__`
applies ``limit`` and normalises every image, ``_iter_images`` does the reading.
"""

from __future__ import annotations

import abc
import itertools
from collections.abc import Hashable, Iterator
from typing import Any

import numpy as np
from smqtk_core import Plugfigurable

__all__ = ["ImageRecord", "ImageSource", "as_hwc_uint8", "check_limit"]

#: ``(image_id, H x W x C uint8 image, label or None)``.
ImageRecord = tuple[str, np.ndarray, Hashable | None]


def check_limit(limit: Any) -> int | None:
    """Validate ``limit``: ``None`` (all images) or a positive int.

    :raises ValueError: Otherwise.
    """
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
        raise ValueError(f"limit: expected None or a positive int; got {limit!r}")
    return int(limit)


def as_hwc_uint8(image: Any, *, channels_first: bool = False, image_id: str = "image") -> np.ndarray:
    """Convert an image to ``H x W x C`` ``uint8`` with ``C`` in (1, 3).

    Integer and boolean images are converted with ``skimage.util.img_as_ubyte`` (full dtype range, e.g.
    ``uint16`` is divided by 257); floating images must lie in ``[0, 1]`` and are scaled by 255 and rounded.
    RGBA and grayscale + alpha lose their alpha channel.

    :param image: ``H x W``, ``H x W x C`` (or ``C x H x W`` with ``channels_first``) array-like; PIL images
        are accepted.
    :param channels_first: Whether the channel axis comes first.
    :param image_id: Used in error messages.
    :raises ValueError: Wrong rank, channel count or value range.
    """
    array = np.asarray(image)
    if array.ndim == 3 and channels_first:
        array = np.moveaxis(array, 0, -1)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4) or 0 in array.shape:
        raise ValueError(
            f"{image_id}: expected an H x W or H x W x C image with C in (1, 2, 3, 4); got shape {array.shape}"
        )
    if array.shape[-1] in (2, 4):
        array = array[..., :-1]
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.floating):
        if array.size and (np.nanmin(array) < 0.0 or np.nanmax(array) > 1.0):
            raise ValueError(f"{image_id}: floating images must lie in [0, 1]; got [{array.min()}, {array.max()}]")
        return np.round(array * 255.0).astype(np.uint8)
    if array.dtype == bool or np.issubdtype(array.dtype, np.integer):
        from skimage.util import img_as_ubyte

        return img_as_ubyte(array)
    raise ValueError(f"{image_id}: expected a numeric image; got dtype {array.dtype}")


class ImageSource(Plugfigurable):
    """Iterable of ``(image_id, H x W x C uint8 image, label or None)``.

    :param limit: Yield at most this many images (``None``: all).
    """

    def __init__(self, limit: int | None = None) -> None:
        self._limit = check_limit(limit)

    @property
    def limit(self) -> int | None:
        """Maximum number of images yielded, or ``None``."""
        return self._limit

    def __iter__(self) -> Iterator[ImageRecord]:
        records = self._iter_images()
        if self._limit is not None:
            records = itertools.islice(records, self._limit)
        for image_id, image, label in records:
            yield str(image_id), as_hwc_uint8(image, image_id=str(image_id)), label

    @abc.abstractmethod
    def _iter_images(self) -> Iterator[tuple[str, Any, Hashable | None]]:
        """Yield ``(image_id, image, label)`` with any array-like image; :meth:`__iter__` normalises it."""

    def get_config(self) -> dict[str, Any]:
        return {"limit": self._limit}
