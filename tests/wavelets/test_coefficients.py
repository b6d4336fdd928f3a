"""One image's coefficients ranked by a wavelet map and images rebuilt from subsets (``wavelets/coefficients.py``)."""

import warnings

import numpy as np
import pytest

from xaitk_wcam.wavelets.coefficients import CoefficientImages, tie_order
from xaitk_wcam.wavelets.reprojection import layout_map


def _image(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_keeping_every_coefficient_gives_the_image_back_and_none_gives_black():
    image = _image((30, 20, 3))
    coefficients = CoefficientImages(image, wavelet="haar", levels=2)
    assert coefficients.padded_shape == (32, 20) and coefficients.layout.shape == (3, 32, 20)
    rebuilt = coefficients.images(np.stack([np.ones(32 * 20), np.zeros(32 * 20)]))
    assert rebuilt.shape == (2, 30, 20, 3) and rebuilt.dtype == np.uint8
    np.testing.assert_array_equal(rebuilt[0], image)
    assert np.all(rebuilt[1] == 0)


def test_grey_and_alpha_images_keep_their_shape_and_alpha():
    grey = _image((16, 16), 1)
    assert CoefficientImages(grey, wavelet="haar", levels=2).images(np.ones((1, 256))).shape == (1, 16, 16)
    rgba = _image((16, 16, 4), 2)
    rebuilt = CoefficientImages(rgba, wavelet="db2", levels=1).images(np.zeros((1, 16, 16)))
    np.testing.assert_array_equal(rebuilt[0, ..., 3], rgba[..., 3])  # alpha passed through
    assert np.all(rebuilt[0, ..., :3] == 0)


def test_approximation_only_is_the_block_mean():
    image = _image((8, 8, 1), 3).astype(np.float64) / 255
    coefficients = CoefficientImages(image, wavelet="haar", levels=2)
    keep = np.zeros((8, 8))
    keep[:2, :2] = 1.0  # the 2 x 2 approximation band of an 8 x 8 layout at 2 levels
    rebuilt = coefficients.images(keep[None])[0, ..., 0]
    blocks = image[..., 0].reshape(2, 4, 2, 4).mean(axis=(1, 3))
    np.testing.assert_allclose(rebuilt, np.kron(blocks, np.ones((4, 4))), atol=1e-12)


def test_importance_ranks_and_grid_cells():
    image = _image((8, 8, 3), 4)
    coefficients = CoefficientImages(image, wavelet="haar", levels=1)
    wavelet_map = np.zeros((8, 8))
    wavelet_map[5, 6] = 2.0
    wavelet_map[0, 1] = 1.0
    importance = coefficients.importance(wavelet_map)
    assert importance.shape == (64,) and importance[5 * 8 + 6] == 2.0 and importance.sum() == 3.0
    ranks = coefficients.ranks(wavelet_map)
    assert sorted(ranks) == list(range(64))
    assert ranks[5 * 8 + 6] == 0 and ranks[1] == 1  # the most important first
    tied = np.flatnonzero(importance == 0)
    assert np.all(np.diff(tie_order(64)[tied][np.argsort(ranks[tied])]) > 0)  # ties: in the fixed tie order
    assert sorted(tie_order(64)) == list(range(64)) and tie_order(64).tolist() == tie_order(64).tolist()
    cells = coefficients.grid_cells(2).reshape(8, 8)
    assert cells[0, 0] == 0 and cells[0, 7] == 1 and cells[7, 0] == 2 and cells[7, 7] == 3
    assert np.all(np.bincount(cells.ravel()) == 16)


def test_a_map_of_another_shape_is_read_back_onto_the_padded_layout():
    image = _image((10, 10, 3), 5)  # padded to 12 x 12 at 2 levels
    coefficients = CoefficientImages(image, wavelet="haar", levels=2)
    assert coefficients.padded_shape == (12, 12)
    wavelet_map = np.arange(100, dtype=float).reshape(10, 10)
    importance = coefficients.importance(wavelet_map)
    assert importance.shape == (144,)
    np.testing.assert_array_equal(importance, layout_map(wavelet_map, 2).ravel())
    square = np.arange(144, dtype=float).reshape(12, 12)  # a map of the padded size is the layout itself
    np.testing.assert_array_equal(CoefficientImages(_image((12, 12, 3)), wavelet="haar", levels=2).importance(square),
                                  square.ravel())  # fmt: skip


def test_wrong_input():
    with pytest.raises(ValueError, match="wavelet"):
        CoefficientImages(_image((16, 16, 3)), wavelet="nope", levels=1)
    with pytest.raises(ValueError, match="levels"):
        CoefficientImages(_image((16, 16, 3)), wavelet="haar", levels=0)
    with pytest.raises(ValueError):
        CoefficientImages(_image((4, 4, 3)), wavelet="db8", levels=3)  # too small for the transform


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
