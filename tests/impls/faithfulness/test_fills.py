"""Fills of removed pixels (``impls/faithfulness/_fills.py``): the box blur against the reference package, every
fill and the dtype of the images the model sees."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from faithfulness_helpers import FnBlackbox, channel0_mean

from xaitk_wcam.impls.faithfulness import Deletion
from xaitk_wcam.impls.faithfulness._fills import box_blur


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
