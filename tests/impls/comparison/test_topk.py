"""TopKIntersection (``impls/comparison/topk.py``): the share of the top pixels two maps have in common."""

from __future__ import annotations

import numpy as np
import pytest

from xaitk_wcam.impls.comparison import TopKIntersection


def test_top_k_intersection():
    a = np.arange(16.0).reshape(4, 4)
    b = a.copy()
    b[3, 3], b[0, 0] = b[0, 0], b[3, 3]  # the top pixel of a becomes the lowest of b
    assert TopKIntersection(4)(a, b) == pytest.approx(3 / 4)
    assert TopKIntersection(1)(a, b) == 0.0
    assert TopKIntersection(0.25)(a, a) == 1.0
    assert TopKIntersection(0.25).n_pixels(16) == 4 and TopKIntersection(0.01).n_pixels(16) == 1
    ties = np.zeros((2, 2))  # all tied: row-major tie-break, deterministic
    assert TopKIntersection(2)(ties, ties) == 1.0
    with pytest.raises(ValueError, match="exceeds"):
        TopKIntersection(17)(a, b)
    for bad in (0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="k must be"):
            TopKIntersection(bad)
    with pytest.raises(TypeError, match="k must be"):
        TopKIntersection(True)
