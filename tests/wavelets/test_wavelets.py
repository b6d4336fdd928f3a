"""Wavelet layout, transforms and masked reconstruction against pywt's numbers."""

import warnings

import numpy as np
import pytest
import pywt
import torch

from xaitk_wcam.wavelets import band_layout, level_index_map, wavedec_layout, waverec_layout
from xaitk_wcam.wavelets.layout import grid_cell_index
from xaitk_wcam.wavelets.masking import MaskedWaveletImages
from xaitk_wcam.wavelets.reprojection import scale_profile, spatial_maps


def test_haar_layout_matches_pywt_coeffs_to_array():
    image = np.random.default_rng(0).random((2, 32, 48))
    expected, _ = pywt.coeffs_to_array(pywt.wavedec2(image, "haar", level=3, axes=(-2, -1)), axes=(-2, -1))
    np.testing.assert_allclose(wavedec_layout(torch.from_numpy(image), "haar", 3).numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("wavelet", ["haar", "db2", "sym3"])
def test_transform_round_trip(wavelet):
    image = torch.from_numpy(np.random.default_rng(1).random((3, 64, 32)))
    layout = wavedec_layout(image, wavelet, 3)
    assert layout.shape == image.shape
    torch.testing.assert_close(waverec_layout(layout, wavelet, 3), image)


def test_band_layout_and_levels():
    bands = band_layout(16, 32, 2)
    assert [(b.level, b.orientation) for b in bands] == [
        (0, "approximation"),
        (1, "horizontal"),
        (1, "vertical"),
        (1, "diagonal"),
        (2, "horizontal"),
        (2, "vertical"),
        (2, "diagonal"),
    ]
    assert bands[0].shape == (4, 8) and bands[-1].shape == (8, 16)
    levels = level_index_map(16, 32, 2)
    assert (levels == 0).sum() == 32 and (levels == 1).sum() == 96 and (levels == 2).sum() == 384
    with pytest.raises(ValueError, match="multiple"):
        band_layout(12, 16, 3)


@pytest.mark.parametrize("wavelet", ["haar", "db2"])
def test_masked_images_equal_inverse_of_masked_layout(wavelet):
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(3, 32, 48, generator=generator)
    masks = torch.rand(5, 6, 6, generator=generator)
    got = MaskedWaveletImages(image, wavelet, 3, 6)(masks)
    rows = torch.from_numpy(grid_cell_index(32, 6))
    cols = torch.from_numpy(grid_cell_index(48, 6))
    layout = wavedec_layout(image, wavelet, 3)
    expected = waverec_layout(layout[None] * masks[:, rows][:, :, cols][:, None], wavelet, 3).permute(0, 2, 3, 1)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_full_masks_give_the_image_back():
    image = torch.rand(1, 16, 16)
    torch.testing.assert_close(MaskedWaveletImages(image, "haar", 2, 4)(torch.ones(2, 4, 4))[1, ..., 0], image[0])


def test_reprojection_of_one_cell():
    # 16x16 layout, 2 levels, grid 4: cell (3, 3) is the bottom-right quarter of the finest diagonal band.
    indices = np.zeros((1, 4, 4))
    indices[0, 3, 3] = 1.0
    spatial = spatial_maps(indices, (16, 16), 2, (16, 16))[0]
    # The finest diagonal coefficients at layout rows/cols 12..15 cover pixels 8..15 (footprint 2).
    assert spatial[8:, 8:].min() == 1 and spatial.sum() == 64
    np.testing.assert_allclose(scale_profile(indices, (16, 16), 2), [[0, 0, 1]])
    assert np.all(scale_profile(np.zeros((2, 4, 4)), (16, 16), 2) == 0)


def test_sufficient_image_keeps_the_most_important_coefficients():
    from xaitk_wcam import sufficient_image, sufficient_images

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    importance = np.zeros((32, 32))
    importance[:4, :4] = 1.0  # the approximation band at 3 levels
    full, approx_only, nothing = sufficient_images(image, importance, [1.0, 16 / 1024, 0.0])
    np.testing.assert_array_equal(full, image)  # all coefficients: the image itself
    assert np.all(nothing == 0)
    # Approximation only: every 8x8 block is constant, its mean (within rounding).
    blocks = image.astype(float).reshape(4, 8, 4, 8, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(approx_only.astype(float).reshape(4, 8, 4, 8, 3)[:, 0, :, 0], blocks, atol=0.51)
    single = sufficient_image(image[..., 0], importance, 0.5)
    assert single.shape == (32, 32) and single.dtype == np.uint8


def test_sufficient_image_wrong_input():
    from xaitk_wcam import sufficient_image

    image = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="shape"):
        sufficient_image(image, np.zeros((16, 16)), 0.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        sufficient_image(image, np.zeros((32, 32)), 1.5)
    with pytest.raises(ValueError, match="NaN"):
        sufficient_image(image, np.full((32, 32), np.nan), 0.5)


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


@pytest.mark.parametrize("wavelet", ["haar", "db3", "sym4", "db8", "coif3"])
def test_the_size_check_is_the_transforms_true_limit(wavelet):
    """Issue 20, failure 7: the check refuses exactly the sizes where ptwt's boundary-wavelet transform fails or
    does not invert (found by running it), and nothing it can do."""
    from xaitk_wcam.wavelets.layout import check_decomposable, smallest_side

    for levels in (1, 2, 3):
        step = 2**levels
        limit = pywt.Wavelet(wavelet).dec_len * 2 ** (levels - 1)  # the limit the module states (a multiple of step)
        for side in (limit - 2 * step, limit - step, limit, limit + step):
            if side < step:
                continue
            image = torch.rand(1, side, side + step)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    back = waverec_layout(wavedec_layout(image, wavelet, levels), wavelet, levels)
                works = back.shape == image.shape and float((back - image).abs().max()) < 1e-4
            except Exception:
                works = False
            try:
                check_decomposable((side, side + step), wavelet, levels)
                accepted = True
            except ValueError as err:
                assert f"{wavelet}" in str(err) and f">= {smallest_side(wavelet, levels)}" in str(err)
                accepted = False
            assert accepted == works, (wavelet, levels, side, works)


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


def test_ties_are_broken_without_reading_the_image_or_the_layout():
    """Ties were broken by coefficient magnitude: an all-zero map ranked every coefficient as the magnitude oracle.
    Now the tie order is one fixed permutation: the same for every image, uncorrelated with magnitude and rows."""
    from scipy.stats import spearmanr

    from xaitk_wcam.wavelets.coefficients import CoefficientImages

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (64, 48, 3), dtype=np.uint8), np.linspace(0, 1, 64 * 48).reshape(64, 48)]
    ranks = []
    for image in images:
        coefficients = CoefficientImages(image, wavelet="haar", levels=3)
        with pytest.warns(RuntimeWarning, match="wavelet map is constant: no ordering"):
            ranks.append(coefficients.ranks(np.zeros(image.shape[:2])))
        magnitude = coefficients.layout.abs().sum(dim=0).numpy().ravel()
        assert abs(spearmanr(ranks[-1], -magnitude)[0]) < 0.1  # the old tie-break gave 1.0
    assert abs(spearmanr(ranks[0], np.arange(ranks[0].size) // 48)[0]) < 0.1  # not the layout's rows either
    np.testing.assert_array_equal(ranks[0], ranks[1])  # the image is never read
    np.testing.assert_array_equal(np.sort(ranks[0]), np.arange(64 * 48))
    # a map that orders some positions: they come first, in its order; only its ties take the fixed order
    wavelet_map = np.zeros((64, 48))
    wavelet_map[0, :3] = [3.0, 2.0, 1.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not constant: no warning
        rank = CoefficientImages(images[0], wavelet="haar", levels=3).ranks(wavelet_map)
    assert rank[:3].tolist() == [0, 1, 2] and rank[3:].min() == 3


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
