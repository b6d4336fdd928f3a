"""Reprojection of layout importance (``wavelets/reprojection.py``): spatial maps, scale profiles, level maps."""

import numpy as np

from xaitk_wcam.wavelets import level_index_map
from xaitk_wcam.wavelets.reprojection import scale_profile, spatial_maps


def test_reprojection_of_one_cell():
    # 16x16 layout, 2 levels, grid 4: cell (3, 3) is the bottom-right quarter of the finest diagonal band.
    indices = np.zeros((1, 4, 4))
    indices[0, 3, 3] = 1.0
    spatial = spatial_maps(indices, (16, 16), 2, (16, 16))[0]
    # The finest diagonal coefficients at layout rows/cols 12..15 cover pixels 8..15 (footprint 2).
    assert spatial[8:, 8:].min() == 1 and spatial.sum() == 64
    np.testing.assert_allclose(scale_profile(indices, (16, 16), 2), [[0, 0, 1]])
    assert np.all(scale_profile(np.zeros((2, 4, 4)), (16, 16), 2) == 0)


def test_level_maps_split_the_spatial_map_by_level():
    from xaitk_wcam.wavelets.reprojection import level_maps

    importance = np.random.default_rng(3).random((1, 16, 24)).astype(np.float32)
    whole = spatial_maps(importance, (16, 24), 2, (16, 24))[0]
    parts = level_maps(importance[0], 2)
    assert parts.shape == (3, 16, 24)
    np.testing.assert_allclose(parts.sum(axis=0), whole, rtol=1e-6)
    single = np.zeros((16, 16), np.float32)
    single[0, 0] = 1.0  # one approximation coefficient: its 4 x 4 block, in the approximation panel only
    parts = level_maps(single, 2)
    assert parts[0, :4, :4].min() == 1.0 and parts[0].sum() == 16 and parts[1:].sum() == 0


def test_spatial_maps_of_many_classes_are_computed_in_chunks_with_the_same_values(monkeypatch):
    from xaitk_wcam.wavelets import reprojection

    indices = np.random.default_rng(0).random((70, 6, 6))
    assert reprojection.CLASS_CHUNK < 70
    chunked = spatial_maps(indices, (48, 40), 3, (45, 37))
    monkeypatch.setattr(reprojection, "CLASS_CHUNK", 1000)
    np.testing.assert_array_equal(chunked, spatial_maps(indices, (48, 40), 3, (45, 37)))
    assert chunked.shape == (70, 45, 37) and chunked.dtype == np.float32


def test_per_pixel_level_maps_total_each_levels_importance():
    """A panel's total is its level's importance: the brightest per-level panel is the level with the most."""
    from xaitk_wcam.wavelets.layout import level_index_map
    from xaitk_wcam.wavelets.reprojection import level_maps

    layout = np.random.default_rng(4).random((32, 48)).astype(np.float32)
    totals = np.array([layout[level_index_map(32, 48, 3) == level].sum() for level in range(4)])
    maps = level_maps(layout, 3, per_pixel=True)
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), totals, rtol=1e-5)
    painted = level_maps(layout, 3)
    assert painted[1].sum() / painted[3].sum() > 10 * totals[1] / totals[3]  # painting inflates coarse levels


def test_a_wavelet_map_of_any_shape_is_read_back_onto_its_own_layout():
    """wavelet_maps shows layout row h * Hp // H on map row h; reading it back must give every shown coefficient its
    own value and every dropped one a value of its own band (r * H // Hp moved band boundaries by a row)."""
    from xaitk_wcam.wavelets.layout import padded_size
    from xaitk_wcam.wavelets.reprojection import layout_map, map_source, wavelet_maps

    for levels in range(1, 6):
        for size in range(2**levels, 200):
            padded = padded_size(size, levels)
            source = map_source(size, padded, levels)
            shown = np.arange(size) * padded // size
            np.testing.assert_array_equal(shown[source][shown], shown)  # shown rows come back exactly
            edges = padded >> np.arange(levels, 0, -1)
            band = np.searchsorted(edges, np.arange(padded), side="right")
            np.testing.assert_array_equal(band[shown[source]], band)  # dropped rows stay in their band
    # a full-resolution map (one cell per coefficient, as WAM's) of a 30 x 45 image: every band keeps its values
    layout = level_index_map(32, 48, 2).astype(np.float64)[None]
    back = layout_map(wavelet_maps(layout, (32, 48), (30, 45))[0], 2)
    np.testing.assert_array_equal(back, layout[0])
