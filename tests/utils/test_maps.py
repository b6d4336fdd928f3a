"""Map helpers (``utils/maps.py``): nearest upsampling against torch, per-map normalisation."""

from __future__ import annotations

import numpy as np
import torch

from xaitk_wcam.utils.maps import nearest_source_index, normalise_max, upsample_nearest


def test_nearest_matches_torch():
    rng = np.random.default_rng(3)
    for in_hw, out_hw in (((7, 5), (21, 20)), ((14, 14), (56, 56)), ((3, 3), (8, 8)), ((5, 4), (15, 12))):
        sal_map = rng.normal(size=in_hw)
        expected = torch.nn.functional.interpolate(torch.from_numpy(sal_map)[None, None], size=out_hw)[0, 0]
        np.testing.assert_array_equal(upsample_nearest(sal_map, out_hw), expected.numpy())


def test_source_indices_cover_each_cell_in_order():
    assert nearest_source_index(8, 3).tolist() == [0, 0, 0, 1, 1, 1, 2, 2]
    assert nearest_source_index(4, 4).tolist() == [0, 1, 2, 3]
    grid = np.arange(6.0).reshape(2, 3)
    stack = upsample_nearest(np.stack([grid, -grid]), (4, 6))
    assert stack.shape == (2, 4, 6) and stack[1, 3, 5] == -5.0
    tensor = upsample_nearest(torch.from_numpy(np.stack([grid])), (4, 6))  # tensors: the same values
    np.testing.assert_array_equal(tensor.numpy(), stack[:1])


def test_normalise_max_clips_and_scales_each_map_and_keeps_zero_maps():
    maps = np.array([[[-1.0, 2.0], [4.0, 1.0]], [[-3.0, 0.0], [0.0, 0.0]]])
    out = normalise_max(maps)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[[0.0, 0.5], [1.0, 0.25]], [[0.0, 0.0], [0.0, 0.0]]])
    assert maps[0, 0, 0] == -1.0  # a float64 input is copied
    inplace = np.array([[[1.0, 2.0]]], dtype=np.float32)
    assert normalise_max(inplace) is inplace and inplace.tolist() == [[[0.5, 1.0]]]
