"""Max-/Avg-Sensitivity and the Local Lipschitz Estimate: parity with Quantus 0.6 and Captum 0.9 on the same draws,
known answers, seeds, cost and input checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from stability_helpers import hwc_explainer, hwc_predictor, quantus_explainer, replaying

from xaitk_wcam.impls.stability import AvgSensitivity, LocalLipschitzEstimate, MaxSensitivity
from xaitk_wcam.interfaces.stability import DISTANCE

TOL = {"rel": 1e-6, "abs": 1e-6}
N = 6


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return np.random.default_rng(4).uniform(0.1, 0.9, (8, 8, 3))


def quantus_run(quantus_cls, metric, tiny_net, image, reference, **kw):
    """Quantus' metric on ``metric``'s own draws (replayed), one image, the same explainer."""
    draws = [metric.perturbed(image, j) for j in range(metric.n_samples)]
    q = quantus_cls(nr_samples=metric.n_samples, perturb_func=replaying(draws), disable_warnings=True, **kw)
    return q(
        model=tiny_net,
        x_batch=np.moveaxis(image, -1, 0)[None],
        y_batch=np.array([1]),
        a_batch=reference[None, None],
        explain_func=quantus_explainer(tiny_net),
        channel_first=True,
    )[0]


@pytest.mark.parametrize(
    ("cls", "quantus_name", "options"),
    [
        (MaxSensitivity, "MaxSensitivity", {"radius": 0.1}),
        (AvgSensitivity, "AvgSensitivity", {"radius": 0.1}),
        (LocalLipschitzEstimate, "LocalLipschitzEstimate", {"noise_std": 0.05}),
        (LocalLipschitzEstimate, "LocalLipschitzEstimate", {"noise_std": 0.05, "normalise": False}),
        (MaxSensitivity, "MaxSensitivity", {"radius": 0.1, "normalise": True, "absolute": True}),
    ],
)
def test_matches_quantus_on_the_same_draws(quantus, tiny_net, image, cls, quantus_name, options):
    """batch_size=1: the explainer sees the same single images as under Quantus (a batched conv is not bit-equal)."""
    metric = cls(n_samples=N, seed=3, batch_size=1, clip=False, **options)
    explain = hwc_explainer(tiny_net, 1)
    reference = explain(image[None])[0]
    quantus_kw = {"normalise": metric.normalise, "abs": metric.absolute}
    expected = quantus_run(getattr(quantus, quantus_name), metric, tiny_net, image, reference, **quantus_kw)
    assert np.isfinite(expected) and expected > 0
    assert metric.compute(image, explain=explain, reference_map=reference) == pytest.approx(expected, **TOL)
    assert metric.compute(image, explain=explain) == pytest.approx(expected, **TOL)  # explains the image itself


def test_prediction_changed_rule_matches_quantus(quantus, tiny_net, image):
    """Large noise flips some draws of the tiny net: Quantus' rule makes the maximum nan, its default ignores them."""
    explain, predict = hwc_explainer(tiny_net, 1), hwc_predictor(tiny_net)
    blue = np.zeros_like(image)
    blue[..., 2] = 1.0  # the tiny net's class 0; the image's is 1: bisect to the boundary between them
    low, high = 0.0, 1.0
    for _ in range(30):
        mid = (low + high) / 2
        low, high = (mid, high) if predict((1 - mid) * image[None] + mid * blue[None])[0].argmax() == 1 else (low, mid)
    image = (1 - low) * image + low * blue
    reference = explain(image[None])[0]
    strict = MaxSensitivity(n_samples=N, seed=1, radius=0.1, batch_size=1, clip=False, nan_when_prediction_changes=True)
    labels = [predict(strict.perturbed(image, j)[None])[0].argmax() for j in range(N)]
    assert len(set(labels)) > 1 and labels.count(predict(image[None])[0].argmax()) > 0  # some flipped, some held
    expected = quantus_run(quantus.MaxSensitivity, strict, tiny_net, image, reference,
                           return_nan_when_prediction_changes=True)  # fmt: skip
    assert np.isnan(expected) and np.isnan(strict.compute(image, explain=explain, predict=predict))
    lenient = MaxSensitivity(n_samples=N, seed=1, radius=0.1, batch_size=1, clip=False)
    expected = quantus_run(quantus.MaxSensitivity, lenient, tiny_net, image, reference)
    assert lenient.compute(image, explain=explain) == pytest.approx(expected, **TOL)
    assert strict.needs == {"explain", "predict"} and strict.n_forward_passes == N + 1
    with pytest.raises(ValueError, match="predict"):
        strict.compute(image, explain=explain)


def test_captum_reference_calls_sensitivity_max(tiny_net, image):
    from captum.metrics import sensitivity_max

    explain = hwc_explainer(tiny_net, 1)

    def explanation_func(inputs):
        single = isinstance(inputs, tuple)
        with torch.enable_grad():  # Captum runs it under no_grad
            maps = torch.from_numpy(explain((inputs[0] if single else inputs).numpy()))
        return (maps,) if single else maps

    metric = MaxSensitivity(reference="captum", seed=5, clip=False, batch_size=4)
    assert (metric.n_samples, metric.radius, metric.n_explanations) == (10, 0.02, 11)  # Captum's defaults
    state = torch.random.get_rng_state()
    value = metric.compute(image, explain=explain)
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's torch generator is left as it was
    torch.manual_seed(5)
    expected = float(sensitivity_max(explanation_func, torch.from_numpy(image[None].copy()), perturb_radius=0.02,
                                     n_perturb_samples=10, max_examples_per_batch=4)[0])  # fmt: skip
    assert value == pytest.approx(expected, **TOL) and value > 0
    # where the definitions differ: a zero map divides by 1 in Captum, by 0 in Quantus
    zero = lambda batch: np.zeros(batch.shape[:3])  # noqa: E731
    assert MaxSensitivity(reference="captum", n_samples=3).compute(image, explain=zero) == 0.0
    assert np.isnan(MaxSensitivity(n_samples=3).compute(image, explain=zero))
    with pytest.raises(ValueError, match="Quantus' rule"):
        MaxSensitivity(reference="captum", nan_when_prediction_changes=True)


def test_known_answers():
    rng = np.random.default_rng(6)
    gray = rng.uniform(0.2, 0.8, (6, 6))
    constant = lambda batch: np.full(batch.shape[:3], 0.7)  # noqa: E731
    proportional = lambda batch: 2.5 * batch  # noqa: E731 - grayscale: the map is the image, scaled
    for cls in (MaxSensitivity, AvgSensitivity, LocalLipschitzEstimate):
        assert cls(n_samples=5).compute(gray, explain=constant) == 0.0  # a constant map never moves
    # a perturbation that changes nothing (zero radius, zero noise): the map does not move
    assert MaxSensitivity(n_samples=4, radius=0.0).compute(gray, explain=proportional) == 0.0
    assert LocalLipschitzEstimate(n_samples=4, noise_std=0.0).compute(gray, explain=proportional) == 0.0
    # a map proportional to the input: sensitivity = ||noise|| / ||x||, Lipschitz = the factor
    metric = MaxSensitivity(n_samples=7, radius=0.05, clip=False, seed=2)
    ratios = [np.linalg.norm(metric.perturbed(gray, j) - gray) / np.linalg.norm(gray) for j in range(7)]
    assert metric.compute(gray, explain=proportional) == pytest.approx(max(ratios), rel=1e-12)
    avg = AvgSensitivity(n_samples=7, radius=0.05, clip=False, seed=2)
    assert avg.compute(gray, explain=proportional) == pytest.approx(np.mean(ratios), rel=1e-12)
    lle = LocalLipschitzEstimate(n_samples=5, noise_std=0.05, normalise=False, clip=False)
    assert lle.compute(gray, explain=proportional) == pytest.approx(2.5, rel=1e-9)


def test_draws_are_seeded_bounded_and_batch_independent(tiny_net, image):
    metric = MaxSensitivity(n_samples=5, radius=0.1, seed=8, clip=False)
    draws = np.stack([metric.perturbed(image, j) for j in range(5)])
    np.testing.assert_array_equal(draws, np.stack([metric.perturbed(image, j) for j in range(5)]))
    assert np.abs(draws - image).max() <= 0.1 and len({d.tobytes() for d in draws}) == 5
    other = MaxSensitivity(n_samples=5, radius=0.1, seed=9, clip=False)
    assert not np.array_equal(draws[0], other.perturbed(image, 0))
    clipped = MaxSensitivity(radius=0.5, seed=8).perturbed(image, 0)
    assert clipped.min() >= 0 and clipped.max() <= 1 and (clipped == 1).any()  # clip=True keeps images valid
    seen: list[np.ndarray] = []

    def explain(batch):
        seen.append(batch)
        return hwc_explainer(tiny_net, 1)(batch)

    a = MaxSensitivity(n_samples=5, seed=8, batch_size=2).compute(image, explain=explain)
    assert [len(b) for b in seen] == [1, 2, 2, 1]  # the image, then batches of batch_size: n_explanations = 6
    assert all(b.min() >= 0 and b.max() <= 1 for b in seen)
    b = MaxSensitivity(n_samples=5, seed=8, batch_size=5).compute(image, explain=hwc_explainer(tiny_net, 1))
    assert a == pytest.approx(b, rel=1e-5)  # same draws whatever the batching (float32 explainer)


def test_declarations_cost_and_config():
    for metric in (MaxSensitivity(), AvgSensitivity(), LocalLipschitzEstimate(), MaxSensitivity(reference="captum")):
        assert metric.direction == DISTANCE and metric.needs == {"explain"} and metric.n_forward_passes == 0
        assert metric.n_explanations == metric.n_samples + 1
        assert type(metric).from_config(metric.get_config()).get_config() == metric.get_config()
    assert (MaxSensitivity().n_samples, MaxSensitivity().radius) == (200, 0.2)  # Quantus' defaults
    assert (LocalLipschitzEstimate().noise_std, LocalLipschitzEstimate().normalise) == (0.1, True)


def test_wrong_inputs_are_refused_before_work(image):
    calls = []
    explain = lambda batch: calls.append(1) or batch.mean(axis=-1)  # noqa: E731
    metric = MaxSensitivity(n_samples=3)
    with pytest.raises(ValueError, match="explain"):
        metric.compute(image)
    with pytest.raises(TypeError, match="explain must be a callable"):
        metric.compute(image, explain="gradients")
    with pytest.raises(ValueError, match=r"float in \[0, 1\]"):
        metric.compute(image * 300, explain=explain)
    with pytest.raises(ValueError, match="reference_map"):
        metric.compute(image, explain=explain, reference_map=np.ones((8, 8, 3)))
    assert calls == []
    with pytest.raises(ValueError, match="one map per image"):
        metric.compute(image, explain=lambda batch: batch)  # N x H x W x C is not a map
    with pytest.raises(ValueError, match="reference map's shape"):
        metric.compute(image, explain=lambda batch: batch.mean(-1), reference_map=np.ones((4, 4)))
    for bad in ({"reference": "xplique"}, {"n_samples": 0}, {"radius": -0.1}, {"batch_size": 0}, {"seed": -1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            MaxSensitivity(**bad)
    with pytest.raises(TypeError, match="clip"):
        MaxSensitivity(clip="no")
    with pytest.raises(ValueError, match="noise_std"):
        LocalLipschitzEstimate(noise_std=-1.0)
    before = image.copy()
    MaxSensitivity(n_samples=2).compute(image, explain=lambda batch: batch.mean(-1))
    np.testing.assert_array_equal(image, before)
