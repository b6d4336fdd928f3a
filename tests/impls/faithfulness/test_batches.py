"""Step batches (``impls/faithfulness/_batches.py``): the images of a curve's steps, batch by batch."""

from __future__ import annotations

import numpy as np
import pytest

from xaitk_wcam.impls.faithfulness._batches import step_batches


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
