"""SpatialSpread (``impls/saliency_metric/spatial_spread.py``): the spread of a map's mass, known values."""

from __future__ import annotations

import numpy as np
import pytest

from xaitk_wcam.impls.saliency_metric import SpatialSpread


def test_spatial_spread_known_values():
    point = np.zeros((20, 30))
    point[4, 7] = 2.0
    assert SpatialSpread()(point) == 0.0
    h, w = 20, 30
    assert SpatialSpread()(np.ones((h, w))) == pytest.approx(np.sqrt((h**2 - 1 + w**2 - 1) / 12) / np.hypot(h, w))
    corners = np.zeros((10, 10))
    corners[0, 0] = corners[-1, -1] = 1.0
    assert SpatialSpread()(corners) == pytest.approx(9 / 20)  # (n - 1) / (2 n)
    blob = np.zeros((40, 40))
    blob[5:9, 5:12] = 1.0
    moved = np.roll(blob, (20, 15), axis=(0, 1))
    assert SpatialSpread()(moved) == pytest.approx(SpatialSpread()(blob))
    assert SpatialSpread()(blob * 7.0 - 3.0 * (blob == 0)) == pytest.approx(SpatialSpread()(blob))  # scale, negatives
    assert SpatialSpread()(blob) < SpatialSpread()(np.ones((40, 40)))
    with pytest.warns(RuntimeWarning, match="no positive"):
        assert np.isnan(SpatialSpread()(np.zeros((4, 4))))
