"""FourierSobol (FCAM): known-answer classifiers on radial bands and orientations, maps, config, errors."""

import json
import math

import numpy as np
import pytest
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from smqtk_core.configuration import from_config_dict, to_config_dict
from xaitk_saliency.interfaces.gen_image_classifier_blackbox_sal import GenerateImageClassifierBlackboxSaliency

from xaitk_wcam.impls.gen_image_classifier_blackbox_sal import FourierSobol

G = 8
BAND_WIDTH = math.sqrt(0.5) / G  # documented: equal-width rings from 0 to the corner radius sqrt(2) / 2
FAST = {"grid_size": G, "nb_design": 8, "batch_size": 128}


def grey_noise(shape, seed=0):
    """Low-contrast float noise around mid-grey: the masked images stay inside [0, 1] (no clipping)."""
    rng = np.random.default_rng(seed)
    return np.clip(0.5 + 0.08 * rng.standard_normal(shape), 0, 1).astype(np.float32)


class SpectralEnergyClassifier(ClassifyImage):
    """Confidence = spectral energy of the grey image inside a set of frequencies, relative to the reference.

    The frequency set is given by a predicate on (radius in cycles/pixel, orientation in [0, pi)).
    """

    def __init__(self, reference, keep):
        h, w = reference.shape[:2]
        fy, fx = np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij")
        radius, angle = np.hypot(fy, fx), np.mod(np.arctan2(fy, fx), np.pi)
        self.where = keep(radius, angle) & (radius > 0)
        assert self.where.sum() >= 8
        self.reference = self._energy(reference[None])[0]

    def _energy(self, images):
        grey = images.astype(np.float64)
        grey = grey.mean(axis=-1) if grey.ndim == 4 else grey
        return (np.abs(np.fft.fft2(grey)) ** 2)[:, self.where].sum(axis=1)

    def get_labels(self):
        return ["target", "rest"]

    def classify_images(self, img_iter):
        score = np.clip(self._energy(np.asarray(img_iter)) / self.reference, 0, 1)
        return iter([{"target": s, "rest": 1 - s} for s in score])

    def get_config(self):
        return {}


@pytest.mark.parametrize(("band", "shape"), [(1, (64, 64, 3)), (3, (64, 64)), (5, (48, 64, 3))])
def test_importance_on_the_only_band_that_matters(band, shape):
    image = grey_noise(shape, seed=band)
    lo, hi = (band + 0.15) * BAND_WIDTH, (band + 0.85) * BAND_WIDTH  # strictly inside the band
    blackbox = SpectralEnergyClassifier(image, lambda r, a: (r >= lo) & (r < hi))
    explainer = FourierSobol(**FAST)
    result = explainer.explain(image, blackbox)

    assert result.sobol_indices.shape == (2, G, G)
    assert result.n_evaluations == explainer.n_evaluations == 8 * (G * G + 2)
    profile = result.band_profile[0]
    assert profile.argmax() == band
    assert profile[band] > 0.9
    np.testing.assert_allclose(result.band_profile.sum(axis=1), 1.0, rtol=1e-9)

    maps = explainer.generate(image, blackbox)
    assert maps.shape == (2, *shape[:2]) and maps.dtype == np.float32
    assert maps.min() >= 0 and maps.max() == 1
    # The maximum is painted on the ring of that band, in the centred layout.
    h, w = shape[:2]
    fy, fx = np.meshgrid(np.fft.fftshift(np.fft.fftfreq(h)), np.fft.fftshift(np.fft.fftfreq(w)), indexing="ij")
    peak_radius = np.hypot(fy, fx)[maps[0] == 1]
    assert ((peak_radius >= band * BAND_WIDTH) & (peak_radius < (band + 1) * BAND_WIDTH)).all()


def test_importance_on_the_only_orientation_that_matters():
    image = grey_noise((64, 64, 3), seed=7)
    sector = 2
    width = math.pi / G
    lo, hi = (sector + 0.1) * width, (sector + 0.9) * width
    blackbox = SpectralEnergyClassifier(image, lambda r, a: (a >= lo) & (a < hi) & (r > BAND_WIDTH) & (r < 0.5))
    result = FourierSobol(**FAST).explain(image, blackbox)
    by_sector = np.clip(result.sobol_indices[0], 0, None).sum(axis=0)
    assert by_sector.argmax() == sector
    assert by_sector[sector] > 0.9 * by_sector.sum()


def test_spectrum_maps_are_point_symmetric_around_dc():
    image = grey_noise((33, 45, 3), seed=2)  # odd sides: every frequency has its conjugate in the layout
    blackbox = SpectralEnergyClassifier(image, lambda r, a: (r > 0.1) & (r < 0.3) & (a < 1.0))
    maps = FourierSobol(grid_size=4, nb_design=8).generate(image, blackbox)
    np.testing.assert_array_equal(maps, maps[:, ::-1, ::-1])


def test_perturbed_images_keep_the_input_dtype_and_alpha():
    rng = np.random.default_rng(0)
    image = rng.integers(60, 200, size=(32, 32, 4), dtype=np.uint8)
    seen = []

    class Recorder(ClassifyImage):
        def get_labels(self):
            return ["mean"]

        def classify_images(self, img_iter):
            images = np.asarray(img_iter)
            seen.append(images.copy())
            return iter([{"mean": float(img[..., :3].std())} for img in images])

        def get_config(self):
            return {}

    copy = image.copy()
    FourierSobol(grid_size=4, nb_design=4, batch_size=16).explain(image, Recorder())
    batch = np.concatenate(seen)
    np.testing.assert_array_equal(image, copy)
    assert batch.dtype == np.uint8 and batch.shape == (4 * 18, 32, 32, 4)
    np.testing.assert_array_equal(batch[..., 3], np.broadcast_to(image[..., 3], batch.shape[:3]))
    # Masks only attenuate the spectrum: no perturbed image has more energy around its mean than the image.
    centred = batch[..., :3].astype(np.float64) - batch[..., :3].mean(axis=(1, 2), keepdims=True)
    reference = image[..., :3].astype(np.float64) - image[..., :3].mean(axis=(0, 1))
    assert ((centred**2).sum(axis=(1, 2, 3)) <= (reference**2).sum() * 1.01).all()


def test_same_seed_same_indices():
    image = grey_noise((32, 32), seed=1)
    blackbox = SpectralEnergyClassifier(image, lambda r, a: (r > 0.2) & (r < 0.3))
    a = FourierSobol(grid_size=4, nb_design=8, seed=3).explain(image, blackbox).sobol_indices
    b = FourierSobol(grid_size=4, nb_design=8, seed=3).explain(image, blackbox).sobol_indices
    c = FourierSobol(grid_size=4, nb_design=8, seed=4).explain(image, blackbox).sobol_indices
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_config_round_trip():
    explainer = FourierSobol(grid_size=5, nb_design=16, estimator="janon", batch_size=7, seed=2)
    config = explainer.get_config()
    assert config == json.loads(json.dumps(config))
    rebuilt = from_config_dict(to_config_dict(explainer), GenerateImageClassifierBlackboxSaliency.get_impls())
    assert isinstance(rebuilt, FourierSobol)
    assert rebuilt.get_config() == config


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"grid_size": 0}, ValueError, "grid_size"),
        ({"nb_design": 3}, ValueError, "nb_design"),
        ({"estimator": "sobol"}, ValueError, "estimator"),
        ({"batch_size": True}, TypeError, "batch_size"),
        ({"seed": -2}, ValueError, "seed"),
    ],
)
def test_bad_parameters(kwargs, error, words):
    with pytest.raises(error, match=words):
        FourierSobol(**kwargs)


def test_bad_inputs():
    image = grey_noise((14, 32, 3))
    blackbox = SpectralEnergyClassifier(grey_noise((32, 32, 3)), lambda r, a: r > 0.1)
    with pytest.raises(ValueError, match="grid_size"):
        FourierSobol(grid_size=8).generate(image, blackbox)
    with pytest.raises(TypeError, match="blackbox"):
        FourierSobol(grid_size=4).generate(grey_noise((32, 32, 3)), "not a classifier")
    with pytest.raises(ValueError, match="NaN"):
        FourierSobol(grid_size=4).generate(np.full((32, 32), np.nan, np.float32), blackbox)
