"""Cascading model randomisation (Adebayo et al. 2018): Quantus 0.6's MPRT numbers, a method that fails the check,
the caller's model untouched, and the HuggingFace adapter around a randomised copy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xaitk_wcam.evaluation.sanity import TRAINED, cascading_randomisation, default_layers, spearman_similarity


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.conv2 = torch.nn.Conv2d(4, 4, 3, padding=1)
        self.fc = torch.nn.Linear(16, 3)

    def forward(self, x):
        h = torch.relu(self.conv2(torch.relu(self.bn(self.conv1(x)))))
        return self.fc(torch.nn.functional.adaptive_avg_pool2d(h, 2).flatten(1))


@pytest.fixture
def net() -> Net:
    torch.manual_seed(0)
    model = Net().eval()
    model.bn.running_mean += 0.3  # trained-looking statistics, which the randomisation resets
    return model


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 1, (1, 3, 8, 8)).astype(np.float32)


def gradient_x_input(model, x):
    inputs = torch.tensor(x, requires_grad=True)
    model(inputs)[:, 2].sum().backward()
    return (inputs.grad * inputs).detach().sum(dim=1).numpy()


def test_matches_quantus_mprt(net, image):
    import quantus

    def explain_func(model, inputs, targets, **kwargs):
        return gradient_x_input(model, inputs)[:, None]

    mprt = quantus.MPRT(seed=7, layer_order="top_down", disable_warnings=True)
    scores = mprt(model=net, x_batch=image, y_batch=np.array([2]), explain_func=explain_func, channel_first=True)
    result = cascading_randomisation(
        net, lambda model, step: gradient_x_input(model, image)[0], seed=7, seeding="quantus"
    )
    assert result.steps == tuple(default_layers(net)) == ("fc", "conv2", "bn", "conv1")  # top down, as Quantus
    assert list(scores) == ["original", *result.steps]
    assert scores["original"][0] == pytest.approx(1.0)
    expected = np.array([scores[step][0] for step in result.steps])
    np.testing.assert_allclose(result.similarities(absolute=True), expected, rtol=1e-6, atol=1e-6)  # MPRT's abs=True
    assert expected.min() < 0.9  # the maps did move


def test_a_method_that_ignores_the_model_is_flagged(net, image):
    edges = lambda model, step: np.abs(np.diff(image[0].sum(0), axis=0))  # noqa: E731 - explains the image only
    result = cascading_randomisation(net, edges, second_draw=edges)
    np.testing.assert_array_equal(result.similarities(), 1.0)
    assert result.seed_similarity() == 1.0 and result.falls_below_seed_similarity() is False
    faithful = cascading_randomisation(
        net,
        lambda model, step: gradient_x_input(model, image)[0],
        second_draw=lambda m, s: gradient_x_input(m, image)[0],
    )
    assert faithful.falls_below_seed_similarity() is True and faithful.similarities()[-1] < 0.9
    rows = faithful.rows()
    assert [r["step"] for r in rows] == ["seed", "fc", "conv2", "bn", "conv1"] and rows[0]["similarity"] == 1.0
    assert cascading_randomisation(net, edges).falls_below_seed_similarity() is None  # no second draw


def test_the_callers_model_is_untouched_and_calls_are_counted(net, image):
    before = {k: v.clone() for k, v in net.state_dict().items()}
    calls: list[tuple[int, str]] = []

    def explain(model, step):
        calls.append((id(model), step))
        return gradient_x_input(model, image)[0]

    result = cascading_randomisation(net, explain, layers=["fc", "conv2", "conv1"], checkpoints=[0, 2], seed=3)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert [step for _, step in calls] == [TRAINED, "fc", "conv1"] and result.steps == ("fc", "conv1")
    assert calls[0][0] == id(net) and calls[1][0] != id(net)  # the trained model, then the copy
    again = cascading_randomisation(net, lambda m, s: gradient_x_input(m, image)[0], layers=["fc", "conv2", "conv1"],
                                    checkpoints=[0, 2], seed=3)  # fmt: skip
    np.testing.assert_array_equal(np.stack(result.maps), np.stack(again.maps))  # same seed, same randomisation
    other = cascading_randomisation(net, lambda m, s: gradient_x_input(m, image)[0], layers=["fc", "conv2", "conv1"],
                                    checkpoints=[0, 2], seed=4)  # fmt: skip
    assert not np.array_equal(result.maps[-1], other.maps[-1])
    state = torch.random.get_rng_state()
    cascading_randomisation(net, lambda m, s: np.arange(4.0), layers=["fc"])
    assert torch.equal(torch.random.get_rng_state(), state)


def test_wrong_input_is_refused_before_any_explanation(net):
    calls = []
    explain = lambda model, step: calls.append(step) or np.arange(4.0)  # noqa: E731
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        cascading_randomisation(object(), explain)
    with pytest.raises(ValueError, match="no modules"):
        cascading_randomisation(net, explain, layers=["fc", "head"])
    with pytest.raises(TypeError, match="sequence of module names"):
        cascading_randomisation(net, explain, layers="fc")
    with pytest.raises(ValueError, match="checkpoints"):
        cascading_randomisation(net, explain, checkpoints=[2, 1])
    with pytest.raises(ValueError, match="checkpoints"):
        cascading_randomisation(net, explain, checkpoints=[9])
    with pytest.raises(ValueError, match="seeding"):
        cascading_randomisation(net, explain, seeding="fresh")
    with pytest.raises(TypeError, match="second_draw"):
        cascading_randomisation(net, explain, second_draw="seed 1")
    assert calls == []
    with pytest.raises(ValueError, match="shape"):
        cascading_randomisation(net, lambda model, step: np.arange(4.0 if step == TRAINED else 5.0))


def test_spearman_similarity():
    a = np.arange(9.0).reshape(3, 3)
    assert spearman_similarity(a, a**3) == 1.0 and spearman_similarity(a, -a) == -1.0
    assert spearman_similarity(a, np.ones((3, 3))) == 0.0  # a constant map shares no ranking
    with pytest.raises(ValueError, match="same number"):
        spearman_similarity(a, np.ones(4))


def test_hf_adapter_around_a_randomised_copy(tiny_resnet_dir):
    from xaitk_wcam.classifiers import HuggingFaceImageClassifier

    classifier = HuggingFaceImageClassifier(str(tiny_resnet_dir), device="cpu", batch_size=4)
    images = np.random.default_rng(1).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    trained = classifier.classify_array(images)
    seen = {}

    def explain(model, step):
        view = classifier.with_model(model)
        seen[step] = view.classify_array(images)
        return seen[step][0]

    cascading_randomisation(classifier.model, explain, layers=["classifier"])
    np.testing.assert_allclose(seen[TRAINED], trained)
    assert np.abs(seen["classifier"] - trained).max() > 1e-3  # the view ran the randomised head
    np.testing.assert_allclose(classifier.classify_array(images), trained)  # the classifier itself is untouched
    view = classifier.with_model(classifier.model)
    assert type(view).from_config(view.get_config()).get_labels() == classifier.get_labels()
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        classifier.with_model("weights.safetensors")
