"""WCAM plugin: known-answer classifiers, configuration, wrong input, determinism."""

import json
import warnings

import numpy as np
import pytest
import torch
from fakes import CellEnergyClassifier, noise_image
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from smqtk_core.configuration import from_config_dict, to_config_dict
from xaitk_saliency.interfaces.gen_image_classifier_blackbox_sal import GenerateImageClassifierBlackboxSaliency

from xaitk_wcam import WCAM, WCAMResult

FAST = {"grid_size": 8, "nb_design": 8, "batch_size": 32}


class ConstantClassifier(ClassifyImage):
    def get_labels(self):
        return [0, 1, 2]

    def classify_images(self, img_iter):
        return iter([{0: 0.2, 1: 0.3, 2: 0.5} for _ in img_iter])

    def get_config(self):
        return {}


class MissingLabelClassifier(ConstantClassifier):
    def classify_images(self, img_iter):
        return iter([{0: 0.2, 1: 0.3} for _ in img_iter])


# (image shape, layout cell (i, j) on an 8 x 8 grid, level that holds it). At 64 x 64 with 3 levels the
# approximation is 8 x 8 (one cell), level 1 bands one cell each, level 2 bands 2 x 2 cells, level 3 4 x 4.
CASES = [
    ((64, 64, 3), (0, 0), 0),
    ((64, 64, 3), (1, 1), 1),
    ((64, 64, 3), (0, 3), 2),
    ((64, 64, 3), (6, 2), 3),
    ((64, 96, 3), (5, 7), 3),  # non-square: cells are 8 x 12 coefficients
    ((64, 64), (3, 1), 2),  # grayscale
]


@pytest.mark.parametrize(("shape", "cell", "level"), CASES)
def test_maximum_on_the_known_cell_and_level(shape, cell, level):
    image = noise_image(shape)
    cell_h, cell_w = shape[0] // 8, shape[1] // 8
    rows = slice(cell[0] * cell_h, (cell[0] + 1) * cell_h)
    cols = slice(cell[1] * cell_w, (cell[1] + 1) * cell_w)
    blackbox = CellEnergyClassifier(image, rows, cols)
    result = WCAM(**FAST).explain(image, blackbox)

    assert np.unravel_index(result.sobol_indices[0].argmax(), (8, 8)) == cell
    top, runner_up = np.sort(result.sobol_indices[0].ravel())[::-1][:2]
    assert top > 3 * runner_up
    # Clipping perturbed images to [0, 255] is a real non-linearity: darkening the approximation
    # pushes pixels below 0 and changes the cell's energy, so the approximation keeps a small share.
    assert result.scale_profile[0].argmax() == level
    assert result.scale_profile[0, level] > 0.7
    assert result.wavelet_maps.shape == result.spatial_maps.shape == (2, *shape[:2])
    assert result.wavelet_maps[0, rows, cols].min() == 1.0  # normalised maximum covers the cell
    assert result.n_evaluations == blackbox.calls == 8 * (64 + 2)


def test_generate_returns_per_class_maps_in_unit_range():
    image = noise_image((32, 48, 3))
    blackbox = CellEnergyClassifier(image, slice(0, 4), slice(0, 6))
    for output in ("wavelet", "spatial"):
        maps = WCAM(output=output, **FAST).generate(image, blackbox)
        assert maps.shape == (2, 32, 48) and maps.dtype == np.float32
        assert maps.min() >= 0 and maps.max() == 1


def test_spatial_map_of_an_approximation_cell_covers_its_pixels():
    image = noise_image((64, 64, 3))
    result = WCAM(**FAST).explain(image, CellEnergyClassifier(image, slice(0, 8), slice(0, 8)))
    # The 8 x 8 approximation band is cell (0, 0): it covers the whole image uniformly.
    assert result.spatial_maps[0].min() > 0.9


def test_padding_and_cropping_for_sides_not_multiple_of_two_to_the_levels():
    image = noise_image((45, 61, 3))
    blackbox = CellEnergyClassifier(noise_image((45, 61, 3)), slice(0, 6), slice(0, 8))
    result = WCAM(**FAST).explain(image, blackbox)
    assert result.padded_shape == (48, 64)
    assert result.wavelet_maps.shape == result.spatial_maps.shape == (2, 45, 61)


def test_blackbox_receives_input_dtype_range_and_untouched_alpha():
    seen = []

    class Spy(ConstantClassifier):
        def classify_images(self, img_iter):
            seen.append(np.array(img_iter))
            return super().classify_images(img_iter)

    rgba = noise_image((16, 16, 4))
    WCAM(grid_size=4, nb_design=2, levels=2).explain(rgba, Spy())
    batch = np.concatenate(seen)
    assert batch.dtype == np.uint8 and batch.shape[1:] == (16, 16, 4)
    assert np.all(batch[..., 3] == rgba[..., 3])

    seen.clear()
    float_image = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
    WCAM(grid_size=4, nb_design=2, levels=2).explain(float_image, Spy())
    batch = np.concatenate(seen)
    assert batch.dtype == np.float32 and batch.min() >= 0 and batch.max() <= 1
    # Clipped, not rescaled: the all-ones mask (none in the design) aside, the mean brightness drops.
    assert batch.mean() < float_image.mean()


def test_caller_image_is_not_modified():
    image = noise_image((32, 32, 3))
    before = image.copy()
    image.setflags(write=False)
    WCAM(grid_size=4, nb_design=2).explain(image, CellEnergyClassifier(image, slice(0, 8), slice(0, 8)))
    np.testing.assert_array_equal(image, before)


def test_same_seed_bit_identical_other_seed_differs():
    image = noise_image((32, 32, 3))
    blackbox = CellEnergyClassifier(image, slice(0, 8), slice(8, 16))
    first = WCAM(seed=3, **FAST).generate(image, blackbox)
    np.testing.assert_array_equal(first, WCAM(seed=3, **FAST).generate(image, blackbox))
    assert not np.array_equal(first, WCAM(seed=4, **FAST).generate(image, blackbox))


def test_constant_classifier_gives_zero_maps_and_a_warning():
    with pytest.warns(RuntimeWarning, match="does not vary"):
        result = WCAM(grid_size=4, nb_design=2).explain(noise_image((16, 16, 3)), ConstantClassifier())
    assert np.all(result.wavelet_maps == 0) and np.all(result.spatial_maps == 0)
    assert np.all(result.scale_profile == 0) and not np.isnan(result.sobol_indices).any()


def test_all_classes_from_the_same_forward_passes():
    image = noise_image((32, 32, 3))
    blackbox = CellEnergyClassifier(image, slice(0, 8), slice(0, 8))
    result = WCAM(grid_size=4, nb_design=4).explain(image, blackbox)
    assert blackbox.calls == result.n_evaluations == 4 * (16 + 2)
    assert result.labels == ["cell", "rest"]


@pytest.mark.parametrize("estimator", ["jansen", "homma", "janon"])
def test_each_estimator_finds_the_cell(estimator):
    image = noise_image((64, 64, 3))
    blackbox = CellEnergyClassifier(image, slice(8, 16), slice(8, 16))
    result = WCAM(estimator=estimator, **FAST).explain(image, blackbox)
    assert np.unravel_index(result.sobol_indices[0].argmax(), (8, 8)) == (1, 1)


def test_other_wavelet_runs():
    image = noise_image((32, 32, 3))
    maps = WCAM(wavelet="db2", levels=2, grid_size=4, nb_design=2).generate(image, ConstantClassifierVarying())
    assert maps.shape == (2, 32, 32) and np.isfinite(maps).all()


class ConstantClassifierVarying(ClassifyImage):
    def get_labels(self):
        return ["bright", "dark"]

    def classify_images(self, img_iter):
        return iter([{"bright": im.mean() / 255, "dark": 1 - im.mean() / 255} for im in img_iter])

    def get_config(self):
        return {}


def test_config_round_trip_and_plugin_discovery():
    assert WCAM in GenerateImageClassifierBlackboxSaliency.get_impls()
    wcam = WCAM(
        wavelet="db2", levels=2, grid_size=7, nb_design=16, estimator="janon", batch_size=5, seed=9, output="spatial"
    )
    config = json.loads(json.dumps(to_config_dict(wcam)))
    clone = from_config_dict(config, GenerateImageClassifierBlackboxSaliency.get_impls())
    assert isinstance(clone, WCAM) and clone.get_config() == wcam.get_config()
    assert WCAM.from_config(wcam.get_config()).get_config() == wcam.get_config()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"nb_design": 6}, ValueError, "nb_design"),
        ({"levels": 0}, ValueError, "levels"),
        ({"grid_size": 0}, ValueError, "grid_size"),
        ({"wavelet": "nope"}, ValueError, "wavelet"),
        ({"wavelet": "bior2.2"}, ValueError, "wavelet"),
        ({"estimator": "saltelli"}, ValueError, "estimator"),
        ({"output": "pixels"}, ValueError, "output"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"levels": 2.5}, TypeError, "levels"),
    ],
)
def test_wrong_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        WCAM(**kwargs)


class NeverCalled(ConstantClassifier):
    def classify_images(self, img_iter):
        raise AssertionError("no forward pass may happen on wrong input")


@pytest.mark.parametrize(
    ("image", "kwargs", "error", "match"),
    [
        (np.zeros((2, 8, 8, 3), np.uint8), {}, ValueError, "dimensions"),
        (np.zeros((8,), np.uint8), {}, ValueError, "dimensions"),
        (np.zeros((16, 16, 0), np.uint8), {}, ValueError, "channels"),
        (np.zeros((16, 16, 5), np.uint8), {}, ValueError, "channels"),
        (np.full((16, 16, 3), np.nan, np.float32), {}, ValueError, "NaN"),
        (np.full((16, 16, 3), np.inf, np.float32), {}, ValueError, "NaN"),
        (np.zeros((6, 16, 3), np.uint8), {"levels": 3}, ValueError, "too small"),
        (np.zeros((16, 16, 3), np.uint8), {"levels": 2, "grid_size": 17}, ValueError, "grid_size"),
        ([[0, 1], [2, 3]], {}, TypeError, "numpy"),
        (np.zeros((16, 16), dtype=bool), {}, TypeError, "dtype"),
    ],
)
def test_wrong_images_fail_before_any_forward_pass(image, kwargs, error, match):
    with pytest.raises(error, match=match):
        WCAM(**{"grid_size": 4, "nb_design": 2, **kwargs}).explain(image, NeverCalled())


def test_blackbox_lacking_labels():
    with pytest.raises(ValueError, match="lacks"):
        WCAM(grid_size=4, nb_design=2).explain(noise_image((16, 16, 3)), MissingLabelClassifier())


def test_blackbox_must_be_a_classifier():
    with pytest.raises(TypeError, match="ClassifyImage"):
        WCAM(grid_size=4, nb_design=2).explain(noise_image((16, 16, 3)), object())


def test_result_type():
    image = noise_image((16, 16, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert isinstance(WCAM(grid_size=4, nb_design=2).explain(image, ConstantClassifier()), WCAMResult)


class TinyTransformersClassifier(ClassifyImage):
    """Minimal ClassifyImage around a randomly initialised transformers ResNet (no download)."""

    def __init__(self):
        from transformers import ResNetConfig, ResNetForImageClassification

        config = ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], num_labels=3)
        torch.manual_seed(0)
        self.model = ResNetForImageClassification(config).eval()

    def get_labels(self):
        return [self.model.config.id2label[i] for i in range(3)]

    @torch.inference_mode()
    def classify_images(self, img_iter):
        batch = torch.from_numpy(np.asarray(img_iter, dtype=np.float32) / 255).permute(0, 3, 1, 2)
        probabilities = self.model(pixel_values=batch).logits.softmax(-1).numpy()
        return iter([dict(zip(self.get_labels(), p.tolist(), strict=True)) for p in probabilities])

    def get_config(self):
        return {}


def test_end_to_end_with_a_tiny_transformers_classifier():
    image = noise_image((64, 64, 3))
    result = WCAM(grid_size=8, nb_design=4).explain(image, TinyTransformersClassifier())
    assert result.wavelet_maps.shape == (3, 64, 64)
    assert np.isfinite(result.sobol_indices).all()
    np.testing.assert_allclose(result.scale_profile.sum(axis=1), 1.0, atol=1e-9)
    assert result.wavelet_maps.max() == 1.0


# -- design size, estimators, adaptive budget, uncertainty ---------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"nb_design": "auto"}, "max_evaluations"),
        ({"nb_design": "auto", "max_evaluations": 100}, "max_evaluations"),  # below one minimal design
        ({"nb_design": 8, "max_evaluations": 10_000}, "max_evaluations"),
        ({"nb_design": "big"}, "nb_design"),
        ({"tolerance": 0.0}, "tolerance"),
        ({"tolerance": 1.0}, "tolerance"),
        ({"tolerance": float("nan")}, "tolerance"),
        ({"estimator": "saltelli"}, "estimator"),
    ],
)
def test_wrong_budget_keywords_are_refused_before_any_forward_pass(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WCAM(grid_size=8, **kwargs)


@pytest.mark.parametrize("estimator", ["importance", "jansen", "homma", "janon"])
def test_every_estimator_finds_the_known_cell_and_reports_its_uncertainty(estimator):
    image = noise_image((64, 64, 3))
    blackbox = CellEnergyClassifier(image, slice(48, 56), slice(16, 24))  # cell (6, 2), level 3
    result = WCAM(**{**FAST, "estimator": estimator}).explain(image, blackbox)
    assert np.unravel_index(result.sobol_indices[0].argmax(), (8, 8)) == (6, 2)
    assert result.n_evaluations <= 8 * (64 + 2)
    assert result.index_std.shape == result.sobol_indices.shape and np.isfinite(result.index_std).all()
    assert -1 <= result.stability <= 1


def test_auto_budget_stops_and_equals_the_fixed_design_of_its_size():
    image = noise_image((64, 64, 3))
    blackbox = CellEnergyClassifier(image, slice(48, 56), slice(16, 24))
    budget = 64 * (64 + 2)
    auto = WCAM(**{**FAST, "nb_design": "auto", "max_evaluations": budget, "tolerance": 0.3}).explain(image, blackbox)
    assert auto.stability >= 0.7 and auto.n_evaluations < budget  # a one-cell model is easy: it stops early
    fixed_size = {8 * 66: 8, 16 * 66: 16, 32 * 66: 32}[auto.n_evaluations]
    fixed = WCAM(**{**FAST, "nb_design": fixed_size}).explain(image, blackbox)
    np.testing.assert_array_equal(auto.sobol_indices, fixed.sobol_indices)
    config = WCAM(**{**FAST, "nb_design": "auto", "max_evaluations": budget}).get_config()
    assert WCAM.from_config(json.loads(json.dumps(config))).get_config() == config


# -- issue 20: bounds checked before any work, constant outputs --------------------------------------------
class OneConstantClass(ClassifyImage):
    """Class ``"const"`` never varies (0.7); class ``"mean"`` is the image's mean brightness."""

    calls = 0

    def get_labels(self):
        return ["const", "mean"]

    def classify_images(self, img_iter):
        for image in img_iter:
            type(self).calls += 1
            yield {"const": 0.7, "mean": float(np.asarray(image, dtype=np.float64).mean() / 255)}

    def get_config(self):
        return {}


@pytest.mark.parametrize("estimator", ["importance", "jansen", "homma", "janon"])
def test_a_constant_output_is_detected_relative_to_its_scale_and_warned(estimator):
    """Issue 20, failure 12: the variance of a constant 0.7 is 1.5e-14 in float32, not 0: no warning was given."""
    with pytest.warns(RuntimeWarning, match="does not vary for 1 of 2 classes"):
        result = WCAM(levels=2, grid_size=4, nb_design=8, estimator=estimator).explain(
            noise_image((32, 32, 3)), OneConstantClass()
        )
    assert np.all(result.sobol_indices[0] == 0) and np.all(result.scale_profile[0] == 0)
    assert result.sobol_indices[1].max() > 0 and result.scale_profile[1].sum() == pytest.approx(1.0)


def test_levels_are_bounded_at_construction():
    """Issue 20, failure 7: ``levels=10**9`` was accepted and each explanation computed ``2**levels``."""
    for levels in (10**9, 17):
        with pytest.raises(ValueError, match=r"levels must be an int >= 1 and <= 16"):
            WCAM(levels=levels)
    from xaitk_wcam.wavelets.layout import MAX_LEVELS

    assert MAX_LEVELS == 16 and WCAM(levels=MAX_LEVELS).levels == MAX_LEVELS


@pytest.mark.parametrize(
    ("wavelet", "levels", "side", "smallest"),
    [("db8", 3, 32, 64), ("db8", 3, 48, 64), ("db8", 1, 14, 16), ("coif3", 3, 64, 72), ("db2", 3, 8, 16)],
)
def test_a_wavelet_too_long_for_the_image_is_refused_before_any_forward_pass(wavelet, levels, side, smallest):
    """Issue 20, failure 7: ``db8`` at 3 levels on 32 x 32 failed with ``Matrix shapes not compatible``."""
    import pywt

    blackbox = OneConstantClass()
    OneConstantClass.calls = 0
    wcam = WCAM(wavelet=wavelet, levels=levels, grid_size=2, nb_design=2)
    filter_length = pywt.Wavelet(wavelet).dec_len
    message = rf"{side} x {side}.* {wavelet} .*filter length {filter_length}.*levels={levels}.*{smallest}"
    with pytest.raises(ValueError, match=message):
        wcam.explain(noise_image((side, side, 3)), blackbox)
    assert OneConstantClass.calls == 0


def test_the_largest_design_is_bounded_at_construction():
    """Issue 20, failure 8: ``nb_design=2**26`` (Jansen) tried a 16 GiB allocation before any forward pass."""
    for nb_design in (2**26, 2**22):
        with pytest.raises(ValueError, match=r"nb_design must be .*<= 1,048,576"):
            WCAM(nb_design=nb_design, estimator="jansen")
    from xaitk_wcam.sobol.design import MAX_NB_DESIGN

    assert MAX_NB_DESIGN == 2**20 and WCAM(nb_design=MAX_NB_DESIGN).nb_design == MAX_NB_DESIGN


@pytest.mark.parametrize(
    ("kwargs", "n_classes"),
    [
        ({"estimator": "jansen", "nb_design": 256, "grid_size": 8}, 3),
        ({"estimator": "janon", "nb_design": 128, "grid_size": 8}, 70),  # two blocks of the estimators' classes
        ({"estimator": "importance", "nb_design": 256, "grid_size": 4}, 3),
        ({"estimator": "importance", "nb_design": 64, "grid_size": 8}, 1),
        ({"estimator": "jansen", "nb_design": "auto", "max_evaluations": 20_000, "grid_size": 4, "tolerance": 1e-9}, 2),
    ],
)
def test_the_memory_estimate_covers_the_design_and_the_outputs(kwargs, n_classes):
    """The estimate the study checks against ``memory_budget_mb`` holds what an explanation allocates (numpy's
    allocations, traced; the image batches are torch's and are checked by their own count)."""
    import tracemalloc

    labels = [f"c{k}" for k in range(n_classes)]

    class Numpy(ClassifyImage):
        def get_labels(self):
            return labels

        def classify_images(self, img_iter):
            means = np.asarray(img_iter, dtype=np.float32).reshape(len(img_iter), -1).mean(axis=1)
            return iter([{k: float(m) * (i + 1) / 255 for i, k in enumerate(labels)} for m in means])

        def get_config(self):
            return {}

    image = noise_image((8, 8))
    wcam = WCAM(levels=2, batch_size=64, **kwargs)  # the design's memory is the same; 16 times fewer calls
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        WCAM(levels=2, grid_size=2, nb_design=2, estimator=wcam.estimator).explain(image, Numpy())  # one-time loads
        tracemalloc.start()
        wcam.explain(image, Numpy())
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    estimate = wcam.memory_estimate_bytes(image.shape, n_classes=n_classes)
    assert peak <= estimate <= 4 * peak + 2**21, (peak, estimate)  # 2 MB: the engine's and drawing blocks' floor


def test_a_grid_too_coarse_for_a_pixel_map_warns():
    """Issue 29: WCAM(grid_size=8, output="spatial") on skimage's coffee gave a pixel map whose 0th, 50th and 100th
    percentiles were 0.994, 0.994 and 1, without a word: one cell covered the whole approximation band."""
    image = noise_image((64, 64, 3))
    blackbox = CellEnergyClassifier(image, slice(0, 8), slice(0, 8))  # the approximation band decides
    coarse = WCAM(grid_size=8, nb_design=4, levels=3, output="spatial")
    with pytest.warns(RuntimeWarning, match=r"1 cell\(s\) per side.*nearly flat.*grid_size >= 16"):
        flat = coarse.generate(image, blackbox)[0]
    assert np.percentile(flat, 5) > 0.9  # what the warning is about: nearly flat
    with pytest.warns(RuntimeWarning, match="grid_size >= 8"):  # the bound follows levels: 2**(levels + 1)
        assert WCAM(grid_size=4, nb_design=2, levels=2).explain(image, blackbox).spatial_maps.shape == (2, 64, 64)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        fine = WCAM(grid_size=16, nb_design=4, levels=3, output="spatial").generate(image, blackbox)[0]
        wavelet = WCAM(grid_size=8, nb_design=4, levels=3).explain(image, blackbox).wavelet_maps  # no pixel map
    assert np.percentile(fine, 5) < 0.5  # two cells per side of the approximation band: the map has a shape
    assert wavelet.shape == (2, 64, 64)  # and the wavelet map of the coarse grid is read without a warning
