"""The shipped ScaleShapes classifiers (``models/scale_shapes.py``): accuracy and cue bias on fresh images, small
safetensors folders. (``tests/datasets/test_scale_shapes.py`` tests the data set of the same name.)"""

from __future__ import annotations

import numpy as np
import pytest

from xaitk_wcam.datasets import CLASS_NAMES, scale_shapes, stack_images
from xaitk_wcam.models.scale_shapes import scale_shapes_classifier, scale_shapes_folder


def _predict(classifier, samples):
    labels = list(classifier.get_labels())
    return np.array([labels.index(max(r, key=r.get)) for r in classifier.classify_images(stack_images(samples))])


@pytest.mark.parametrize("kind", ["standard", "robust"])
def test_shipped_model_accuracy_and_bias(kind):
    classifier = scale_shapes_classifier(kind, device="cpu")
    assert list(classifier.get_labels()) == list(CLASS_NAMES)
    assert classifier.preprocessing_check < 1e-5  # torch preprocessing == the saved processor
    test = scale_shapes(200, seed=11, split="test")
    assert (_predict(classifier, test) == [s.label for s in test]).mean() > 0.9
    conflict = scale_shapes(200, seed=11, split="cue_conflict")
    predicted = _predict(classifier, conflict)
    follows = "texture_label" if kind == "standard" else "shape_label"
    assert (predicted == [getattr(s, follows) for s in conflict]).mean() > 0.8


def test_shipped_folders_are_small_safetensors():
    for kind in ("standard", "robust"):
        folder = scale_shapes_folder(kind)
        assert (folder / "model.safetensors").stat().st_size < 3_000_000
        assert (folder / "preprocessor_config.json").is_file()
    with pytest.raises(ValueError, match="kind"):
        scale_shapes_folder("medium")
