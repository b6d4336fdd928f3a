"""The numbers the faithfulness metrics report from their curves: Pearson correlation and trapezoidal AUC."""

from __future__ import annotations

import warnings

import numpy as np


def pearson(x: np.ndarray, y: np.ndarray, what: str, stacklevel: int = 3) -> float:
    """Pearson correlation of two series (as ``numpy.corrcoef``).

    :return: The correlation, or ``nan`` with a ``RuntimeWarning`` naming ``what`` when it is undefined
        (fewer than 2 points, or a constant series, e.g. a model whose confidence never changes).
    """
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        warnings.warn(
            f"{what} is undefined (a constant series or fewer than 2 steps): returning nan",
            RuntimeWarning,
            stacklevel=stacklevel,
        )
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    """Trapezoidal area under ``y(x)``."""
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0))
