"""Infidelity: Captum 0.9's number on the same draws, the known answer of a linear model, cost and checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from stability_helpers import hwc_explainer, hwc_predictor

from xaitk_wcam.impls.stability import Infidelity
from xaitk_wcam.interfaces.explanation import PIXEL


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return np.random.default_rng(5).uniform(0.1, 0.9, (8, 8, 3))


def test_matches_captum_infidelity(tiny_net, image):
    from captum.metrics import infidelity

    predict = hwc_predictor(tiny_net)
    sal_map = hwc_explainer(tiny_net, 1)(image[None])[0]
    metric = Infidelity(n_samples=12, noise_std=0.05, seed=4, batch_size=5)
    value = metric.compute(image, predict=predict, target=1, reference_map=sal_map)

    def perturb(inputs):  # Yeh et al.'s noisy baseline, drawn from torch's seeded generator, clipped
        perturbed = (inputs + torch.randn(inputs.shape, dtype=inputs.dtype) * 0.05).clamp(0, 1)
        return inputs - perturbed, perturbed

    torch.manual_seed(4)
    expected = infidelity(
        lambda x: torch.from_numpy(predict(x.numpy())),
        perturb,
        torch.from_numpy(image[None].copy()),
        torch.from_numpy(np.repeat(sal_map[..., None], 3, axis=-1)[None].copy()),
        target=1,
        n_perturb_samples=12,
        max_examples_per_batch=5,
    )
    assert value == pytest.approx(float(expected[0]), rel=1e-6, abs=1e-12) and value > 0
    assert Infidelity(n_samples=12, noise_std=0.05, seed=5).compute(
        image, predict=predict, target=1, reference_map=sal_map
    ) != pytest.approx(value)  # another seed, other draws


def test_a_linear_model_explained_by_its_weights_is_perfectly_faithful(image):
    """f(x) = sum w_p x_pc: the map w predicts every output change, I . w = f(x) - f(x - I): infidelity 0."""
    weights = np.random.default_rng(1).normal(size=(8, 8))
    calls: list[int] = []

    def predict(batch):
        calls.append(len(batch))
        score = np.einsum("nhwc,hw->n", batch, weights)
        return np.stack([score, -score], axis=1)

    metric = Infidelity(n_samples=9, noise_std=0.1, batch_size=4)
    assert metric.compute(image, predict=predict, target=0, reference_map=weights) == pytest.approx(0.0, abs=1e-20)
    assert sum(calls) == metric.n_forward_passes == 10  # the image once, then every draw
    assert metric.compute(image, predict=predict, target=0, reference_map=-weights) > 1e-3  # the wrong sign is not
    assert metric.compute(image, predict=predict, target=0, reference_map=np.zeros((8, 8))) > 0  # nor an empty map


def test_declarations_and_checks(image):
    metric = Infidelity()
    assert metric.map_spaces == (PIXEL,) and metric.needs == {"predict", "target", "reference_map"}
    assert (metric.n_explanations, metric.n_forward_passes, metric.direction) == (0, 11, "distance")
    assert Infidelity.from_config(metric.get_config()).get_config() == metric.get_config()
    predict = lambda batch: batch.reshape(len(batch), -1)[:, :3]  # noqa: E731
    with pytest.raises(ValueError, match="target"):
        metric.compute(image, predict=predict, reference_map=np.ones((8, 8)))
    with pytest.raises(ValueError, match="pixel map"):
        metric.compute(image, predict=predict, target=0, reference_map=np.ones((4, 4)))
    with pytest.raises(ValueError, match="target=5"):
        metric.compute(image, predict=predict, target=5, reference_map=np.ones((8, 8)))
    with pytest.raises(TypeError, match="target"):
        metric.compute(image, predict=predict, target=1.0, reference_map=np.ones((8, 8)))
    with pytest.raises(ValueError, match="noise_std"):
        Infidelity(noise_std=-0.1)
    with pytest.raises(TypeError, match="normalize"):
        Infidelity(normalize=1)
