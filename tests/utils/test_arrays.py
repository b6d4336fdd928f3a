"""The one conversion of MAITE outputs to numpy (``utils/arrays.py``)."""

from __future__ import annotations

import numpy as np
import torch

from xaitk_wcam.utils.arrays import to_numpy


def test_tensors_are_detached_and_moved_to_numpy():
    tensor = torch.arange(6.0, requires_grad=True).reshape(2, 3) * 2  # part of a graph: needs detaching
    out = to_numpy(tensor)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0, 2, 4], [6, 8, 10]])


def test_anything_else_goes_through_asarray():
    array = np.ones((2, 2))
    assert to_numpy(array) is array
    np.testing.assert_array_equal(to_numpy([[1, 2], [3, 4]]), [[1, 2], [3, 4]])
    assert to_numpy(0.5).shape == ()
