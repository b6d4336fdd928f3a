"""White-box (Captum) saliency: known answers on linear and convolutional models, HF models, config, errors."""

import json

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter
from smqtk_core.configuration import from_config_dict, to_config_dict
from torch import nn
from xaitk_saliency.exceptions import ShapeMismatchError

from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier
from xaitk_wcam.impls.gen_image_classifier_whitebox_sal import (
    GradCAM,
    GradientTimesInput,
    IntegratedGradients,
    SmoothGrad,
    VanillaGradients,
)
from xaitk_wcam.interfaces.explanation import PIXEL, MapExplanation
from xaitk_wcam.interfaces.whitebox import GenerateImageClassifierWhiteboxSaliency, WhiteboxClassifier

H, W, C, K = 6, 5, 3, 4


class IdentityWhitebox:
    """A white-box classifier whose preprocessing is the identity: ``model`` sees the image in [0, 1]."""

    def __init__(self, model: nn.Module, n_labels: int):
        self.model = model.eval()
        self.n_labels = n_labels

    def preprocess(self, images, *, channels_first=False):
        x = torch.as_tensor(images)
        return x if channels_first else x.permute(0, 3, 1, 2)

    def get_labels(self):
        return [f"class{k}" for k in range(self.n_labels)]


def linear_classifier(seed=0):
    """logits = W . x + b over the flattened C x H x W image; returns (classifier, W (K x C x H x W), b)."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(C * H * W, K))
    weight = model[1].weight.detach().numpy().reshape(K, C, H, W).astype(np.float64)
    return IdentityWhitebox(model, K), weight, model[1].bias.detach().numpy().astype(np.float64)


def mlp_classifier(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(C * H * W, 16), nn.Tanh(), nn.Linear(16, K))
    return IdentityWhitebox(model, K)


def image_uint8(seed=0, shape=(H, W, C)):
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def chw(image):
    return image.astype(np.float64).transpose(2, 0, 1) / 255.0


def logits_of(weight, bias, x):
    return np.einsum("kchw,chw->k", weight, x) + bias


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


# ---------------------------------------------------------------- known answers on a linear model
def test_classifiers_satisfy_the_protocol():
    assert isinstance(linear_classifier()[0], WhiteboxClassifier)
    assert not isinstance(object(), WhiteboxClassifier)


def test_vanilla_gradients_of_a_linear_model_are_its_weights():
    clf, weight, _ = linear_classifier()
    image = image_uint8()
    raw = VanillaGradients(reduction="sum", output="logit").explain(image, clf, [0, 2]).attributions
    assert raw.shape == (2, C, H, W)
    np.testing.assert_allclose(raw, weight[[0, 2]], atol=1e-6)

    for reduction, reduce in [
        ("sum", lambda a: a.sum(axis=1)),
        ("abs_sum", lambda a: np.abs(a).sum(axis=1)),
        ("max_abs", lambda a: np.abs(a).max(axis=1)),
    ]:
        maps = VanillaGradients(reduction=reduction, output="logit").generate(image, clf, [0, 2])
        expected = reduce(weight[[0, 2]])
        expected /= np.abs(expected).max(axis=(1, 2), keepdims=True)
        assert maps.shape == (2, H, W) and maps.dtype == np.float32
        np.testing.assert_allclose(maps, expected, atol=1e-5)


def test_vanilla_gradients_of_the_probability():
    clf, weight, bias = linear_classifier(1)
    image = image_uint8(1)
    p = softmax(logits_of(weight, bias, chw(image)))
    mean_weight = np.einsum("k,kchw->chw", p, weight)
    expected = p[:, None, None, None] * (weight - mean_weight)  # d softmax_k / dx
    raw = VanillaGradients(output="probability").explain(image, clf, [0, 1, 2, 3]).attributions
    np.testing.assert_allclose(raw, expected, atol=1e-6)


def test_gradient_times_input_of_a_linear_model():
    clf, weight, _ = linear_classifier(2)
    image = image_uint8(2)
    raw = GradientTimesInput(output="logit").explain(image, clf, [3]).attributions
    np.testing.assert_allclose(raw[0], weight[3] * chw(image), atol=1e-6)


def test_smoothgrad_of_a_linear_model_is_its_weights():
    clf, weight, _ = linear_classifier(3)
    image = image_uint8(3)
    raw = SmoothGrad(samples=8, sigma=0.3, output="logit", reduction="sum").explain(image, clf, [1, 0]).attributions
    np.testing.assert_allclose(raw, weight[[1, 0]], atol=1e-6)  # a constant gradient, whatever the noise


def test_smoothgrad_seed():
    clf = mlp_classifier(4)
    image = image_uint8(4)
    a = SmoothGrad(samples=6, seed=1, batch_size=4).generate(image, clf, [0, 1])
    b = SmoothGrad(samples=6, seed=1, batch_size=4).generate(image, clf, [0, 1])
    c = SmoothGrad(samples=6, seed=2, batch_size=4).generate(image, clf, [0, 1])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    # the global torch RNG is left alone
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    SmoothGrad(samples=2).generate(image, clf, [0])
    assert torch.equal(torch.rand(3), expected)


def _baseline(image01, baseline, blur_sigma=5.0):
    if baseline == "black":
        return np.zeros_like(image01)
    if baseline == "white":
        return np.ones_like(image01)
    return gaussian_filter(image01, sigma=(0, blur_sigma, blur_sigma), mode="reflect")


@pytest.mark.parametrize("baseline", ["black", "white", "blurred"])
def test_integrated_gradients_of_a_linear_model(baseline):
    clf, weight, bias = linear_classifier(5)
    image = image_uint8(5)
    x = chw(image)
    x0 = _baseline(x, baseline, 1.5)
    raw = (
        IntegratedGradients(steps=7, baseline=baseline, blur_sigma=1.5, output="logit")
        .explain(image, clf, [0, 3])
        .attributions
    )
    np.testing.assert_allclose(raw, weight[[0, 3]] * (x - x0), atol=1e-5)
    completeness = logits_of(weight, bias, x)[[0, 3]] - logits_of(weight, bias, x0)[[0, 3]]
    np.testing.assert_allclose(raw.sum(axis=(1, 2, 3)), completeness, atol=1e-3)


@pytest.mark.parametrize("baseline", ["black", "white", "blurred"])
def test_integrated_gradients_completeness_on_a_nonlinear_probability(baseline):
    clf = mlp_classifier(6)
    image = image_uint8(6)
    x = chw(image)
    x0 = _baseline(x, baseline)
    with torch.no_grad():
        probs = torch.softmax(clf.model(torch.tensor(np.stack([x, x0]), dtype=torch.float32)), dim=-1).numpy()
    raw = IntegratedGradients(steps=64, baseline=baseline, batch_size=32).explain(image, clf, [0, 1, 2, 3]).attributions
    np.testing.assert_allclose(raw.sum(axis=(1, 2, 3)), probs[0] - probs[1], atol=1e-3)
    assert np.abs(probs[0] - probs[1]).max() > 1e-3  # the test has something to check


# ---------------------------------------------------------------- GradCAM on a known convolutional model
def conv_classifier(seed=0):
    """conv 3x3 -> global average pool -> linear: GradCAM_k = ReLU(sum_c w_kc A_c) / (h w), A = conv(x)."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(C, 4, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, K))
    return IdentityWhitebox(model, K)


def test_gradcam_of_a_known_convolutional_model():
    clf = conv_classifier()
    image = image_uint8(7, (12, 10, C))
    with torch.no_grad():
        features = clf.model[0](torch.tensor(chw(image)[None], dtype=torch.float32))[0].numpy()
    weights = clf.model[3].weight.detach().numpy()
    expected = np.maximum(np.einsum("kc,chw->khw", weights, features), 0)
    expected /= expected.max(axis=(1, 2), keepdims=True)

    maps = GradCAM().generate(image, clf, [0, 1, 2])
    np.testing.assert_allclose(maps, expected[:3], atol=1e-5)
    np.testing.assert_allclose(GradCAM(layer="0").generate(image, clf, [0, 1, 2]), maps, atol=1e-6)
    signed = GradCAM(relu=False).generate(image, clf, [1])
    raw = np.einsum("c,chw->hw", weights[1], features)
    np.testing.assert_allclose(signed[0], raw / np.abs(raw).max(), atol=1e-5)


def test_gradcam_bad_layers():
    clf = conv_classifier()
    image = image_uint8(8, (12, 10, C))
    with pytest.raises(ValueError, match="layer='nope'"):
        GradCAM(layer="nope").generate(image, clf, [0])
    with pytest.raises(ValueError, match="N x C x h x w"):
        GradCAM(layer="3").generate(image, clf, [0])  # the Linear head
    with pytest.raises(ValueError, match="convolutional"):
        GradCAM().generate(image_uint8(), linear_classifier()[0], [0])
    with pytest.raises(ValueError, match="layer"):
        GradCAM(layer="")


# ---------------------------------------------------------------- HuggingFace models
@pytest.fixture(scope="module")
def resnet(tiny_resnet_dir):
    return HuggingFaceImageClassifier(str(tiny_resnet_dir), device="cpu")


METHODS = [
    VanillaGradients(),
    GradientTimesInput(),
    SmoothGrad(samples=4, batch_size=8),
    IntegratedGradients(steps=8, baseline="blurred"),
    GradCAM(),
]


@pytest.mark.parametrize("method", METHODS, ids=lambda m: type(m).__name__)
def test_tiny_resnet_maps_align_with_the_input(resnet, method):
    # 40 x 48: the processor resizes the short side to 73 then centre-crops 64 x 64, cutting columns away.
    image = image_uint8(9, (40, 48, 3))
    copy = image.copy()
    maps = method.generate(image, resnet, [1, 4])
    np.testing.assert_array_equal(image, copy)
    assert maps.shape == (2, 40, 48) and maps.dtype == np.float32
    assert np.isfinite(maps).all() and np.abs(maps).max() == pytest.approx(1.0)
    assert maps.min() >= -1.0
    cropped = np.abs(VanillaGradients().generate(image, resnet, [1])[0]).sum(axis=0) == 0
    assert 4 <= cropped.sum() < 48  # the crop removes some columns: no gradient reaches them
    assert (maps[:, :, cropped] == 0).all()


def test_tiny_resnet_gradcam_default_is_the_last_stage(resnet):
    image = image_uint8(10, (64, 64, 3))
    default = GradCAM().generate(image, resnet, [0])
    np.testing.assert_array_equal(default, GradCAM(layer="resnet.encoder.stages.1").generate(image, resnet, [0]))
    assert not np.array_equal(default, GradCAM(layer="resnet.encoder.stages.0").generate(image, resnet, [0]))
    assert default.min() >= 0


def test_tiny_resnet_float_and_grey_images(resnet):
    rng = np.random.default_rng(11)
    grey = rng.uniform(0, 1, size=(64, 64)).astype(np.float32)
    maps = IntegratedGradients(steps=4).generate(grey, resnet, 2)
    assert maps.shape == (1, 64, 64)
    rgba = np.dstack([image_uint8(12, (64, 64, 3)), np.full((64, 64), 7, np.uint8)])
    np.testing.assert_allclose(
        VanillaGradients().generate(rgba, resnet, [0]),
        VanillaGradients().generate(rgba[..., :3], resnet, [0]),
    )


def test_tiny_vit_gradcam_needs_a_layer(tiny_vit_dir):
    vit = HuggingFaceImageClassifier(str(tiny_vit_dir), device="cpu")
    image = image_uint8(13, (32, 32, 3))
    with pytest.raises(ValueError, match="not spatially pooled"):
        GradCAM().generate(image, vit, [0])
    assert VanillaGradients().generate(image, vit, [0, 1]).shape == (2, 32, 32)


# ---------------------------------------------------------------- configuration
@pytest.mark.parametrize(
    "method",
    [
        VanillaGradients(reduction="max_abs", output="logit"),
        GradientTimesInput(reduction="abs_sum"),
        SmoothGrad(samples=7, sigma=0.2, batch_size=3, seed=9, reduction="sum", output="logit"),
        IntegratedGradients(steps=11, baseline="white", blur_sigma=2.5, batch_size=5, reduction="abs_sum"),
        GradCAM(layer="resnet.encoder.stages.0", relu=False, output="probability"),
        GradCAM(),
    ],
    ids=lambda m: type(m).__name__,
)
def test_config_round_trip(method):
    config = method.get_config()
    assert config == json.loads(json.dumps(config))
    impls = GenerateImageClassifierWhiteboxSaliency.get_impls()
    assert {VanillaGradients, GradientTimesInput, SmoothGrad, IntegratedGradients, GradCAM} <= impls
    rebuilt = from_config_dict(to_config_dict(method), impls)
    assert type(rebuilt) is type(method)
    assert rebuilt.get_config() == config
    assert type(method).from_config(config).get_config() == config


# ---------------------------------------------------------------- wrong input
@pytest.mark.parametrize(
    ("build", "error", "words"),
    [
        (lambda: IntegratedGradients(baseline="grey"), ValueError, "baseline"),
        (lambda: IntegratedGradients(steps=0), ValueError, "steps"),
        (lambda: IntegratedGradients(blur_sigma=-1.0), ValueError, "blur_sigma"),
        (lambda: SmoothGrad(sigma=0), ValueError, "sigma"),
        (lambda: SmoothGrad(samples=2.0), TypeError, "samples"),
        (lambda: VanillaGradients(reduction="mean"), ValueError, "reduction"),
        (lambda: GradientTimesInput(output="softmax"), ValueError, "output"),
        (lambda: GradCAM(relu="yes"), TypeError, "relu"),
    ],
)
def test_bad_parameters(build, error, words):
    with pytest.raises(error, match=words):
        build()


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


@pytest.mark.parametrize("method", [*METHODS, "WAM"], ids=lambda m: m if isinstance(m, str) else type(m).__name__)
def test_a_model_in_train_mode_is_explained_in_eval_mode_and_left_as_it_was(tiny_resnet_dir, method):
    """Issue 29: WAM and the Captum methods ran a train-mode model as it was: one explanation changed 30 BatchNorm
    buffers and the map differed by 0.76 from the eval-mode map. The model is now explained in eval mode, and every
    module's own mode is restored after."""
    if method == "WAM":
        from xaitk_wcam import WAM

        method = WAM(n_samples=4, levels=2)
    classifier = HuggingFaceImageClassifier(str(tiny_resnet_dir), device="cpu")
    image = image_uint8(13, (40, 48, 3))
    in_eval = np.asarray(method.generate(image, classifier, [1]))
    model = classifier.model.train()
    frozen = next(m for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    frozen.eval()  # a module the caller keeps in eval mode
    buffers = {name: b.clone() for name, b in model.named_buffers()}
    modes = {name: m.training for name, m in model.named_modules()}
    in_train = np.asarray(method.generate(image, classifier, [1]))
    np.testing.assert_allclose(in_train, in_eval, atol=1e-6)  # the map of the model that makes the predictions
    assert all(torch.equal(b, buffers[name]) for name, b in model.named_buffers())  # statistics untouched
    assert {name: m.training for name, m in model.named_modules()} == modes  # every module's own mode is back
    assert model.training and not frozen.training
