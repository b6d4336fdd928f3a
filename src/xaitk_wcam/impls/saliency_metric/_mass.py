"""The non-negative mass shared by the map metrics."""

from __future__ import annotations

import warnings

import numpy as np


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
