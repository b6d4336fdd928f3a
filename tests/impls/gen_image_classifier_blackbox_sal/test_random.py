"""RandomSaliency: the seeded Gaussian-noise baseline."""

from __future__ import annotations

import json

import numpy as np
import pytest
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from xaitk_saliency.interfaces.gen_image_classifier_blackbox_sal import (
    GenerateImageClassifierBlackboxSaliency,
)

from xaitk_wcam.impls.gen_image_classifier_blackbox_sal import RandomSaliency


class LabelsOnly(ClassifyImage):
    def get_labels(self):
        return ["a", "b", "c"]

    def classify_images(self, img_iter):
        raise AssertionError("RandomSaliency must not query the model")

    def get_config(self):
        return {}


@pytest.fixture
def image():
    return np.random.default_rng(0).integers(0, 256, size=(24, 32, 3), dtype=np.uint8)


def test_shape_range_and_noise(image):
    maps = RandomSaliency(seed=1)(image, LabelsOnly())
    assert maps.shape == (3, 24, 32) and maps.dtype == np.float64
    assert np.abs(maps).max(axis=(1, 2)) == pytest.approx(np.ones(3))
    flat = maps.reshape(3, -1)
    assert np.abs(flat.mean(axis=1)).max() < 0.05  # centred noise
    assert np.abs(np.corrcoef(flat)[np.triu_indices(3, 1)]).max() < 0.15  # independent per class
    gray = RandomSaliency()(image[..., 0], LabelsOnly())
    assert gray.shape == (3, 24, 32)


def test_seeded_and_image_dependent(image):
    first = RandomSaliency(seed=5)(image, LabelsOnly())
    np.testing.assert_array_equal(first, RandomSaliency(seed=5)(image, LabelsOnly()))
    np.testing.assert_array_equal(first, RandomSaliency(seed=5)(image.copy(), LabelsOnly()))
    assert not np.array_equal(first, RandomSaliency(seed=6)(image, LabelsOnly()))
    perturbed = image.copy()
    perturbed[0, 0, 0] ^= 1
    other = RandomSaliency(seed=5)(perturbed, LabelsOnly())
    assert abs(np.corrcoef(first.ravel(), other.ravel())[0, 1]) < 0.1


def test_wrong_inputs_config_and_plugin(image):
    with pytest.raises(ValueError, match="seed"):
        RandomSaliency(seed=-1)
    with pytest.raises(TypeError, match="seed"):
        RandomSaliency(seed=1.5)
    with pytest.raises(ValueError, match="dimensions"):
        RandomSaliency()(np.ones((2, 4, 4, 3)), LabelsOnly())
    generator = RandomSaliency(seed=3)
    clone = RandomSaliency.from_config(json.loads(json.dumps(generator.get_config())))
    np.testing.assert_array_equal(clone(image, LabelsOnly()), generator(image, LabelsOnly()))
    assert RandomSaliency in GenerateImageClassifierBlackboxSaliency.get_impls()
