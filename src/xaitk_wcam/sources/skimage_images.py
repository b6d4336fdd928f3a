"""Images from ``skimage.data`` by name."""

from __future__ import annotations

import functools
from collections.abc import Hashable, Iterator, Sequence
from typing import Any

from xaitk_wcam.interfaces.image_source import DEFAULT_MAX_PIXELS, ImageSource

__all__ = ["SkimageImages", "skimage_image_names"]

# Members of skimage.data.__all__ that are not a single 2-D image (helpers, volumes, tuples, random).
_NOT_IMAGES = frozenset(
    {
        "binary_blobs",
        "brain",
        "cells3d",
        "data_dir",
        "download_all",
        "file_hash",
        "kidney",
        "lbp_frontal_face_cascade_filename",
        "lfw_subset",
        "nickel_solidification",
        "palisades_of_vogt",
        "protein_transport",
        "stereo_motorcycle",
        "vortex",
    }
)


def skimage_image_names() -> list[str]:
    """Names accepted by :class:`SkimageImages` (some need a one-off download by scikit-image's pooch)."""
    import skimage.data

    return sorted(name for name in skimage.data.__all__ if name not in _NOT_IMAGES)


class SkimageImages(ImageSource):
    """``skimage.data`` images by name, e.g. ``SkimageImages(["chelsea", "coffee", "astronaut"])``.

    ``image_id`` is the name, ``label`` is ``None``. Images bundled with scikit-image (astronaut, camera,
    chelsea, coffee, rocket, ...) need no network; others are fetched once by scikit-image.

    :param names: ``skimage.data`` function names (see :func:`skimage_image_names`).
    :param limit: Yield at most this many images.
    :param max_pixels: Refuse larger images (see :class:`~xaitk_wcam.interfaces.image_source.ImageSource`).
    """

    def __init__(self, names: Sequence[str], limit: int | None = None, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        super().__init__(limit=limit, max_pixels=max_pixels)
        if isinstance(names, str) or not all(isinstance(n, str) for n in names) or len(names) == 0:
            raise ValueError(f"names: expected a non-empty list of skimage.data names; got {names!r}")
        valid = set(skimage_image_names())
        unknown = [n for n in names if n not in valid]
        if unknown:
            raise ValueError(f"names: unknown skimage.data image(s) {unknown}; expected some of {sorted(valid)}")
        self._names = list(names)

    @property
    def names(self) -> list[str]:
        return list(self._names)

    def _iter_images(self) -> Iterator[tuple[str, Any, Hashable | None]]:
        for name in self._names:
            yield name, functools.partial(_load, name), None

    def _count(self) -> int:
        return len(self._names)

    def get_config(self) -> dict[str, Any]:
        return {"names": list(self._names), **super().get_config()}


def _load(name: str) -> Any:
    import skimage.data

    try:
        return getattr(skimage.data, name)()
    except (OSError, ConnectionError, ValueError) as exc:
        raise OSError(f"skimage.data.{name}() failed (it may need a download): {exc}") from exc
