"""Sufficient images (``wavelets/sufficient.py``): the image rebuilt from its most important coefficients."""

import numpy as np
import pytest


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
