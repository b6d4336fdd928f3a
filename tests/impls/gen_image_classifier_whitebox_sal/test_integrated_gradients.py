"""IntegratedGradients (``gen_image_classifier_whitebox_sal/integrated_gradients.py``): linear models and
completeness for every baseline."""

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter
from whitebox_helpers import chw, image_uint8, linear_classifier, logits_of, mlp_classifier

from xaitk_wcam.impls.gen_image_classifier_whitebox_sal import IntegratedGradients


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
