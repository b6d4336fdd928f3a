"""Map comparisons: SSD, XCorr, SpearmanRank, TopKIntersection, Wasserstein."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import spearmanr, wasserstein_distance
from xaitk_saliency.utils.sal_metrics import compute_ssd, compute_xcorr

from xaitk_wcam.impls.comparison import SSD, SpearmanRank, TopKIntersection, Wasserstein, XCorr
from xaitk_wcam.interfaces.saliency_comparison import SaliencyComparison

ALL = (SSD(), XCorr(), SpearmanRank(), TopKIntersection(5), Wasserstein(grid_size=8))


@pytest.fixture
def maps():
    rng = np.random.default_rng(0)
    return rng.random((12, 10)), rng.random((12, 10))


def test_ssd_and_xcorr_delegate_to_xaitk(maps):
    a, b = maps
    assert SSD()(a, b) == pytest.approx(compute_ssd(a, b))
    assert SSD()(a, a) == 0.0
    assert XCorr()(a, b) == pytest.approx(compute_xcorr(a, b))
    assert XCorr()(a, 3 * a + 1) == pytest.approx(1.0)
    ints = np.arange(12).reshape(3, 4)
    assert XCorr()(ints, ints) == pytest.approx(1.0)  # int maps work (xaitk's helper needs floats)


def test_spearman(maps):
    a, b = maps
    assert SpearmanRank()(a, b) == pytest.approx(spearmanr(a.ravel(), b.ravel()).statistic)
    assert SpearmanRank()(a, np.exp(5 * a)) == pytest.approx(1.0)
    assert SpearmanRank()(a, -a) == pytest.approx(-1.0)
    with pytest.warns(RuntimeWarning, match="constant"):
        assert np.isnan(SpearmanRank()(a, np.ones_like(a)))


def test_top_k_intersection():
    a = np.arange(16.0).reshape(4, 4)
    b = a.copy()
    b[3, 3], b[0, 0] = b[0, 0], b[3, 3]  # the top pixel of a becomes the lowest of b
    assert TopKIntersection(4)(a, b) == pytest.approx(3 / 4)
    assert TopKIntersection(1)(a, b) == 0.0
    assert TopKIntersection(0.25)(a, a) == 1.0
    assert TopKIntersection(0.25).n_pixels(16) == 4 and TopKIntersection(0.01).n_pixels(16) == 1
    ties = np.zeros((2, 2))  # all tied: row-major tie-break, deterministic
    assert TopKIntersection(2)(ties, ties) == 1.0
    with pytest.raises(ValueError, match="exceeds"):
        TopKIntersection(17)(a, b)
    for bad in (0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="k must be"):
            TopKIntersection(bad)
    with pytest.raises(TypeError, match="k must be"):
        TopKIntersection(True)


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


def test_wrong_inputs(maps):
    a, _ = maps
    for comparison in ALL:
        with pytest.raises(ValueError, match="same shape"):
            comparison(a, a[:, :5])
        with pytest.raises(ValueError, match="NaN"):
            comparison(a, np.full_like(a, np.nan))
        with pytest.raises(ValueError, match="sal_map"):
            comparison(a[None], a[None])
        with pytest.raises(TypeError, match="ref_sal_map"):
            comparison(a, a.tolist())
    with pytest.raises(ValueError, match="grid_size"):
        Wasserstein(grid_size=0)


def test_inputs_not_modified_config_and_plugins(maps):
    a, b = maps
    a_copy, b_copy = a.copy(), b.copy()
    impls = SaliencyComparison.get_impls()
    for comparison in ALL:
        value = comparison(a, b)
        clone = type(comparison).from_config(json.loads(json.dumps(comparison.get_config())))
        assert clone.get_config() == comparison.get_config()
        assert clone.compute(a, b) == pytest.approx(value)
        assert type(comparison) in impls
        assert comparison.name == type(comparison).__name__
    np.testing.assert_array_equal(a, a_copy)
    np.testing.assert_array_equal(b, b_copy)
    assert TopKIntersection(0.3).get_config() == {"k": 0.3}
