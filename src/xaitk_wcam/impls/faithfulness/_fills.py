"""Fills (baselines) of the pixel faithfulness metrics: what a removed feature becomes (``"black"``, ``"blur"``,
``"mean"``, a value or an image), checked once and built per image.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np
from scipy.ndimage import uniform_filter

FILL_NAMES = ("black", "blur", "mean")

FillSpec = str | float | np.ndarray


def check_fill(fill: Any) -> FillSpec:
    """Validate a ``fill`` option; return it as a name, a float or a float64 array.

    :param fill: ``"black"`` (zeros), ``"blur"`` (box blur), ``"mean"`` (per-channel image mean), a
        finite number (constant image) or a baseline image (array or nested list) broadcastable to the
        image's shape.
    """
    if isinstance(fill, str):
        if fill not in FILL_NAMES:
            raise ValueError(f"fill must be one of {FILL_NAMES}, a number or a baseline image; got {fill!r}")
        return fill
    if isinstance(fill, bool):
        raise TypeError(f"fill must be one of {FILL_NAMES}, a number or a baseline image; got a bool")
    if isinstance(fill, Real):
        if not math.isfinite(float(fill)):
            raise ValueError(f"a constant fill must be finite, got {fill}")
        return float(fill)
    if isinstance(fill, (np.ndarray, list, tuple)):
        try:
            array = np.array(fill, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"a baseline-image fill must be a numeric array: {err}") from err
        if array.ndim == 0 or not np.isfinite(array).all():
            raise ValueError("a baseline-image fill must be a finite array of at least one dimension")
        return array
    raise TypeError(f"fill must be one of {FILL_NAMES}, a number or a baseline image; got {type(fill).__name__}")


def fill_config(fill: FillSpec) -> str | float | list:
    """JSON-compatible form of a checked fill (arrays become nested lists)."""
    return fill.tolist() if isinstance(fill, np.ndarray) else fill


def check_fill_shape(fill: FillSpec, image_shape: tuple[int, ...]) -> None:
    """Raise ``ValueError`` when a baseline-image fill does not broadcast to ``image_shape``."""
    if isinstance(fill, np.ndarray):
        try:
            shape = np.broadcast_shapes(fill.shape, image_shape)
        except ValueError:
            shape = None
        if shape != tuple(image_shape):
            raise ValueError(
                f"the baseline-image fill of shape {fill.shape} does not broadcast to the image's {image_shape}"
            )


def blur_kernel_size(height: int) -> int:
    """Box-blur kernel side of ``saliency-maps-metrics``: ``max(H // 5, 9)``, made odd."""
    size = max(height // 5, 9)
    return size + 1 if size % 2 == 0 else size


def box_blur(image: np.ndarray) -> np.ndarray:
    """Box blur of each channel with the reference's kernel size, edges handled by reflection.

    The ``saliency-maps-metrics`` blur is the same box filter but zero-padded (a ``conv2d`` with
    ``padding = k // 2``), which darkens a border of ``k // 2`` pixels; away from that border both are
    equal. We reflect instead, so that the blurred image carries no black frame.
    """
    size = blur_kernel_size(image.shape[0])
    return uniform_filter(image.astype(np.float64), size=(size, size) + (1,) * (image.ndim - 2), mode="reflect")


def build_fill(image: np.ndarray, fill: FillSpec) -> np.ndarray:
    """The fill image (float, the image's shape) for a checked ``fill``: float32 for float32 images."""
    if isinstance(fill, str):
        if fill == "black":
            return np.zeros(image.shape, dtype=np.float32 if image.dtype == np.float32 else np.float64)
        if fill == "blur":
            return box_blur(image)
        channel_mean = image.reshape(-1, *image.shape[2:]).mean(axis=0, dtype=np.float64)
        return np.broadcast_to(channel_mean, image.shape).copy()
    return np.broadcast_to(np.asarray(fill, dtype=np.float64), image.shape).copy()


def as_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Cast float values to an image dtype: integers are rounded and clipped to the dtype's range."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return values >= 0.5
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype, copy=False)
