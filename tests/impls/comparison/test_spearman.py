"""SpearmanRank (``impls/comparison/spearman.py``) against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from xaitk_wcam.impls.comparison import SpearmanRank


def test_spearman(maps):
    a, b = maps
    assert SpearmanRank()(a, b) == pytest.approx(spearmanr(a.ravel(), b.ravel()).statistic)
    assert SpearmanRank()(a, np.exp(5 * a)) == pytest.approx(1.0)
    assert SpearmanRank()(a, -a) == pytest.approx(-1.0)
    with pytest.warns(RuntimeWarning, match="constant"):
        assert np.isnan(SpearmanRank()(a, np.ones_like(a)))
