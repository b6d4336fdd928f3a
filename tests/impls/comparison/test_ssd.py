"""SSD (``impls/comparison/ssd.py``): xaitk-saliency's sum of squared differences."""

from __future__ import annotations

import pytest
from xaitk_saliency.utils.sal_metrics import compute_ssd

from xaitk_wcam.impls.comparison import SSD


def test_ssd_delegates_to_xaitk(maps):
    a, b = maps
    assert SSD()(a, b) == pytest.approx(compute_ssd(a, b))
    assert SSD()(a, a) == 0.0
