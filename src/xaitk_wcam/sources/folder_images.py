"""Images read from a folder."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from xaitk_wcam.interfaces.image_source import DEFAULT_MAX_PIXELS, ImageSource

__all__ = ["IMAGE_EXTENSIONS", "FolderImages"]

_PIL_LIMIT_LOCK = threading.Lock()

#: File extensions read (case-insensitive).
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")


def read_image(path: Path, max_pixels: int | None = None) -> np.ndarray:
    """Read an image file with PIL as ``H x W`` (grayscale) or ``H x W x 3`` ``uint8``.

    Each mode is read at its own depth (:func:`xaitk_wcam.utils.images.pil_image_array`: 16-bit by its full range,
    ``I`` as 16-bit data, ``F`` from ``[0, 1]``, colour models converted to RGB); values outside the mode's range,
    or a mode no rule covers, raise ``ValueError`` naming the mode. An EXIF orientation is applied (a JPEG a phone
    took sideways is read upright, as a viewer shows it and as it was labelled).

    :param max_pixels: Refuse (``ValueError``) an image of more pixels, from its header, before decoding it.
    """
    from PIL import Image

    from xaitk_wcam.utils.images import pil_image_array  # torch: imported when an image is read

    with _PIL_LIMIT_LOCK:  # max_pixels decides, not PIL's own bomb limit (a global: swapped under a lock)
        limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            im = Image.open(path)  # reads the header only
        finally:
            Image.MAX_IMAGE_PIXELS = limit
    with im:
        if max_pixels is not None and im.size[0] * im.size[1] > max_pixels:
            raise ValueError(
                f"{path.name}: {im.size[1]} x {im.size[0]} pixels exceed max_pixels={max_pixels} "
                "(a decompression bomb, or raise max_pixels)"
            )
        return pil_image_array(im, path.name)


class FolderImages(ImageSource):
    """Every image file in a folder, in sorted path order.

    ``image_id`` is the path relative to the folder (POSIX separators); ``label`` is ``None``. Images are read
    upright: an EXIF orientation is applied (:func:`read_image`), so a photo taken sideways has the shape and
    content a viewer shows.

    :param path: An existing folder.
    :param limit: Yield at most this many images.
    :param recursive: Also read images in sub-folders.
    :param max_pixels: Refuse images of more pixels, from the file header, before decoding (decompression
        bombs); an unreadable or refused file is one error record, the others are read.
    :raises FileNotFoundError: ``path`` does not exist.
    :raises NotADirectoryError: ``path`` is not a folder.
    :raises ValueError: The folder holds no file with an extension in :data:`IMAGE_EXTENSIONS`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        limit: int | None = None,
        recursive: bool = False,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        super().__init__(limit=limit, max_pixels=max_pixels)
        folder = Path(path).expanduser()
        if not folder.exists():
            raise FileNotFoundError(f"path: folder {str(path)!r} does not exist; expected a folder of images")
        if not folder.is_dir():
            raise NotADirectoryError(f"path: {str(path)!r} is a file; expected a folder of images")
        pattern = "**/*" if recursive else "*"
        files = sorted(p for p in folder.glob(pattern) if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        if not files:
            raise ValueError(
                f"path: folder {str(path)!r} holds no image file ({', '.join(IMAGE_EXTENSIONS)})"
                + ("" if recursive else "; pass recursive=True to search sub-folders")
            )
        self._path = str(path)
        self._folder = folder
        self._recursive = bool(recursive)
        self._files = files

    def _count(self) -> int:
        return len(self._files)

    def _iter_images(self) -> Iterator[tuple[str, Any, Hashable | None]]:
        for file in self._files:
            yield file.relative_to(self._folder).as_posix(), functools.partial(read_image, file, self.max_pixels), None

    def get_config(self) -> dict[str, Any]:
        return {"path": self._path, "recursive": self._recursive, **super().get_config()}
