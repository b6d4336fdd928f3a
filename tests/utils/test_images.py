"""Pixel conversions (``utils/images.py``): integer and float images to uint8 by their dtype, PIL modes, alpha, the
range perturbed images are clipped to, and the cast back to the input's dtype."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from xaitk_wcam.utils.images import (
    PIL_MODES,
    float_to_uint8,
    integer_to_uint8,
    pil_image_array,
    split_alpha,
    to_input_dtype,
    value_range,
)


def test_integers_by_the_dtypes_full_range_never_by_the_values():
    dark = np.array([[10, 20]], np.uint8)
    assert integer_to_uint8(dark, "x") is dark
    np.testing.assert_array_equal(integer_to_uint8(np.array([0, 128, 129, 257, 65535], np.uint16), "x"),
                                  [0, 0, 1, 1, 255])  # fmt: skip
    np.testing.assert_array_equal(integer_to_uint8(np.array([True, False]), "x"), [255, 0])
    with pytest.raises(ValueError, match="img: int32 image; integer images must be uint8, uint16"):
        integer_to_uint8(np.array([1], np.int32), "img")


def test_floats_from_0_1():
    np.testing.assert_array_equal(float_to_uint8(np.array([0.0, 0.5, 1.0]), "x"), [0, 128, 255])
    with pytest.raises(ValueError, match=r"floating images must lie in \[0, 1\]; got \[0.0, 2.0\]"):
        float_to_uint8(np.array([0.0, 2.0]), "x")
    with pytest.raises(ValueError, match="holds NaN"):
        float_to_uint8(np.array([np.nan]), "x")


def test_pil_modes_by_their_rule():
    grey = np.array([[0, 100], [200, 255]], np.uint8)
    np.testing.assert_array_equal(pil_image_array(Image.fromarray(grey)), grey)
    rgba = np.dstack([grey, grey, grey, np.full((2, 2), 7, np.uint8)])
    assert pil_image_array(Image.fromarray(rgba)).shape == (2, 2, 3)  # alpha dropped
    floats = Image.fromarray(np.array([[0.0, 1.0]], np.float32), mode="F")
    np.testing.assert_array_equal(pil_image_array(floats), [[0, 255]])
    with pytest.raises(ValueError, match=r"pic: mode F \(32-bit float\)"):
        pil_image_array(Image.fromarray(np.array([[2.0]], np.float32), mode="F"), "pic")
    with pytest.raises(ValueError, match=r"mode I \(32-bit integer\) with values in"):
        pil_image_array(Image.fromarray(np.array([[70000]], np.int32), mode="I"))
    assert {"1", "L", "RGB", "RGBA", "I;16", "I", "F"} <= set(PIL_MODES)


def test_split_alpha():
    colour, alpha = split_alpha(np.zeros((2, 2, 4)))
    assert colour.shape == (2, 2, 3) and alpha.shape == (2, 2, 1)
    colour, alpha = split_alpha(np.zeros((2, 2, 2)))  # grey + alpha
    assert colour.shape == (2, 2, 1) and alpha.shape == (2, 2, 1)
    colour, alpha = split_alpha(np.zeros((2, 2)))
    assert colour.shape == (2, 2, 1) and alpha is None
    assert split_alpha(np.zeros((2, 2, 3)))[1] is None


def test_value_range_of_integers_and_floats():
    assert value_range(np.zeros((2, 2), np.uint8)) == (0.0, 255.0)
    assert value_range(np.zeros((2, 2), np.int16)) == (-32768.0, 32767.0)
    assert value_range(np.array([0.2, 0.4])) == (0.0, 1.0)
    assert value_range(np.array([-2.0, 3.0])) == (-2.0, 3.0)  # floats beyond [0, 1] keep their own range


def test_to_input_dtype_clips_and_rounds_half_up():
    images = torch.tensor([[[[-3.0], [0.5], [1.5], [254.6], [300.0]]]])
    out = to_input_dtype(images.clone(), np.zeros((1,), np.uint8), 0.0, 255.0)
    assert out.dtype == np.uint8 and out.ravel().tolist() == [0, 1, 2, 255, 255]
    floats = to_input_dtype(torch.tensor([[[[-0.5], [0.25], [1.5]]]]), np.zeros((1,), np.float32), 0.0, 1.0)
    assert floats.dtype == np.float32 and floats.ravel().tolist() == [0.0, 0.25, 1.0]
