"""Shared helpers of the classifier tests: random uint8 images and probability matrices."""

from __future__ import annotations

import numpy as np

RNG = np.random.default_rng(0)


def _images(n: int, h: int = 40, w: int = 50) -> np.ndarray:
    return RNG.integers(0, 256, size=(n, h, w, 3), dtype=np.uint8)


def _matrix(dicts, labels) -> np.ndarray:
    return np.array([[d[k] for k in labels] for d in dicts])
