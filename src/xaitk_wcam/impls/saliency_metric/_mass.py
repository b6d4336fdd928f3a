"""Input checks and the non-negative mass shared by the map metrics."""

from __future__ import annotations

import warnings

import numpy as np


def check_map(sal_map: object) -> np.ndarray:
    """Return a finite 2-D map as a float64 copy; ``TypeError``/``ValueError`` otherwise."""
    if not isinstance(sal_map, np.ndarray):
        raise TypeError(f"sal_map must be a 2-D numpy array, got {type(sal_map).__name__}")
    if sal_map.ndim != 2 or min(sal_map.shape) < 1:
        raise ValueError(f"sal_map must have shape H x W with H, W >= 1, got {sal_map.shape}")
    if not np.issubdtype(sal_map.dtype, np.number) or np.iscomplexobj(sal_map):
        raise TypeError(f"sal_map must have a real numeric dtype, got {sal_map.dtype}")
    values = sal_map.astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError("sal_map holds NaN or infinite values; accepted: finite values")
    return values


def positive_mass(values: np.ndarray, metric: str) -> np.ndarray | None:
    """Non-negative part of a map, or ``None`` (with a ``RuntimeWarning``) when it sums to zero."""
    mass = np.maximum(values, 0.0)
    if mass.sum() <= 0:
        warnings.warn(
            f"{metric}: the map has no positive importance; returning nan",
            RuntimeWarning,
            stacklevel=4,
        )
        return None
    return mass


def check_levels(levels: object) -> int:
    """Return ``levels`` as an int ``>= 1``."""
    if isinstance(levels, bool) or not isinstance(levels, int):
        raise TypeError(f"levels must be an int >= 1, got {levels!r}")
    if levels < 1:
        raise ValueError(f"levels must be an int >= 1, got {levels}")
    return levels
