"""MuFidelity: calibrated and anti-calibrated maps, seeded subsets, options."""

from __future__ import annotations

import numpy as np
import pytest
from faithfulness_helpers import FnBlackbox, channel0_mean

from xaitk_wcam.impls.faithfulness import MuFidelity


def test_mufidelity_calibrated_anti_and_seed():
    rng = np.random.default_rng(5)
    image = rng.random((12, 12, 3))
    v = image[..., 0]
    blackbox = FnBlackbox(channel0_mean)
    for grid_size in (None, 4):
        metric = MuFidelity(grid_size=grid_size, n_samples=50, batch_size=16)
        assert metric.compute(image, v, blackbox, 0).scores["mufidelity"] == pytest.approx(1.0)
        assert metric.compute(image, -v, blackbox, 0).scores["mufidelity"] == pytest.approx(-1.0)
    subsets = MuFidelity(grid_size=9, seed=3).subsets(81)
    assert subsets.shape == (200, 81) and (subsets.sum(axis=1) == 16).all()
    np.testing.assert_array_equal(subsets, MuFidelity(grid_size=9, seed=3).subsets(81))
    assert (subsets != MuFidelity(grid_size=9, seed=4).subsets(81)).any()
    noise = rng.normal(size=(12, 12))
    assert abs(MuFidelity(grid_size=4, n_samples=100).compute(image, noise, blackbox, 0).scores["mufidelity"]) < 0.9


def test_wrong_mufidelity_options():
    with pytest.raises(ValueError, match="subset_percent"):
        MuFidelity(subset_percent=1.0)
    with pytest.raises(ValueError, match="subset_percent"):
        MuFidelity(grid_size=2, subset_percent=0.1)  # 0 of 4 cells
    with pytest.raises(ValueError, match="n_samples"):
        MuFidelity(n_samples=1)
    with pytest.raises(ValueError, match="grid_size"):
        MuFidelity(grid_size=20).compute(np.ones((8, 8, 3)), np.ones((8, 8)), FnBlackbox(channel0_mean), 0)
