"""Features of a map (``impls/faithfulness/_features.py``): superpixels, the tie-break of equal values, non-integer
upsampling, step counts and batches."""

from __future__ import annotations

import numpy as np
import pytest
from faithfulness_helpers import FnBlackbox, _independent_deletion_curve, channel0_mean

from xaitk_wcam.impls.faithfulness import AverageDrop, Deletion
from xaitk_wcam.impls.faithfulness._features import step_counts


def test_superpixels_sum_importance_before_ordering():
    image = np.zeros((16, 16, 3))
    for (r, c), value in {(0, 0): 0.1, (0, 1): 0.2, (1, 0): 0.3, (1, 1): 0.4}.items():
        image[8 * r : 8 * r + 8, 8 * c : 8 * c + 8, 0] = value
    sal_map = np.zeros((16, 16))
    sal_map[0, 0] = 10.0  # block (0, 0): sum 10, the highest single pixel
    sal_map[8:, 8:] = 0.5  # block (1, 1): sum 32
    result = Deletion(superpixel_size=8).compute(image, sal_map, FnBlackbox(channel0_mean), 0)
    # order: (1, 1), (0, 0), then the tied zero blocks in row-major order (0, 1), (1, 0)
    np.testing.assert_allclose(result.curve_y, [0.25, 0.15, 0.125, 0.075, 0.0], atol=1e-12)
    partial = Deletion(superpixel_size=8).compute(
        np.ones((20, 20, 3)), np.ones((5, 5)) + np.eye(5), FnBlackbox(channel0_mean), 0
    )
    assert partial.curve_y.size == 10  # 3 x 3 blocks, the last row and column partial
    assert partial.curve_y[-1] == 0.0


def test_constant_map_uses_the_row_major_tie_break():
    rng = np.random.default_rng(6)
    image = rng.random((4, 4, 1))
    with pytest.warns(RuntimeWarning, match="constant"):
        result = Deletion().compute(image, np.full((4, 4), 0.3), FnBlackbox(channel0_mean), 0)
    np.testing.assert_allclose(result.curve_y, _independent_deletion_curve(image[..., 0].ravel(), 16, image.mean()))
    with pytest.warns(RuntimeWarning, match="constant"):
        scores = AverageDrop().compute(image, np.full((2, 2), 0.3), FnBlackbox(channel0_mean), 0).scores
    assert scores["ad"] == pytest.approx(0.0, abs=1e-12)  # all-ones mask keeps the image


def test_non_integer_upsampling_ratio_covers_every_pixel_once():
    sal_map = np.arange(9.0).reshape(3, 3)
    result = Deletion().compute(np.ones((8, 8, 3)), sal_map, FnBlackbox(channel0_mean), 0)
    drops = -np.diff(result.curve_y) * 64
    rows = np.array([3, 3, 2])  # floor(dst * 3 / 8) -> rows 0,0,0 1,1,1 2,2
    expected = np.outer(rows, rows).ravel()[::-1]  # largest map value (cell 8) first
    np.testing.assert_allclose(drops, expected, atol=1e-9)


def test_batching_and_step_bound():
    blackbox = FnBlackbox(channel0_mean)
    Deletion(max_steps=None, batch_size=10).compute(
        np.ones((8, 8)), np.random.default_rng(0).random((8, 8)), blackbox, 0
    )
    assert [shape[0] for shape, _ in blackbox.batches] == [10] * 6 + [5]
    assert all(len(shape) == 3 for shape, _ in blackbox.batches)  # grayscale N x H x W
    counts = step_counts(841, 196)  # 841 // 196 = 4 per step; the reference fails on the last one
    assert counts[-1] == 841 and counts.size - 1 == 211 and np.diff(counts).max() == 4
