"""A hand-computable wavelet case shared by the wavelet-metric tests.

A 4 x 4 grey float image constant on 2 x 2 blocks (block values 0.8, 0.6 / 0.4, 0.2) has, at one Haar level,
approximation coefficients 2 x the block values and zero details. The blackbox's confidence of "a" is the mean
pixel value, so it is ``sum of the kept approximation coefficients / 8``: removing the approximation coefficient
of a block lowers it by that block's value / 4, removing a detail changes nothing (no clipping ever happens).
"""

from __future__ import annotations

import numpy as np
from faithfulness_helpers import FnBlackbox

BLOCKS = np.array([[0.8, 0.6], [0.4, 0.2]])
IMAGE = np.kron(BLOCKS, np.ones((2, 2)))  # 4 x 4, mean 0.5


def mean_model(batch: np.ndarray) -> np.ndarray:
    a = batch.reshape(len(batch), -1).mean(axis=1)
    return np.stack([a, 1.0 - a], axis=1)


def blackbox() -> FnBlackbox:
    return FnBlackbox(mean_model)


def approximation_first_map() -> np.ndarray:
    """Distinct values, the approximation band (top-left 2 x 2, row-major) ranked first, then the details."""
    return np.array(
        [[1.00, 0.99, 0.59, 0.58], [0.98, 0.97, 0.57, 0.56], [0.55, 0.54, 0.53, 0.52], [0.51, 0.50, 0.49, 0.48]]
    )
