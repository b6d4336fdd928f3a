"""WAM: known answers on models that are known functions of chosen wavelet coefficients, the shared wavelet code
path with WCAM, batching, seeds, config and wrong input."""

import json

import numpy as np
import pytest
import torch
from smqtk_core.configuration import from_config_dict, to_config_dict
from torch import nn

from xaitk_wcam import WAM, WCAMResult
from xaitk_wcam.impls.gen_image_classifier_whitebox_sal.wam import WAMExplanation
from xaitk_wcam.interfaces.explanation import PIXEL, WAVELET
from xaitk_wcam.interfaces.whitebox import GenerateImageClassifierWhiteboxSaliency
from xaitk_wcam.wavelets.transform import wavedec_layout

H, W, C, K, LEVELS = 16, 16, 3, 3, 2


class Whitebox:
    """A white-box classifier whose preprocessing is the identity (the model sees the image in [0, 1])."""

    def __init__(self, model: nn.Module, n_labels: int = K):
        self.model = model
        self.n_labels = n_labels

    def preprocess(self, images, *, channels_first=False):
        return images if channels_first else images.permute(0, 3, 1, 2)

    def get_labels(self):
        return [f"class{k}" for k in range(self.n_labels)]


class CoefficientModel(nn.Module):
    """logits_k = g(sum over coefficients of weight_k * z) + bias_k, z the DWT layout of the image."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, wavelet: str = "haar", squash: bool = False):
        super().__init__()
        self.weight, self.bias, self.wavelet, self.squash = weight, bias, wavelet, squash
        self.calls = 0

    def coefficients(self, x: torch.Tensor) -> torch.Tensor:
        return wavedec_layout(x, self.wavelet, LEVELS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += len(x)
        linear = torch.einsum("nchw,kchw->nk", self.coefficients(x), self.weight)
        return (torch.tanh(linear / 4) * 4 if self.squash else linear) + self.bias


def chosen_weights(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights on a few chosen coefficients: approximation, a coarse and a fine detail, per channel."""
    generator = torch.Generator().manual_seed(seed)
    weight = torch.zeros(K, C, H, W)
    weight[0, :, 1, 2] = torch.tensor([1.0, 2.0, 3.0])  # approximation band (4 x 4 at 2 levels)
    weight[0, 1, 5, 9] = -4.0  # finest level, vertical details
    weight[1, 2, 6, 1] = 2.5  # level 1 (coarse) horizontal details
    weight[2] = torch.randn(C, H, W, generator=generator) * 0.1
    return weight, torch.tensor([0.5, -1.0, 0.25])


def image_uint8(seed: int = 0, shape: tuple[int, ...] = (H, W, C)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def layout_of(image: np.ndarray, wavelet: str = "haar") -> torch.Tensor:
    x = torch.from_numpy(image.astype(np.float32) / 255).permute(2, 0, 1)
    return wavedec_layout(x, wavelet, LEVELS)


# ---------------------------------------------------------------- known answers
@pytest.mark.parametrize("wavelet", ["haar", "db2"])
def test_gradient_recovers_the_weights_in_the_layout(wavelet):
    weight, bias = chosen_weights()
    explanation = WAM(method="gradient", levels=LEVELS, wavelet=wavelet).explain(
        image_uint8(), Whitebox(CoefficientModel(weight, bias, wavelet)), [0, 1, 2]
    )
    assert isinstance(explanation, WAMExplanation) and explanation.n_evaluations == 3
    np.testing.assert_allclose(explanation.attributions, weight.numpy(), atol=1e-5)
    expected = np.abs(weight.numpy().mean(axis=1))
    np.testing.assert_allclose(explanation.importance, expected, atol=1e-6)
    maps = explanation.maps  # the wavelet layout, each class divided by its maximum
    assert explanation.space == WAVELET and maps.shape == (3, H, W)
    np.testing.assert_allclose(maps, expected / expected.max(axis=(1, 2), keepdims=True), atol=1e-5)
    assert np.unravel_index(maps[0].argmax(), (H, W)) == (1, 2)  # |(1 + 2 + 3) / 3| beats |-4 / 3|
    assert maps[0, 5, 9] == pytest.approx(4 / 6, abs=1e-5)
    assert np.unravel_index(maps[1].argmax(), (H, W)) == (6, 1)


def test_integrated_gradients_completeness():
    weight, bias = chosen_weights(1)
    image = image_uint8(1)
    model = CoefficientModel(weight, bias)
    explanation = WAM(method="integrated", levels=LEVELS, n_samples=7).explain(image, Whitebox(model), [0, 1, 2])
    z = layout_of(image)
    with torch.no_grad():
        f_z = model(torch.from_numpy(image.astype(np.float32) / 255).permute(2, 0, 1)[None])[0].numpy()
    completeness = f_z - bias.numpy()  # f(z) - f(0)
    np.testing.assert_allclose(explanation.attributions.sum(axis=(1, 2, 3)), completeness, atol=1e-4)
    np.testing.assert_allclose(explanation.attributions, (weight * z).numpy(), atol=1e-5)  # z * w for a linear f


def test_integrated_gradients_completeness_on_a_nonlinear_model():
    weight, bias = chosen_weights(2)
    weight = weight * 3  # tanh(linear / 4) leaves its linear range
    image = image_uint8(2)
    model = CoefficientModel(weight, bias, squash=True)
    x = torch.from_numpy(image.astype(np.float32) / 255).permute(2, 0, 1)[None]
    with torch.no_grad():
        difference = (model(x) - model(torch.zeros_like(x)))[0].numpy()
    errors = []
    for steps in (4, 64):
        explanation = WAM(method="integrated", levels=LEVELS, n_samples=steps, batch_size=64)
        attributions = explanation.explain(image, Whitebox(model), [0, 1, 2]).attributions
        errors.append(np.abs(attributions.sum(axis=(1, 2, 3)) - difference).max())
    assert np.abs(difference).max() > 0.5  # the model is far from linear on the path
    assert errors[1] < 1e-3 < errors[0]  # the trapezoid rule converges


def test_smooth_of_a_linear_model_is_the_absolute_channel_mean():
    weight, bias = chosen_weights(3)
    explanation = WAM(n_samples=6, levels=LEVELS, batch_size=4).explain(
        image_uint8(3), Whitebox(CoefficientModel(weight, bias)), [0, 1]
    )
    assert explanation.attributions.shape == (2, 1, H, W) and explanation.n_evaluations == 12
    # a constant gradient whatever the noise: mean over samples of |sum of channels| / C
    np.testing.assert_allclose(explanation.importance, np.abs(weight[:2].numpy().mean(axis=1)), atol=1e-5)


def mlp_whitebox(seed: int = 0) -> Whitebox:
    torch.manual_seed(seed)
    return Whitebox(nn.Sequential(nn.Flatten(), nn.Linear(C * H * W, 16), nn.Tanh(), nn.Linear(16, K)))


def test_smooth_seed_and_global_random_state():
    clf, image = mlp_whitebox(4), image_uint8(4)
    a = WAM(n_samples=5, seed=1, levels=LEVELS).generate(image, clf, [0, 2])
    b = WAM(n_samples=5, seed=1, levels=LEVELS).generate(image, clf, [0, 2])
    c = WAM(n_samples=5, seed=2, levels=LEVELS).generate(image, clf, [0, 2])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    WAM(n_samples=2, levels=LEVELS).generate(image, clf, [0])
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("method", ["integrated", "gradient"])  # "smooth": the noise draws follow the batches
def test_every_class_and_any_batch_size_give_the_same_maps(method):
    clf, image = mlp_whitebox(5), image_uint8(5)
    together = WAM(method=method, n_samples=4, levels=LEVELS, batch_size=64).explain(image, clf, [2, 0, 1])
    for k, index in enumerate([2, 0, 1]):
        alone = WAM(method=method, n_samples=4, levels=LEVELS, batch_size=1).explain(image, clf, [index])
        np.testing.assert_allclose(alone.importance[0], together.importance[k], rtol=1e-4, atol=1e-7)
    assert together.labels == ["class2", "class0", "class1"]


# ---------------------------------------------------------------- the wavelet code path shared with WCAM
def test_maps_and_profile_follow_the_wcam_code_path():
    importance = np.random.default_rng(6).random((2, 16, 24)).astype(np.float32)
    geometry = {"levels": 2, "image_shape": (13, 21), "padded_shape": (16, 24)}
    wam = WAMExplanation(importance=importance, attributions=importance[:, None], labels=["a", "b"],
                         n_evaluations=0, wavelet="haar", **geometry)  # fmt: skip
    # a WCAM grid with one cell per coefficient
    wcam = WCAMResult(sobol_indices=importance, labels=["a", "b"], n_evaluations=0, **geometry)
    for name in ("wavelet_maps", "spatial_maps", "scale_profile"):
        np.testing.assert_array_equal(getattr(wam, name), getattr(wcam, name))
    assert wam.maps.shape == wam.maps_in(PIXEL).shape == (2, 13, 21)
    np.testing.assert_allclose(wam.level_shares().sum(axis=1), 1.0, rtol=1e-6)
    assert wam.geometry(WAVELET) == {"levels": 2, "padded_shape": (16, 24), "wavelet": "haar"}


def test_pixel_map_of_one_approximation_coefficient_covers_its_block():
    weight = torch.zeros(1, C, H, W)
    weight[0, :, 1, 2] = 1.0  # approximation coefficient (1, 2): pixels rows 4..7, columns 8..11 at 2 levels
    explanation = WAM(method="gradient", levels=LEVELS).explain(
        image_uint8(7), Whitebox(CoefficientModel(weight, torch.zeros(1)), 1), [0]
    )
    spatial = explanation.spatial_maps[0]
    assert spatial[4:8, 8:12].min() == 1.0 and spatial.sum() == pytest.approx(16, abs=1e-4)
    np.testing.assert_allclose(explanation.scale_profile[0], [1.0, 0.0, 0.0], atol=1e-6)


def test_padded_images_and_grey_and_float_inputs():
    clf = Whitebox(CoefficientModel(*chosen_weights(8)))
    odd = image_uint8(8, (13, 10, C))
    explanation = WAM(method="gradient", levels=LEVELS).explain(odd, Whitebox(_Resized(clf.model)), [0])
    assert explanation.padded_shape == (16, 12) and explanation.maps.shape == (1, 13, 10)
    assert explanation.spatial_maps.shape == (1, 13, 10)
    float_maps = WAM(method="gradient", levels=LEVELS).generate(image_uint8(9).astype(np.float32) / 255, clf, [0])
    uint8_maps = WAM(method="gradient", levels=LEVELS).generate(image_uint8(9), clf, [0])
    np.testing.assert_allclose(float_maps, uint8_maps, atol=1e-5)
    grey = WAM(method="gradient", levels=LEVELS).explain(image_uint8(10, (H, W)), Whitebox(_Grey(clf.model)), [1])
    assert grey.attributions.shape == (1, 1, H, W)


class _Resized(nn.Module):
    """Resize any image to H x W before ``model`` (as a classifier's preprocessing would)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(nn.functional.interpolate(x, size=(H, W), mode="bilinear"))


class _Grey(_Resized):
    def forward(self, x):
        return self.model(x.expand(-1, C, -1, -1))


# ---------------------------------------------------------------- config and wrong input
def test_config_round_trip_and_discovery():
    wam = WAM(wavelet="db2", levels=2, method="integrated", n_samples=9, noise_spread=0.5, batch_size=7, seed=3)
    config = json.loads(json.dumps(to_config_dict(wam)))
    again = from_config_dict(config, GenerateImageClassifierWhiteboxSaliency.get_impls())
    assert isinstance(again, WAM) and again.get_config() == wam.get_config()
    assert WAM in GenerateImageClassifierWhiteboxSaliency.get_impls()
    assert wam.map_spaces == (WAVELET, PIXEL) and wam.wavelet_levels == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"n_samples": 0}, ValueError, "n_samples"),
        ({"method": "integrated", "n_samples": 1}, ValueError, "n_samples"),
        ({"noise_spread": 0.0}, ValueError, "noise_spread"),
        ({"noise_spread": 1.5}, ValueError, r"noise_spread must be in \(0, 1\]"),
        ({"method": "vargrad"}, ValueError, "method must be one of"),
        ({"wavelet": "bior2.2"}, ValueError, "wavelet='bior2.2' is not supported; accepted: orthogonal"),
        ({"wavelet": 3}, TypeError, "wavelet"),
        ({"levels": 0}, ValueError, "levels"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"seed": -1}, ValueError, "seed"),
        ({"output": "score"}, ValueError, "output"),
    ],
)
def test_wrong_keywords(kwargs, error, words):
    with pytest.raises(error, match=words):
        WAM(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "shape"),
    [({"levels": 5}, (H, W, C)), ({"levels": 3, "wavelet": "db4"}, (H, W, C)), ({"levels": 2}, (3, 40, C))],
)
def test_levels_too_deep_for_the_image_before_any_forward_pass(kwargs, shape):
    model = CoefficientModel(*chosen_weights())
    with pytest.raises(ValueError, match=f"too small for the .* at levels={kwargs['levels']}"):
        WAM(**kwargs).explain(image_uint8(11, shape), Whitebox(model), [0])
    assert model.calls == 0


def test_wrong_classifier_and_classes():
    from smqtk_classifier.interfaces.classify_image import ClassifyImage

    class Blackbox(ClassifyImage):
        def get_labels(self):
            return ["a"]

        def classify_images(self, img_iter):
            return iter([{"a": 1.0}])

        def get_config(self):
            return {}

    with pytest.raises(TypeError, match=r"WAM needs a white-box classifier.*HuggingFaceImageClassifier"):
        WAM().explain(image_uint8(), Blackbox(), [0])
    model = CoefficientModel(*chosen_weights())
    with pytest.raises(ValueError, match="class_indices"):
        WAM(levels=LEVELS).explain(image_uint8(), Whitebox(model), [K])
    assert model.calls == 0


def test_the_number_of_samples_is_bounded_like_nb_design():
    """WAM(n_samples=10**12) was accepted, and a study at n_samples=1e7 held 1.1 GB for 45 s without a row; the
    Captum methods' samples and steps had the same hole."""
    from xaitk_wcam.impls.gen_image_classifier_whitebox_sal import IntegratedGradients, SmoothGrad
    from xaitk_wcam.impls.gen_image_classifier_whitebox_sal._captum import MAX_SAMPLES

    for build in (
        lambda n: WAM(n_samples=n),
        lambda n: WAM(method="integrated", n_samples=n),
        lambda n: SmoothGrad(samples=n),
        lambda n: IntegratedGradients(steps=n),
    ):
        for too_many in (MAX_SAMPLES + 1, 10**7, 10**12):
            with pytest.raises(ValueError, match=rf"(n_samples|samples|steps) must be .*<= {MAX_SAMPLES}"):
                build(too_many)
        assert build(MAX_SAMPLES).get_config()  # the bound itself is accepted


def test_the_memory_estimate_counts_what_wam_holds():
    """The study's memory_budget_mb check reads the estimate: it grows with what the explanation holds (the batch of
    layouts, Captum's per-sample lists, the result) and covers the Python and numpy memory traced while it runs
    (torch's tensors are counted by their own term)."""
    import tracemalloc

    from xaitk_wcam.interfaces.explainer import as_explainer

    classifier = Whitebox(CoefficientModel(*chosen_weights()))
    image = image_uint8(12)
    WAM(method="integrated", n_samples=4, levels=LEVELS).explain(image, classifier, [0])  # one-time loads
    wam = WAM(method="integrated", n_samples=2**11, levels=LEVELS, batch_size=256)
    tracemalloc.start()
    explanation = wam.explain(image, classifier, [0])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    estimate = wam.memory_estimate_bytes(image.shape)
    held = explanation.importance.nbytes + explanation.attributions.nbytes
    held += explanation.wavelet_maps.nbytes + explanation.spatial_maps.nbytes
    assert peak <= estimate and held <= estimate, (peak, held, estimate)
    more = WAM(method="integrated", n_samples=2**12, levels=LEVELS, batch_size=256).memory_estimate_bytes(image.shape)
    assert more - estimate == 2**11 * 128  # each path point's bookkeeping
    wider = WAM(method="integrated", n_samples=2**11, levels=LEVELS, batch_size=512).memory_estimate_bytes(image.shape)
    assert wider - estimate == 256 * C * H * W * 4 * 8  # each row of a pass: 8 float32 copies of its layout
    with pytest.raises(MemoryError, match=r"4000 x 4000 x 3 .* per explanation .* for WAM, over memory_budget_mb=1,0"):
        as_explainer(WAM(batch_size=64)).check_memory((4000, 4000, 3), 1000)  # 64 rows of 4000 x 4000 x 3 layouts
    as_explainer(WAM(batch_size=64)).check_memory((224, 224, 3), 1000)  # 295 MB: within the budget
