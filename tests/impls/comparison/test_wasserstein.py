"""Wasserstein (``impls/comparison/wasserstein.py``): known distances between point masses, scipy on a line."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from xaitk_wcam.impls.comparison import Wasserstein


def test_wasserstein_known_distances():
    a = np.zeros((10, 10))
    a[2, 3] = 1.0
    b = np.zeros((10, 10))
    b[2, 7] = 5.0  # mass is normalised
    assert Wasserstein()(a, b) == pytest.approx(4 / np.hypot(10, 10))
    assert Wasserstein()(a, a) == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(1)
    u, v = rng.random(20), rng.random(20)
    line = Wasserstein()(u[None, :], v[None, :])
    expected = wasserstein_distance(np.arange(20), np.arange(20), u, v) / np.hypot(1, 20)
    assert line == pytest.approx(expected)
    x, y = rng.random((9, 7)), rng.random((9, 7))
    assert Wasserstein()(x, y) == pytest.approx(Wasserstein()(y, x))
    # a 64 x 64 map pooled to 32 x 32 blocks: shifts by whole blocks stay exact
    big_a, big_b = np.zeros((64, 64)), np.zeros((64, 64))
    big_a[10, 10] = big_b[10, 26] = 1.0
    assert Wasserstein(grid_size=32)(big_a, big_b) == pytest.approx(16 / np.hypot(64, 64))
    with pytest.warns(RuntimeWarning, match="no positive mass"):
        assert np.isnan(Wasserstein()(a, -a))
