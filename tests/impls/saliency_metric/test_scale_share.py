"""ScaleShare and FineScaleShare on WCAM wavelet layouts (``impls/saliency_metric/scale_share.py``); the map metrics'
configs and plugins."""

from __future__ import annotations

import json

import numpy as np
import pytest
import pywt
from xaitk_saliency.interfaces.saliency_metric import SaliencyMetric

from xaitk_wcam.impls.saliency_metric import FineScaleShare, ScaleShare, SpatialSpread


def pywt_level_layout(size: int, levels: int, level_values: list[float]) -> np.ndarray:
    """A ``size x size`` pywt layout whose level-``k`` coefficients all equal ``level_values[k]``."""
    coeffs = pywt.wavedec2(np.zeros((size, size)), "haar", level=levels)
    marked = [np.full_like(coeffs[0], level_values[0])]
    for k, details in enumerate(coeffs[1:], start=1):  # pywt lists coarsest detail level first
        marked.append(tuple(np.full_like(d, level_values[k]) for d in details))
    array, _ = pywt.coeffs_to_array(marked)
    return array


@pytest.mark.parametrize("levels", [1, 3])
def test_scale_share_matches_the_pywt_layout(levels):
    size = 32
    weights = np.arange(1.0, levels + 2)  # a different value per level
    sal_map = pywt_level_layout(size, levels, list(weights))
    cells = [(size // 2**levels) ** 2] + [3 * (size // 2 ** (levels - k + 1)) ** 2 for k in range(1, levels + 1)]
    expected = weights * np.array(cells) / (weights * np.array(cells)).sum()
    shares = [ScaleShare(level=k, levels=levels)(sal_map) for k in range(levels + 1)]
    np.testing.assert_allclose(shares, expected)
    assert FineScaleShare(levels=levels)(sal_map) == pytest.approx(1.0 - expected[0])


def test_scale_share_indicator_per_level_and_negatives():
    levels = 3
    for k in range(levels + 1):
        values = [0.0] * (levels + 1)
        values[k] = 1.0
        sal_map = pywt_level_layout(16, levels, values)
        sal_map -= pywt_level_layout(16, levels, [float(i != k) for i in range(levels + 1)])  # negatives elsewhere
        assert ScaleShare(level=k, levels=levels)(sal_map) == pytest.approx(1.0)
        assert FineScaleShare(levels=levels)(sal_map) == pytest.approx(float(k != 0))


def test_scale_share_wrong_inputs():
    with pytest.raises(ValueError, match="level"):
        ScaleShare(level=4, levels=3)
    with pytest.raises(ValueError, match="level"):
        ScaleShare(level=-1)
    with pytest.raises(ValueError, match="levels"):
        FineScaleShare(levels=0)
    with pytest.raises(TypeError, match="level"):
        ScaleShare(level=1.0)
    # a map of 12 x 16 (a padded 16 x 16 layout resampled to the image) is read back onto its layout: the
    # approximation band is its top-left 2 x 2 of 16 x 16, 1/64 of the mass of a constant map
    assert ScaleShare(level=0, levels=3)(np.ones((12, 16))) == pytest.approx(1 / 64)
    with pytest.raises(ValueError, match="NaN"):
        FineScaleShare()(np.full((8, 8), np.nan))
    with pytest.raises(ValueError, match="sal_map"):
        FineScaleShare()(np.ones((1, 8, 8)))
    with pytest.warns(RuntimeWarning, match="no positive"):
        assert np.isnan(ScaleShare()(-np.ones((8, 8))))


def test_inputs_not_modified_config_and_plugins():
    sal_map = np.random.default_rng(0).normal(size=(16, 16))
    copy = sal_map.copy()
    for metric in (ScaleShare(level=2), FineScaleShare(levels=2), SpatialSpread()):
        metric(sal_map)
        clone = type(metric).from_config(json.loads(json.dumps(metric.get_config())))
        assert clone.get_config() == metric.get_config()
        assert clone(sal_map) == metric(sal_map)
        assert type(metric) in SaliencyMetric.get_impls()
    np.testing.assert_array_equal(sal_map, copy)
    assert ScaleShare(level=2).name == "ScaleShare"
