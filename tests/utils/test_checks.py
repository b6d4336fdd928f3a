"""The package's input checks (``utils/checks.py``): what each accepts, converts, and how it names a refusal."""

from __future__ import annotations

import numpy as np
import pytest
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.utils.checks import (
    check_blackbox,
    check_boxes,
    check_choice,
    check_detector,
    check_float,
    check_image,
    check_int,
    check_map,
    check_samples,
)


def test_check_int():
    assert check_int("n", np.int64(3), 1) == 3 and type(check_int("n", np.int64(3), 1)) is int
    assert check_int("limit", None, 1, allow_none=True) is None
    with pytest.raises(TypeError, match=r"n must be an int >= 1, got True \(bool\)"):
        check_int("n", True, 1)
    with pytest.raises(TypeError, match="n must be an int"):
        check_int("n", 2.0)
    with pytest.raises(ValueError, match="n must be an int >= 1 and <= 4, got 5"):
        check_int("n", 5, 1, maximum=4)
    with pytest.raises(TypeError, match="or None"):
        check_int("limit", "3", 1, allow_none=True)


def test_check_float():
    assert check_float("sigma", 1, 0.0) == 1.0
    assert check_float("p", 0.0, 0.0, 1.0, strict=False) == 0.0
    assert check_float("p", None, allow_none=True) is None
    with pytest.raises(ValueError, match=r"p must be a finite number in \(0.0, 1.0\), got 1.0"):
        check_float("p", 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"in \[0.0, 1.0\]"):
        check_float("p", 1.5, 0.0, 1.0, strict=False)
    with pytest.raises(ValueError, match="a finite number, got nan"):
        check_float("x", float("nan"))
    with pytest.raises(TypeError, match="sigma"):
        check_float("sigma", np.True_)


def test_check_choice():
    assert check_choice("output", "logit", ("probability", "logit")) == "logit"
    with pytest.raises(ValueError, match=r"output must be one of \['logit', 'probability'\], got 'softmax'"):
        check_choice("output", "softmax", ("probability", "logit"))
    with pytest.raises(ValueError, match="output"):
        check_choice("output", 1, ("probability", "logit"))


def test_check_image():
    image = np.zeros((4, 5, 3), np.uint8)
    assert check_image(image) is image
    for accepted in (np.zeros((4, 5)), np.zeros((4, 5, 1), np.uint16), np.zeros((4, 5, 4), np.float32)):
        check_image(accepted)
    with pytest.raises(TypeError, match="ref_image must be a numpy array"):
        check_image([[0, 1]])
    with pytest.raises(TypeError, match="integer or float dtype"):
        check_image(np.zeros((4, 5), bool))
    with pytest.raises(ValueError, match="1 to 4 channels"):
        check_image(np.zeros((4, 5, 5)))
    with pytest.raises(ValueError, match=r"2 \(H x W\) or 3"):
        check_image(np.zeros((1, 4, 5, 3)))
    with pytest.raises(ValueError, match="empty"):
        check_image(np.zeros((0, 5)), "image")
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_image(np.full((2, 2), np.inf))


def test_check_map_copies_and_tolerates_nan_only_when_asked():
    ints = np.arange(4).reshape(2, 2)
    values = check_map(ints)
    assert values.dtype == np.float64 and values is not ints
    values[0, 0] = 9
    assert ints[0, 0] == 0  # a copy
    with pytest.raises(ValueError, match="NaN"):
        check_map(np.array([[np.nan, 1.0]]))
    with pytest.warns(RuntimeWarning, match="1 NaN entries; they are given the map's minimum"):
        np.testing.assert_array_equal(check_map(np.array([[np.nan, 1.0, 3.0]]), nan_as_min=True), [[1.0, 1.0, 3.0]])
    with pytest.raises(ValueError, match="all NaN"):
        check_map(np.full((2, 2), np.nan), nan_as_min=True)
    with pytest.raises(ValueError, match="infinite"):
        check_map(np.array([[np.inf]]))
    with pytest.raises(TypeError, match="real numeric"):
        check_map(np.ones((2, 2), complex))
    with pytest.raises(ValueError, match="H x W"):
        check_map(np.ones(3), "ref_sal_map")


def test_check_boxes():
    boxes = check_boxes(np.array([[0, 0, 2, 3]], np.int32))
    assert boxes.dtype == np.float64 and boxes.tolist() == [[0.0, 0.0, 2.0, 3.0]]
    with pytest.raises(ValueError, match=r"rows \[1\] are not boxes"):
        check_boxes(np.array([[0, 0, 2, 3], [5, 0, 5, 3]]))
    with pytest.raises(ValueError, match="empty"):
        check_boxes(np.zeros((0, 4)))
    with pytest.raises(ValueError, match="N x 4"):
        check_boxes(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_boxes(np.array([[0, 0, np.nan, 1]]))
    with pytest.raises(TypeError, match="N x 4"):
        check_boxes([[0, 0, 1, 1]])


def test_check_samples():
    values = check_samples([1, 2, np.nan], "change")
    assert values.dtype == np.float64 and np.isnan(values[2])
    assert check_samples(np.array([True, False]), "flip").tolist() == [1.0, 0.0]
    assert check_samples([[1, 2], [3, 4]], "curves", ndim=2).shape == (2, 2)
    with pytest.raises(ValueError, match=r"change must be 1-dimensional \(one value per image\)"):
        check_samples([[1, 2]], "change")
    with pytest.raises(TypeError, match="real numbers or bools"):
        check_samples(["a", "b"], "change")
    with pytest.raises(TypeError, match="real numbers"):
        check_samples([[1, 2], [3]], "curves", ndim=2)


def test_check_blackbox_and_detector():
    class Two(ClassifyImage):
        def get_labels(self):
            return ("a", "b")

        def classify_images(self, img_iter):
            return iter(())

        def get_config(self):
            return {}

    assert check_blackbox(Two()) == ["a", "b"]
    with pytest.raises(TypeError, match=r"blackbox must be a smqtk_detection\.DetectImageObjects, got Two"):
        check_detector(Two())
    with pytest.raises(TypeError, match=r"classifier must be a smqtk_classifier\.ClassifyImage, got object"):
        check_blackbox(object(), "classifier")
