"""XCorr (``impls/comparison/xcorr.py``): xaitk-saliency's normalised cross-correlation."""

from __future__ import annotations

import numpy as np
import pytest
from xaitk_saliency.utils.sal_metrics import compute_xcorr

from xaitk_wcam.impls.comparison import XCorr


def test_xcorr_delegates_to_xaitk(maps):
    a, b = maps
    assert XCorr()(a, b) == pytest.approx(compute_xcorr(a, b))
    assert XCorr()(a, 3 * a + 1) == pytest.approx(1.0)
    ints = np.arange(12).reshape(3, 4)
    assert XCorr()(ints, ints) == pytest.approx(1.0)  # int maps work (xaitk's helper needs floats)
