"""SobolAttribution (pixel-space Sobol, Fel et al. 2021): known-answer classifiers, perturbation, config, errors."""

import json

import numpy as np
import pytest
from fakes import noise_image
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from smqtk_core.configuration import from_config_dict, to_config_dict
from xaitk_saliency.interfaces.gen_image_classifier_blackbox_sal import GenerateImageClassifierBlackboxSaliency

from xaitk_wcam.impls.gen_image_classifier_blackbox_sal import SobolAttribution

FAST = {"grid_size": 8, "nb_design": 8, "batch_size": 64}


class RegionBrightnessClassifier(ClassifyImage):
    """Confidence = mean brightness of one pixel region relative to the reference image: only that region matters."""

    def __init__(self, reference, rows, cols):
        self.rows, self.cols = rows, cols
        self.reference = self._brightness(reference[None])[0]
        self.calls = 0

    def _brightness(self, images):
        images = images.astype(np.float64)
        region = images[:, self.rows, self.cols]
        return region.reshape(len(images), -1).mean(axis=1)

    def get_labels(self):
        return ["region", "rest"]

    def classify_images(self, img_iter):
        images = np.asarray(img_iter)
        self.calls += len(images)
        score = np.clip(self._brightness(images) / self.reference, 0, 1)
        return iter([{"region": s, "rest": 1 - s} for s in score])

    def get_config(self):
        return {}


class RecordingClassifier(ClassifyImage):
    """Keeps every image it is sent; constant-free output so no warning is raised."""

    def __init__(self):
        self.images = []

    def get_labels(self):
        return ["mean"]

    def classify_images(self, img_iter):
        images = np.asarray(img_iter)
        self.images.append(images.copy())
        return iter([{"mean": float(img.mean())} for img in images])

    def get_config(self):
        return {}


@pytest.mark.parametrize(
    ("shape", "cell"),
    [((64, 64, 3), (2, 5)), ((48, 64, 3), (7, 0)), ((64, 64), (4, 4))],
)
def test_maximum_on_the_only_region_that_matters(shape, cell):
    image = noise_image(shape, seed=1)
    cell_h, cell_w = shape[0] // 8, shape[1] // 8
    rows = slice(cell[0] * cell_h, (cell[0] + 1) * cell_h)
    cols = slice(cell[1] * cell_w, (cell[1] + 1) * cell_w)
    blackbox = RegionBrightnessClassifier(image, rows, cols)
    explainer = SobolAttribution(**FAST)
    result = explainer.explain(image, blackbox)

    assert result.sobol_indices.shape == (2, 8, 8)
    assert np.unravel_index(result.sobol_indices[0].argmax(), (8, 8)) == cell
    top, runner_up = np.sort(result.sobol_indices[0].ravel())[::-1][:2]
    assert top > 10 * max(runner_up, 1e-12)
    assert blackbox.calls == result.n_evaluations == explainer.n_evaluations == 8 * (64 + 2)

    maps = explainer.generate(image, blackbox)
    assert maps.shape == (2, *shape[:2])
    assert maps.dtype == np.float32 and maps.min() >= 0 and maps.max() == 1
    assert (maps[0][rows, cols] == 1).all()  # the whole cell holds the maximum, nothing else does
    outside = np.ones(shape[:2], bool)
    outside[rows, cols] = False
    assert maps[0][outside].max() < 0.1


@pytest.mark.parametrize("fill", ["black", "mean"])
def test_perturbation_fades_each_cell_towards_the_fill(fill):
    rng = np.random.default_rng(3)
    image = rng.uniform(0.05, 0.95, size=(32, 32, 4)).astype(np.float32)  # RGBA: alpha must be kept
    blackbox = RecordingClassifier()
    SobolAttribution(grid_size=4, nb_design=4, fill=fill, batch_size=16).explain(image, blackbox)
    batch = np.concatenate(blackbox.images)
    assert batch.shape == (4 * 18, 32, 32, 4) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch[..., 3], np.broadcast_to(image[..., 3], batch.shape[:3]))
    colour = image[..., :3].astype(np.float64)
    fill_value = colour.mean(axis=(0, 1)) if fill == "mean" else np.zeros(3)
    # x' = fill + m * (x - fill) with one m per 8 x 8 cell: the ratio is constant over a cell, in [0, 1].
    gap = colour - fill_value
    ratio = np.where(np.abs(gap) > 0.05, (batch[..., :3] - fill_value) / gap, np.nan)  # float32 rounding
    cells = ratio.reshape(len(batch), 4, 8, 4, 8, 3)
    spread = np.nanmax(cells, axis=(2, 4, 5)) - np.nanmin(cells, axis=(2, 4, 5))
    assert spread.max() < 1e-4
    assert np.nanmin(ratio) > -1e-4 and np.nanmax(ratio) < 1 + 1e-4
    assert np.ptp(np.nanmean(cells, axis=(2, 4, 5)), axis=0).max() > 0.5  # the masks do vary


def test_same_seed_same_maps_other_seed_other_maps():
    image = noise_image((32, 32, 3), seed=2)
    blackbox = RegionBrightnessClassifier(image, slice(0, 8), slice(8, 16))
    a = SobolAttribution(grid_size=4, nb_design=8, seed=5).explain(image, blackbox).sobol_indices
    b = SobolAttribution(grid_size=4, nb_design=8, seed=5).explain(image, blackbox).sobol_indices
    c = SobolAttribution(grid_size=4, nb_design=8, seed=6).explain(image, blackbox).sobol_indices
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_caller_image_not_modified():
    image = noise_image((32, 32, 3), seed=4)
    copy = image.copy()
    SobolAttribution(grid_size=4, nb_design=4).generate(image, RecordingClassifier())
    np.testing.assert_array_equal(image, copy)


def test_config_round_trip():
    explainer = SobolAttribution(grid_size=6, nb_design=16, fill="mean", estimator="homma", batch_size=10, seed=3)
    config = explainer.get_config()
    assert config == json.loads(json.dumps(config))
    rebuilt = from_config_dict(to_config_dict(explainer), GenerateImageClassifierBlackboxSaliency.get_impls())
    assert isinstance(rebuilt, SobolAttribution)
    assert rebuilt.get_config() == config
    assert SobolAttribution.from_config(config).get_config() == config


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"grid_size": 0}, ValueError, "grid_size"),
        ({"grid_size": 2.5}, TypeError, "grid_size"),
        ({"nb_design": 12}, ValueError, "nb_design"),
        ({"fill": "white"}, ValueError, "fill"),
        ({"estimator": "saltelli"}, ValueError, "estimator"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_bad_parameters(kwargs, error, words):
    with pytest.raises(error, match=words):
        SobolAttribution(**kwargs)


def test_bad_inputs():
    explainer = SobolAttribution(grid_size=8, nb_design=4)
    with pytest.raises(ValueError, match="grid_size"):
        explainer.generate(noise_image((6, 32, 3)), RecordingClassifier())
    with pytest.raises(ValueError, match="dimensions"):
        explainer.generate(noise_image((2, 32, 32, 3)), RecordingClassifier())
    with pytest.raises(TypeError, match="blackbox"):
        explainer.generate(noise_image((32, 32, 3)), object())
