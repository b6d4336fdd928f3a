"""The white-box interface (``interfaces/whitebox.py``): the classifier protocol, the input checks and the template's
checks of what an implementation returns."""

import numpy as np
import pytest
from whitebox_helpers import C, H, W, image_uint8, linear_classifier
from xaitk_saliency.exceptions import ShapeMismatchError

from xaitk_wcam.impls.gen_image_classifier_whitebox_sal import VanillaGradients
from xaitk_wcam.interfaces.explanation import PIXEL, MapExplanation
from xaitk_wcam.interfaces.whitebox import GenerateImageClassifierWhiteboxSaliency, WhiteboxClassifier


def test_classifiers_satisfy_the_protocol():
    assert isinstance(linear_classifier()[0], WhiteboxClassifier)
    assert not isinstance(object(), WhiteboxClassifier)


@pytest.mark.parametrize(
    ("image", "classifier", "indices", "error", "words"),
    [
        (image_uint8(), "linear", [4], ValueError, "class_indices"),
        (image_uint8(), "linear", [-1], ValueError, "class_indices"),
        (image_uint8(), "linear", [], ValueError, "class_indices"),
        (image_uint8(), "linear", [True], TypeError, "class_indices"),
        (image_uint8(), "linear", "0", TypeError, "class_indices"),
        (image_uint8(shape=(2, H, W, C)), "linear", [0], ValueError, "ref_image"),
        (image_uint8().astype(np.float32), "linear", [0], ValueError, r"\[0, 1\]"),
        (image_uint8().astype(np.int16), "linear", [0], TypeError, "uint8"),
        (image_uint8(), None, [0], TypeError, "classifier"),
    ],
)
def test_bad_inputs(image, classifier, indices, error, words):
    clf = linear_classifier()[0] if classifier == "linear" else object()
    with pytest.raises(error, match=words):
        VanillaGradients().generate(image, clf, indices)


def test_template_checks_the_implementation_output():
    class WrongShape(GenerateImageClassifierWhiteboxSaliency):
        def _explain(self, ref_image, classifier, class_indices):
            return MapExplanation({PIXEL: np.zeros((len(class_indices), 2, 2))}, list(class_indices))

        def get_config(self):
            return {}

    class OutOfRange(WrongShape):
        def _explain(self, ref_image, classifier, class_indices):
            maps = np.full((len(class_indices), *ref_image.shape[:2]), 2.0)
            return MapExplanation({PIXEL: maps}, list(class_indices))

    clf = linear_classifier()[0]
    with pytest.raises(ShapeMismatchError):
        WrongShape().generate(image_uint8(), clf, [0])
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        OutOfRange().generate(image_uint8(), clf, [0])
