"""The ``ImageSource`` interface: a named, limited stream of images for studies and notebooks.

An image source yields ``(image_id, image, label)`` triples: ``image_id`` a string unique within the
source, ``image`` an ``H x W x C`` ``uint8`` numpy array (``C`` = 1 for grayscale, 3 for colour; alpha
is dropped), ``label`` a hashable ground-truth label or ``None``. Implementations live in
:mod:`xaitk_wcam.sources`; as in xaitk-saliency, the public methods are templates: :meth:`ImageSource.records`
applies ``limit``, reads and normalises every image and turns a failure into that image's error, never
into the end of the stream; ``__iter__`` gives the readable images; ``_iter_images`` lists them.

One unreadable image costs one record: ``_iter_images`` yields each image as an array, or as a zero-argument
callable that reads it (a file, a lazily decoded dataset row), or as the exception that prevented reading it;
:meth:`~ImageSource.records` calls the reader and records any exception it raises, with the image's id.
Images larger than ``max_pixels`` (decompression bombs among them) are refused the same way.
"""

from __future__ import annotations

import abc
import itertools
import warnings
from collections.abc import Callable, Hashable, Iterator
from typing import Any, NamedTuple

import numpy as np
from smqtk_core import Plugfigurable

from xaitk_wcam.utils.checks import check_int
from xaitk_wcam.utils.errors import error_text

__all__ = ["DEFAULT_MAX_PIXELS", "ImageRecord", "ImageSource", "SourceRecord", "as_hwc_uint8", "iter_records"]

#: ``(image_id, H x W x C uint8 image, label or None)``.
ImageRecord = tuple[str, np.ndarray, Hashable | None]

#: Largest image (height x width) a source reads by default: 64 megapixels, about 200 MB as RGB uint8
#: (a 20000 x 20000 decompression bomb is 400 megapixels).
DEFAULT_MAX_PIXELS = 64_000_000


class SourceRecord(NamedTuple):
    """One image of a source, or why it could not be read.

    :param image_id: The source's id of the image (a file name, a ``skimage.data`` name, ``split/index``).
    :param image: ``H x W x C`` ``uint8`` image, or ``None`` when unreadable.
    :param label: Ground-truth label, or ``None``.
    :param error: ``"ExceptionType: message"`` when unreadable, else ``None``.
    """

    image_id: str
    image: np.ndarray | None
    label: Hashable | None
    error: str | None = None


def as_hwc_uint8(image: Any, *, channels_first: bool = False, image_id: str = "image") -> np.ndarray:
    """Convert an image to ``H x W x C`` ``uint8`` with ``C`` in (1, 3).

    PIL images are read by their mode's rule (:data:`xaitk_wcam.utils.images.PIL_MODES`: 16-bit by its full
    range, ``I`` as 16-bit data, ``F`` from ``[0, 1]``, colour models converted to RGB). Arrays: ``uint16`` by
    its full range (``round(v / 257)``, whatever the image's values), booleans to 0 and 255, floating images must lie
    in ``[0, 1]`` and are scaled by 255 and rounded; other integer dtypes are refused (no range is conventional
    for them). RGBA and grayscale + alpha lose their alpha channel.

    :param image: ``H x W``, ``H x W x C`` (or ``C x H x W`` with ``channels_first``) array-like, or a PIL image.
    :param channels_first: Whether the channel axis comes first.
    :param image_id: Used in error messages.
    :raises ValueError: Wrong rank, channel count, dtype, PIL mode or value range.
    """
    from xaitk_wcam.utils.images import float_to_uint8, integer_to_uint8, pil_image_array

    if isinstance(getattr(image, "mode", None), str) and callable(getattr(image, "getbands", None)):  # PIL
        image = pil_image_array(image, image_id)
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
    if np.issubdtype(array.dtype, np.floating):
        return float_to_uint8(array, image_id)
    if array.dtype == bool or np.issubdtype(array.dtype, np.integer):
        return integer_to_uint8(array, image_id)
    raise ValueError(f"{image_id}: expected a numeric image; got dtype {array.dtype}")


class ImageSource(Plugfigurable):
    """Iterable of ``(image_id, H x W x C uint8 image, label or None)``; :meth:`records` also gives the failures.

    :param limit: Yield at most this many images (``None``: all).
    :param max_pixels: Refuse images of more than this many pixels (height x width), before decoding them
        where the source can (files); default :data:`DEFAULT_MAX_PIXELS`.
    """

    def __init__(self, limit: int | None = None, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self._limit = check_int("limit", limit, 1, allow_none=True)
        self._max_pixels = check_int("max_pixels", max_pixels, 1)

    @property
    def limit(self) -> int | None:
        """Maximum number of images yielded, or ``None``."""
        return self._limit

    @property
    def max_pixels(self) -> int:
        """Largest number of pixels (height x width) of an image read."""
        return self._max_pixels

    def __len__(self) -> int:
        """Number of records :meth:`records` yields (``limit`` applied).

        :raises TypeError: The source does not know its length (e.g. a streamed dataset).
        """
        count = self._count()
        if count is None:
            raise TypeError(f"{type(self).__name__} does not know how many images it holds")
        return count if self._limit is None else min(count, self._limit)

    def records(self) -> Iterator[SourceRecord]:
        """Every image of the source (``limit`` applied), as a :class:`SourceRecord`.

        Reading or converting one image may fail; the failure becomes that record's ``error`` and the stream
        goes on. Only a failure of the listing itself (``_iter_images`` raising) ends it, after one error record.
        """
        items = itertools.islice(self._iter_images(), self._limit)
        return iter_records(items, self._read)

    def __iter__(self) -> Iterator[ImageRecord]:
        """``(image_id, image, label)`` of every readable image; an unreadable one is skipped with a warning."""
        for record in self.records():
            if record.error is None:
                yield record.image_id, record.image, record.label
            else:
                warnings.warn(f"skipped image {record.image_id!r}: {record.error}", RuntimeWarning, stacklevel=2)

    def _read(self, image: Any, image_id: str) -> np.ndarray:
        if callable(image):
            image = image()
        array = as_hwc_uint8(image, image_id=image_id)
        if array.shape[0] * array.shape[1] > self._max_pixels:
            raise ValueError(
                f"{image_id}: {array.shape[0]} x {array.shape[1]} pixels exceed max_pixels={self._max_pixels}"
            )
        return array

    @abc.abstractmethod
    def _iter_images(self) -> Iterator[tuple[str, Any | Callable[[], Any] | BaseException, Hashable | None]]:
        """Yield ``(image_id, image, label)``; ``image`` an array-like, a zero-argument reader of one, or the
        exception that prevented reading it. Do the fallible reading in the reader, not in the generator."""

    def _count(self) -> int | None:
        """Number of images the source lists (before ``limit``), or ``None`` when unknown."""
        return None

    def get_config(self) -> dict[str, Any]:
        return {"limit": self._limit, "max_pixels": self._max_pixels}


def iter_records(
    items: Iterator[tuple[Any, Any, Hashable | None]], read: Callable[[Any, str], np.ndarray] | None = None
) -> Iterator[SourceRecord]:
    """:class:`SourceRecord` of each ``(image_id, image, label)`` of ``items``: ``image`` an array-like, a
    zero-argument reader or an exception; ``read(image, image_id)`` turns it into the record's image (default:
    the image as it is). An exception of ``read`` is that record's error; one of ``items`` ends the stream
    after an error record."""
    for index in itertools.count():
        try:
            image_id, image, label = next(items)
        except StopIteration:
            return
        except Exception as err:
            yield SourceRecord(f"#{index}", None, None, f"the source stopped listing images: {error_text(err)}")
            return
        image_id = str(image_id)
        try:
            if isinstance(image, BaseException):
                raise image
            yield SourceRecord(image_id, image if read is None else read(image, image_id), label)
        except Exception as err:
            yield SourceRecord(image_id, None, label, error_text(err))
