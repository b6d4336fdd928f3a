"""VanillaGradients, GradientTimesInput and SmoothGrad (``gen_image_classifier_whitebox_sal/gradients.py``): known
answers on linear models."""

import numpy as np
import torch
from whitebox_helpers import C, H, W, chw, image_uint8, linear_classifier, logits_of, mlp_classifier, softmax

from xaitk_wcam.impls.gen_image_classifier_whitebox_sal import GradientTimesInput, SmoothGrad, VanillaGradients


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
