"""The non-negative mass of a map (``impls/saliency_metric/_mass.py``), shared by the map metrics."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from xaitk_wcam.impls.saliency_metric._mass import positive_mass


def test_negative_values_are_clipped_and_the_input_is_kept():
    values = np.array([[-1.0, 0.5], [2.0, -0.0]])
    copy = values.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a map with positive mass warns of nothing
        mass = positive_mass(values, "ScaleShare")
    np.testing.assert_array_equal(mass, [[0.0, 0.5], [2.0, 0.0]])
    np.testing.assert_array_equal(values, copy)


@pytest.mark.parametrize("values", [np.zeros((3, 3)), -np.ones((2, 4)), np.array([[-2.0, 0.0]])])
def test_no_positive_mass_is_none_with_a_warning_naming_the_metric(values):
    with pytest.warns(RuntimeWarning, match="SpatialSpread: the map has no positive importance"):
        assert positive_mass(values, "SpatialSpread") is None
