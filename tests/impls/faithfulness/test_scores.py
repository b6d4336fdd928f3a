"""The numbers reported from curves (``impls/faithfulness/_scores.py``): Pearson correlation and trapezoidal AUC."""

from __future__ import annotations

import numpy as np
import pytest

from xaitk_wcam.impls.faithfulness._scores import pearson, trapezoid


def test_pearson_is_numpys_correlation():
    x = np.array([0.0, 1.0, 2.0, 4.0])
    y = np.array([1.0, 3.0, 2.0, 7.0])
    assert pearson(x, y, "MuFidelity") == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert pearson(x, -2 * x + 1, "MuFidelity") == pytest.approx(-1.0)


@pytest.mark.parametrize(("x", "y"), [([1.0], [2.0]), ([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]), ([2.0, 2.0], [1.0, 3.0])])
def test_pearson_of_a_constant_or_short_series_is_nan_with_a_warning(x, y):
    with pytest.warns(RuntimeWarning, match="IC correlation is undefined"):
        assert np.isnan(pearson(np.array(x), np.array(y), "IC correlation"))


def test_trapezoid_by_hand():
    x = np.array([0.0, 0.5, 1.0])
    assert trapezoid(np.array([1.0, 0.0, 1.0]), x) == pytest.approx(0.5)
    assert trapezoid(np.array([0.2, 0.2, 0.2]), x) == pytest.approx(0.2)
    assert trapezoid(np.array([0.0, 1.0]), np.array([0.0, 3.0])) == pytest.approx(1.5)  # uneven steps
    y = np.random.default_rng(0).random(11)
    assert trapezoid(y, np.linspace(0, 1, 11)) == pytest.approx(np.trapezoid(y, np.linspace(0, 1, 11)))
