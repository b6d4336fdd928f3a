"""Every input check of the package, one contract per kind of input.

Each check returns the validated value (converted where it says so) or raises ``TypeError`` (wrong type)
or ``ValueError`` (right type, wrong value) with a message that names the parameter and what is accepted.
Checks never modify the caller's data.

- :func:`check_int`, :func:`check_float`, :func:`check_choice`: constructor keywords;
- :func:`check_image`: an image to explain or score, ``H x W`` or ``H x W x C`` (``C`` in 1..4: gray,
  gray + alpha, RGB, RGBA), integer or float dtype, finite, non-empty;
- :func:`check_map`: a 2-D saliency map, real, finite (or NaN entries tolerated where a metric says so);
- :func:`check_blackbox`: an smqtk ``ClassifyImage``; :func:`check_detector`: an smqtk ``DetectImageObjects``;
- :func:`check_boxes`: ``N x 4`` detection boxes ``(x0, y0, x1, y1)`` with ``x0 < x1``, ``y0 < y1``;
- :func:`check_samples`: values per image for the statistics (array-like of real numbers or bools, NaN allowed).
"""

from __future__ import annotations

import warnings
from collections.abc import Collection
from typing import Any

import numpy as np


def check_int(
    name: str, value: Any, minimum: int | None = None, *, maximum: int | None = None, allow_none: bool = False
) -> int | None:
    """``value`` as an int (``>= minimum``, ``<= maximum`` when given); ``None`` passes when ``allow_none``. Bools
    are refused."""
    if value is None and allow_none:
        return None
    bounds = [f">= {minimum}"] * (minimum is not None) + [f"<= {maximum}"] * (maximum is not None)
    accepted = " and ".join(["an int", *bounds]).replace("int and", "int", 1) + (" or None" if allow_none else "")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be {accepted}, got {value!r} ({type(value).__name__})")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {accepted}, got {value}")
    return int(value)


def check_float(
    name: str,
    value: Any,
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    strict: bool = True,
    allow_none: bool = False,
) -> float | None:
    """``value`` as a finite float in ``(minimum, maximum)`` (closed bounds when ``strict`` is false).

    Bounds left ``None`` are not checked; ``None`` passes when ``allow_none``.
    """
    if value is None and allow_none:
        return None
    low, high = ("(", ")") if strict else ("[", "]")
    accepted = "a finite number" + (
        f" in {low}{'-inf' if minimum is None else minimum}, {'inf' if maximum is None else maximum}{high}"
        if minimum is not None or maximum is not None
        else ""
    )
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be {accepted}, got {value!r} ({type(value).__name__})")
    number = float(value)
    below = minimum is not None and (number <= minimum if strict else number < minimum)
    above = maximum is not None and (number >= maximum if strict else number > maximum)
    if not np.isfinite(number) or below or above:
        raise ValueError(f"{name} must be {accepted}, got {value!r}")
    return number


def check_choice(name: str, value: Any, choices: Collection[str]) -> str:
    """``value`` if it is one of ``choices`` (strings), else ``ValueError`` listing them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def check_image(image: Any, name: str = "ref_image") -> np.ndarray:
    """Return ``image`` after checking it is an ``H x W`` or ``H x W x C`` (``C`` in 1..4) finite image.

    :raises TypeError: Not a numpy array, or not an integer or float dtype (bool and complex refused).
    :raises ValueError: Wrong number of dimensions or channels, an empty side, NaN or infinite values.
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name} must be a numpy array (H x W or H x W x C), got {type(image).__name__}")
    if image.dtype == bool or not (np.issubdtype(image.dtype, np.integer) or np.issubdtype(image.dtype, np.floating)):
        raise TypeError(f"{name} must have an integer or float dtype (e.g. uint8, float32), got {image.dtype}")
    if image.ndim not in (2, 3):
        raise ValueError(f"{name} must have 2 (H x W) or 3 (H x W x C) dimensions, got shape {image.shape}")
    if image.ndim == 3 and not 1 <= image.shape[2] <= 4:
        raise ValueError(f"{name} must have 1 to 4 channels (gray, gray+alpha, RGB, RGBA), got shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {image.shape}")
    if np.issubdtype(image.dtype, np.floating) and not np.isfinite(image).all():
        raise ValueError(f"{name} contains NaN or infinite pixel values; only finite values are accepted")
    return image


def check_map(sal_map: Any, name: str = "sal_map", *, nan_as_min: bool = False) -> np.ndarray:
    """A float64 copy of a 2-D real saliency map.

    :param nan_as_min: Accept NaN entries and give them the map's minimum (least important), with a
        ``RuntimeWarning`` (an all-NaN map is still refused); by default NaN is refused.
    :raises TypeError: Not a numpy array, or not a real numeric dtype.
    :raises ValueError: Not ``H x W`` with ``H, W >= 1``, infinite values, NaN (see ``nan_as_min``).
    """
    if not isinstance(sal_map, np.ndarray):
        raise TypeError(f"{name} must be a 2-D numpy array (H x W), got {type(sal_map).__name__}")
    if sal_map.ndim != 2 or min(sal_map.shape) < 1:
        raise ValueError(f"{name} must have shape H x W with H, W >= 1, got {sal_map.shape}")
    if not np.issubdtype(sal_map.dtype, np.number) or np.iscomplexobj(sal_map):
        raise TypeError(f"{name} must have a real numeric dtype, got {sal_map.dtype}")
    values = sal_map.astype(np.float64)  # a copy
    if np.isinf(values).any():
        raise ValueError(f"{name} holds infinite values; accepted: finite values")
    nan = np.isnan(values)
    if nan.any():
        if not nan_as_min:
            raise ValueError(f"{name} holds NaN values; accepted: finite values")
        if nan.all():
            raise ValueError(f"{name} is all NaN: there is no importance to order")
        warnings.warn(
            f"{name} holds {int(nan.sum())} NaN entries; they are given the map's minimum (least important)",
            RuntimeWarning,
            stacklevel=3,
        )
        values[nan] = np.nanmin(values)
    return values


def check_blackbox(blackbox: Any, name: str = "blackbox") -> list:
    """The labels of ``blackbox`` after checking it is an smqtk ``ClassifyImage``."""
    from smqtk_classifier.interfaces.classify_image import ClassifyImage

    if not isinstance(blackbox, ClassifyImage):
        raise TypeError(f"{name} must be a smqtk_classifier.ClassifyImage, got {type(blackbox).__name__}")
    return list(blackbox.get_labels())


def check_boxes(boxes: Any, name: str = "bboxes") -> np.ndarray:
    """A float64 copy of ``N x 4`` ``(x0, y0, x1, y1)`` boxes with ``N >= 1``, finite, ``x0 < x1`` and ``y0 < y1``.

    :raises TypeError: Not a numpy array of a real numeric dtype.
    :raises ValueError: Not ``N x 4``, no box at all, a non-finite coordinate, or a box with ``x1 <= x0`` or
        ``y1 <= y0``.
    """
    if not isinstance(boxes, np.ndarray) or not np.issubdtype(boxes.dtype, np.number) or np.iscomplexobj(boxes):
        raise TypeError(
            f"{name} must be a real numpy array of shape N x 4 (x0, y0, x1, y1), got {type(boxes).__name__}"
        )
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{name} must have shape N x 4 (x0, y0, x1, y1), got {boxes.shape}")
    if len(boxes) == 0:
        raise ValueError(f"{name} is empty: there is no detection to explain; pass at least one box")
    values = boxes.astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError(f"{name} holds NaN or infinite coordinates; accepted: finite values")
    bad = np.flatnonzero((values[:, 2] <= values[:, 0]) | (values[:, 3] <= values[:, 1]))
    if bad.size:
        raise ValueError(
            f"{name} rows {bad[:5].tolist()} are not boxes (x0, y0, x1, y1) with x0 < x1 and y0 < y1, e.g. "
            f"{boxes[bad[0]].tolist()}"
        )
    return values


def check_detector(detector: Any, name: str = "blackbox") -> Any:
    """``detector`` after checking it is an smqtk ``DetectImageObjects``."""
    from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects

    if not isinstance(detector, DetectImageObjects):
        raise TypeError(f"{name} must be a smqtk_detection.DetectImageObjects, got {type(detector).__name__}")
    return detector


def check_samples(values: Any, name: str, *, ndim: int = 1) -> np.ndarray:
    """A float64 copy of per-image values (``ndim`` 1: one value per image; 2: images x strengths).

    Anything ``numpy.asarray`` reads (a list, a numpy array, a pandas Series) of real numbers or bools is
    accepted; NaN and infinite values are kept (the statistics decide what a missing value means).

    :raises TypeError: Not numeric (strings, objects, complex numbers).
    :raises ValueError: Not ``ndim``-dimensional.
    """
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as error:  # ragged nested lists
        raise TypeError(f"{name} must be an array of real numbers, got {type(values).__name__}: {error}") from None
    if array.dtype != np.bool_ and (not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array)):
        raise TypeError(f"{name} must be an array of real numbers or bools, got dtype {array.dtype}")
    if array.ndim != ndim:
        shape = "one value per image" if ndim == 1 else "images x strengths"
        raise ValueError(f"{name} must be {ndim}-dimensional ({shape}), got shape {array.shape}")
    return array.astype(np.float64)  # a copy
