"""Explanations and map spaces (``interfaces/explanation.py``): maps that know their space, the checks metrics make
with it, ready-made explanations and their scale shares."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from xaitk_wcam.impls.comparison import SSD
from xaitk_wcam.impls.saliency_metric import ScaleShare, SpatialSpread
from xaitk_wcam.interfaces.explanation import (
    MAP_SPACES,
    PIXEL,
    SPECTRUM,
    WAVELET,
    MapExplanation,
    SpaceMaps,
    accepted_levels,
    accepted_spaces,
    check_map_space,
    choose_space,
    with_space,
)


def test_space_maps_keep_their_space_through_slices_and_arithmetic_not_reductions():
    maps = with_space(np.ones((2, 4, 4)), WAVELET, {"levels": 2})
    assert isinstance(maps, SpaceMaps) and maps.space == WAVELET and maps.geometry == {"levels": 2}
    part = maps[0] * 2
    assert part.space == WAVELET and part.geometry == {"levels": 2}
    total = maps.sum()
    assert type(total) is not SpaceMaps and total == 32
    assert type(pickle.loads(pickle.dumps(maps))) is np.ndarray  # pickles as a plain array


def test_metrics_refuse_maps_of_another_space_or_other_levels():
    pixel, wavelet = with_space(np.zeros((8, 8)), PIXEL), with_space(np.zeros((8, 8)), WAVELET, {"levels": 3})
    check_map_space(SpatialSpread(), pixel)
    check_map_space(SSD(), wavelet)  # a comparison reads any space
    check_map_space(SpatialSpread(), np.zeros((8, 8)))  # a plain array says nothing: it passes
    with pytest.raises(ValueError, match="SpatialSpread reads pixel maps; sal_map is a wavelet map"):
        check_map_space(SpatialSpread(), wavelet)
    check_map_space(ScaleShare(levels=3), wavelet)
    with pytest.raises(ValueError, match="has levels=2 but ref is a wavelet map of levels=3"):
        check_map_space(ScaleShare(levels=2), wavelet, "ref")


def test_accepted_spaces_levels_and_the_space_chosen():
    assert accepted_spaces(SSD()) == MAP_SPACES and accepted_spaces(object()) == MAP_SPACES
    assert accepted_spaces(SpatialSpread()) == (PIXEL,) and accepted_spaces(ScaleShare()) == (WAVELET,)
    assert accepted_levels(ScaleShare(levels=2)) == 2 and accepted_levels(SSD()) is None
    assert accepted_levels(SpatialSpread()) is None
    assert choose_space((WAVELET, PIXEL), (PIXEL,)) == PIXEL
    assert choose_space((WAVELET, PIXEL), MAP_SPACES) == WAVELET  # the explanation's own first
    assert choose_space((PIXEL,), (SPECTRUM,)) is None


def test_map_explanations_and_their_level_shares():
    wavelet = np.zeros((2, 4, 4))
    wavelet[0, 0, 0] = 1.0  # approximation at 2 levels: the top-left 1 x 1
    wavelet[0, 2:, 2:] = 1.0  # the finest diagonal band
    explanation = MapExplanation({WAVELET: wavelet, PIXEL: np.ones((2, 4, 4))}, ["a", "b"], levels=2)
    assert explanation.space == WAVELET and explanation.spaces == (WAVELET, PIXEL)
    assert explanation.maps.space == WAVELET and explanation.maps.geometry == {"levels": 2}
    assert explanation.maps_in(PIXEL).geometry == {}
    np.testing.assert_allclose(explanation.level_shares(), [[0.2, 0.0, 0.8], [0.0, 0.0, 0.0]])
    assert MapExplanation({PIXEL: np.ones((1, 2, 2))}, ["a"]).level_shares() is None
    with pytest.raises(ValueError, match="not 'spectrum' maps"):
        explanation.maps_in(SPECTRUM)
    with pytest.raises(ValueError, match="needs its decomposition levels"):
        MapExplanation({WAVELET: wavelet}, ["a", "b"])
    with pytest.raises(ValueError, match="map spaces must be among"):
        MapExplanation({"frequency": wavelet}, ["a", "b"])
    with pytest.raises(ValueError, match="at least one map space"):
        MapExplanation({}, [])
