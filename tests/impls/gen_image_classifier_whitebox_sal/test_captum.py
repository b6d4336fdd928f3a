"""What every Captum-backed method shares (``gen_image_classifier_whitebox_sal/_captum.py``): image tensors, the
forward function, normalised maps aligned with the input on HF models, configs, parameter errors."""

import json

import numpy as np
import pytest
import torch
from smqtk_core.configuration import from_config_dict, to_config_dict
from torch import nn
from whitebox_helpers import IdentityWhitebox, image_uint8, linear_classifier

from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier
from xaitk_wcam.impls.gen_image_classifier_whitebox_sal import (
    GradCAM,
    GradientTimesInput,
    IntegratedGradients,
    SmoothGrad,
    VanillaGradients,
)
from xaitk_wcam.impls.gen_image_classifier_whitebox_sal._captum import (
    forward_function,
    image_tensor,
    model_device,
    normalise,
)
from xaitk_wcam.interfaces.whitebox import GenerateImageClassifierWhiteboxSaliency

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


# ---------------------------------------------------------------- the shared helpers
def test_image_tensor_scales_uint8_keeps_floats_and_drops_alpha():
    image = image_uint8(14, (4, 3, 3))
    tensor = image_tensor(image, torch.device("cpu"))
    assert tensor.shape == (1, 3, 4, 3) and tensor.dtype == torch.float32
    np.testing.assert_allclose(tensor[0].permute(1, 2, 0).numpy(), image / 255.0, rtol=1e-6)
    rgba = np.dstack([image, np.full((4, 3), 9, np.uint8)])
    torch.testing.assert_close(image_tensor(rgba, torch.device("cpu")), tensor)
    grey = np.linspace(0, 1, 12).reshape(4, 3)
    assert image_tensor(grey, torch.device("cpu")).shape == (1, 1, 4, 3)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        image_tensor(grey * 2, torch.device("cpu"))
    with pytest.raises(TypeError, match="uint8"):
        image_tensor(image.astype(np.int32), torch.device("cpu"))


def test_normalise_divides_each_map_by_its_peak_and_keeps_zero_maps():
    maps = torch.tensor([[[1.0, -4.0], [2.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    out = normalise(maps)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[[0.25, -1.0], [0.5, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])


def test_forward_function_outputs_and_straight_through_clamp():
    classifier, weight, bias = linear_classifier(15)
    x = torch.rand(2, *weight.shape[1:], dtype=torch.float32)
    logits = x.flatten(1).double() @ torch.from_numpy(weight.reshape(len(weight), -1)).T + torch.from_numpy(bias)
    torch.testing.assert_close(forward_function(classifier, "logit")(x).double(), logits, atol=1e-5, rtol=0)
    probabilities = forward_function(classifier, "probability")(x)
    torch.testing.assert_close(probabilities.double(), torch.softmax(logits, dim=-1), atol=1e-5, rtol=0)
    outside = (x * 3 - 1).requires_grad_()  # values clamped to [0, 1]; the gradient passes unchanged
    forward_function(classifier, "logit")(outside)[:, 0].sum().backward()
    clamped = forward_function(classifier, "logit")(outside.detach().clamp(0, 1))
    torch.testing.assert_close(forward_function(classifier, "logit")(outside), clamped)
    np.testing.assert_allclose(outside.grad[0].numpy(), weight[0], atol=1e-6)


def test_model_device_reads_the_attribute_then_the_parameters():
    classifier = linear_classifier()[0]
    assert model_device(classifier) == torch.device("cpu")
    classifier.device = "meta"
    assert model_device(classifier) == torch.device("meta")
    assert model_device(IdentityWhitebox(torch.nn.Identity(), 2)) == torch.device("cpu")  # no parameter


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
