"""Shared mechanics of the faithfulness metrics (``_features``, ``_fills``, ``_resize``, ``_batches``): resizing,
blur, superpixels, tie-break, upsampling, fills, step batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from faithfulness_helpers import FnBlackbox, _independent_deletion_curve, channel0_mean

from xaitk_wcam.impls.faithfulness import AverageDrop, Deletion
from xaitk_wcam.impls.faithfulness._batches import step_batches
from xaitk_wcam.impls.faithfulness._features import step_counts
from xaitk_wcam.impls.faithfulness._fills import box_blur
from xaitk_wcam.impls.faithfulness._resize import bicubic_resize
from xaitk_wcam.utils.maps import upsample_nearest


def test_bicubic_and_nearest_match_torch():
    rng = np.random.default_rng(3)
    for in_hw, out_hw in (((7, 5), (23, 17)), ((14, 14), (56, 56)), ((3, 8), (3, 8)), ((1, 4), (9, 9))):
        sal_map = rng.normal(size=in_hw)
        expected = torch.nn.functional.interpolate(
            torch.from_numpy(sal_map)[None, None], size=out_hw, mode="bicubic", align_corners=False
        )[0, 0].numpy()
        np.testing.assert_allclose(bicubic_resize(sal_map, out_hw), expected, atol=1e-12)
    for in_hw, out_hw in (((7, 5), (21, 20)), ((14, 14), (56, 56)), ((3, 3), (8, 8)), ((5, 4), (15, 12))):
        sal_map = rng.normal(size=in_hw)
        expected = torch.nn.functional.interpolate(torch.from_numpy(sal_map)[None, None], size=out_hw)[0, 0]
        np.testing.assert_array_equal(upsample_nearest(sal_map, out_hw), expected.numpy())


def test_blur_equals_reference_box_blur_away_from_the_border(reference):
    from saliency_maps_metrics.data_replace import blur_data

    rng = np.random.default_rng(4)
    image = rng.random((60, 50, 3)).astype(np.float32)
    theirs = blur_data(torch.from_numpy(image.transpose(2, 0, 1)[None].copy()))[0].numpy().transpose(1, 2, 0)
    ours = box_blur(image)
    half = 12 // 2 + 1  # kernel max(60 // 5, 9) = 12 -> 13, half-width 6
    np.testing.assert_allclose(ours[half:-half, half:-half], theirs[half:-half, half:-half], atol=1e-5)
    # documented difference: the reference zero-pads, which darkens the border; we reflect
    assert theirs[0, 0].mean() < 0.5 * ours[0, 0].mean()


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


@pytest.mark.parametrize(
    ("fill", "expected"),
    [("black", 0.0), (100.0, 100.0), ("mean", None), ("blur", None), ("baseline", None)],
)
def test_fills_and_dtype(fill, expected):
    rng = np.random.default_rng(8)
    image = rng.integers(0, 256, size=(20, 20, 3), dtype=np.uint8)
    baseline = rng.integers(0, 256, size=(20, 20, 3)).astype(np.float64)
    if fill == "baseline":
        fill, expected = baseline, np.rint(baseline[..., 0]).mean()
    elif fill == "mean":
        expected = np.rint(image[..., 0].mean())
    elif fill == "blur":
        expected = np.clip(np.rint(box_blur(image)[..., 0]), 0, 255).mean()
    blackbox = FnBlackbox(lambda batch: channel0_mean(batch / 255))  # a probability: Deletion reads [0, 1]
    result = Deletion(fill=fill, batch_size=7).compute(image, rng.random((5, 5)), blackbox, 0)
    assert result.curve_y[0] == pytest.approx(image[..., 0].mean() / 255)
    assert result.curve_y[-1] == pytest.approx(expected / 255)
    assert all(dtype == np.uint8 and shape[1:] == (20, 20, 3) and shape[0] <= 7 for shape, dtype in blackbox.batches)


def test_batching_and_step_bound():
    blackbox = FnBlackbox(channel0_mean)
    Deletion(max_steps=None, batch_size=10).compute(
        np.ones((8, 8)), np.random.default_rng(0).random((8, 8)), blackbox, 0
    )
    assert [shape[0] for shape, _ in blackbox.batches] == [10] * 6 + [5]
    assert all(len(shape) == 3 for shape, _ in blackbox.batches)  # grayscale N x H x W
    counts = step_counts(841, 196)  # 841 // 196 = 4 per step; the reference fails on the last one
    assert counts[-1] == 841 and counts.size - 1 == 211 and np.diff(counts).max() == 4


@pytest.mark.parametrize("shape", [(9, 7, 3), (6, 10)])
def test_step_batches_equal_broadcast_masks(shape):
    rng = np.random.default_rng(11)
    base = rng.random(shape).astype(np.float32)
    replacement = rng.random(shape).astype(np.float32)
    pixel_rank = rng.integers(0, 12, size=shape[:2])  # 12 features, several pixels each
    counts = np.array([0, 2, 5, 5, 9, 12])
    sequences = [
        (np.zeros_like(counts), counts),  # cumulative
        (np.concatenate([[0], counts[:-1]]), np.concatenate([[0], counts[1:]])),  # one chunk per step
        (rng.integers(0, 6, size=20), rng.integers(6, 13, size=20)),  # arbitrary ranges
    ]
    for lo, hi in sequences:
        images = np.concatenate(list(step_batches(base, replacement, pixel_rank, lo, hi, batch_size=4)))
        mask = (pixel_rank[None] >= lo[:, None, None]) & (pixel_rank[None] < hi[:, None, None])
        expected = np.where(mask.reshape(mask.shape + (1,) * (len(shape) - 2)), replacement, base)
        np.testing.assert_array_equal(images, expected)
        assert images.dtype == np.float32
