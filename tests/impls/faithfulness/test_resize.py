"""Bicubic resizing of maps (``impls/faithfulness/_resize.py``) against torch."""

from __future__ import annotations

import numpy as np
import torch

from xaitk_wcam.impls.faithfulness._resize import bicubic_resize


def test_bicubic_matches_torch():
    rng = np.random.default_rng(3)
    for in_hw, out_hw in (((7, 5), (23, 17)), ((14, 14), (56, 56)), ((3, 8), (3, 8)), ((1, 4), (9, 9))):
        sal_map = rng.normal(size=in_hw)
        expected = torch.nn.functional.interpolate(
            torch.from_numpy(sal_map)[None, None], size=out_hw, mode="bicubic", align_corners=False
        )[0, 0].numpy()
        np.testing.assert_allclose(bicubic_resize(sal_map, out_hw), expected, atol=1e-12)
