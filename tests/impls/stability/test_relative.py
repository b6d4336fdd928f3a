"""Relative Input / Output / Representation Stability: parity with Quantus 0.6, known answers, input checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from stability_helpers import hwc_explainer, hwc_predictor, quantus_explainer, replaying

from xaitk_wcam.impls.stability import RelativeInputStability, RelativeOutputStability, RelativeRepresentationStability
from xaitk_wcam.impls.stability.representation import representations
from xaitk_wcam.interfaces.stability import DISTANCE, prediction_changed

TOL = {"rel": 1e-6, "abs": 1e-6}


def chw(image: np.ndarray) -> np.ndarray:
    return np.moveaxis(image, -1, 0)[None]


@pytest.fixture(scope="module")
def pair(tiny_net):
    """A reference image, a slightly perturbed one, the gradient maps of class 1 on both, and their logits."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0.1, 0.9, (8, 8, 3))
    x_perturbed = np.clip(x + rng.uniform(-0.05, 0.05, x.shape), 0, 1)
    explain, predict = hwc_explainer(tiny_net, 1), hwc_predictor(tiny_net)
    return {
        "x": x,
        "xp": x_perturbed,
        "e": explain(x[None])[0],
        "ep": explain(x_perturbed[None])[0],
        "h": predict(x[None])[0],
        "hp": predict(x_perturbed[None])[0],
    }


def quantus_value(metric, tiny_net, pair, **call):
    """Quantus' metric with one draw (the given perturbed image): its maximum over draws is that pair's value."""
    return metric(
        model=tiny_net,
        x_batch=chw(pair["x"]),
        y_batch=np.array([1]),
        a_batch=pair["e"][None, None],
        explain_func=quantus_explainer(tiny_net),
        channel_first=True,
        **call,
    )[0]


@pytest.mark.parametrize("rule", [False, True])
def test_ris_ros_match_quantus_with_one_draw(quantus, tiny_net, pair, rule):
    kw = {"nr_samples": 1, "disable_warnings": True, "return_nan_when_prediction_changes": rule}
    ris = quantus.RelativeInputStability(perturb_func=replaying([pair["xp"]]), **kw)
    mine = RelativeInputStability(nan_when_prediction_changes=rule).compute(
        pair["ep"],
        pair["e"],
        image=pair["xp"],
        reference_image=pair["x"],
        output=pair["hp"],
        reference_output=pair["h"],
    )
    assert np.isfinite(mine) and mine == pytest.approx(quantus_value(ris, tiny_net, pair), **TOL)
    ros = quantus.RelativeOutputStability(perturb_func=replaying([pair["xp"]]), **kw)
    mine = RelativeOutputStability(nan_when_prediction_changes=rule).compute(
        pair["ep"], pair["e"], output=pair["hp"], reference_output=pair["h"]
    )
    assert np.isfinite(mine) and mine == pytest.approx(quantus_value(ros, tiny_net, pair), **TOL)


def test_a_flipped_prediction_is_nan_in_both(quantus, tiny_net, pair):
    predict, explain = hwc_predictor(tiny_net), hwc_explainer(tiny_net, 1)
    other = np.zeros((8, 8, 3))
    other[..., 2] = 1.0  # pure blue: the tiny net's class 0, the reference's is 1
    assert predict(other[None])[0].argmax() != pair["h"].argmax()
    flipped = {**pair, "xp": other, "ep": explain(other[None])[0], "hp": predict(other[None])[0]}
    ris = quantus.RelativeInputStability(nr_samples=1, perturb_func=replaying([other]), disable_warnings=True)
    assert np.isnan(quantus_value(ris, tiny_net, flipped))  # Quantus' default rule
    mine = RelativeInputStability(nan_when_prediction_changes=True)
    assert np.isnan(mine.compute(flipped["ep"], pair["e"], image=other, reference_image=pair["x"],
                                 output=flipped["hp"], reference_output=pair["h"]))  # fmt: skip
    assert np.isfinite(
        RelativeInputStability().compute(flipped["ep"], pair["e"], image=other, reference_image=pair["x"])
    )


def test_rrs_matches_quantus_on_a_named_layer(quantus, tiny_net, pair):
    rrs = quantus.RelativeRepresentationStability(
        nr_samples=1, perturb_func=replaying([pair["xp"]]), layer_names=["conv"], disable_warnings=True,
        return_nan_when_prediction_changes=False,
    )  # fmt: skip
    metric = RelativeRepresentationStability(layer="conv")
    rep, rep_ref = metric.representation(tiny_net, chw(pair["xp"])), metric.representation(tiny_net, chw(pair["x"]))
    assert rep.shape == (1, 4 * 8 * 8)
    mine = metric.compute(pair["ep"], pair["e"], representation=rep[0], reference_representation=rep_ref[0])
    assert np.isfinite(mine) and mine == pytest.approx(quantus_value(rrs, tiny_net, pair), **TOL)


def test_objectives_match_quantus_on_random_batches(quantus):
    """Each pair of a batch of random inputs, zeros included (the eps_min replacements), against Quantus' objectives."""
    rng = np.random.default_rng(2)
    x = rng.random((4, 3, 6, 6))
    x[0, 0, :2] = 0.0  # zero pixels: divided by eps_min
    xs = np.clip(x + rng.normal(0, 0.1, x.shape), 0, 1)
    xs[1] = x[1]  # no change at all: denominator eps_min
    e, es = rng.normal(size=(4, 1, 6, 6)), rng.normal(size=(4, 1, 6, 6))
    e[2, 0, 0] = 0.0
    h, hs = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    hs[3] = h[3]
    rep, reps = rng.normal(size=(4, 7)), rng.normal(size=(4, 7))
    reps[3], rep[0, :2] = rep[3], 0.0
    kw = {"disable_warnings": True}
    expected = {
        "ris": quantus.RelativeInputStability(**kw).relative_input_stability_objective(x, xs, e, es),
        "ros": quantus.RelativeOutputStability(**kw).relative_output_stability_objective(h, hs, e, es),
        "rrs": quantus.RelativeRepresentationStability(**kw).relative_representation_stability_objective(
            rep, reps, e, es
        ),
    }
    for i in range(4):
        hwc, hwc_s = np.moveaxis(x[i], 0, -1), np.moveaxis(xs[i], 0, -1)
        ris = RelativeInputStability().compute(es[i, 0], e[i, 0], image=hwc_s, reference_image=hwc)
        ros = RelativeOutputStability().compute(es[i, 0], e[i, 0], output=hs[i], reference_output=h[i])
        rrs = RelativeRepresentationStability().compute(
            es[i, 0], e[i, 0], representation=reps[i], reference_representation=rep[i]
        )
        assert ris == pytest.approx(expected["ris"][i], **TOL)
        assert ros == pytest.approx(expected["ros"][i], **TOL)
        assert rrs == pytest.approx(expected["rrs"][i], **TOL)
    assert expected["ris"][1] > 1e5 and expected["ros"][3] > 1e5  # the eps_min denominators were exercised


def test_known_answers():
    rng = np.random.default_rng(3)
    x = rng.uniform(0.2, 1.0, (6, 6))
    xs = np.clip(x + rng.normal(0, 0.1, x.shape), 0.01, 1)
    constant = np.full((6, 6), 0.5)
    # a constant explanation never moves: 0 whatever the inputs did
    assert RelativeInputStability().compute(constant, constant, image=xs, reference_image=x) == 0.0
    assert RelativeOutputStability().compute(constant, constant, output=np.ones(3), reference_output=np.zeros(3)) == 0
    # an explanation proportional to the input moves exactly as much as the input, relatively: RIS = 1
    assert RelativeInputStability().compute(3 * xs, 3 * x, image=xs, reference_image=x) == pytest.approx(1.0, abs=1e-12)
    # the same representation change as the map's: RRS = 1
    assert RelativeRepresentationStability().compute(
        3 * xs, 3 * x, representation=xs, reference_representation=x
    ) == pytest.approx(1.0, abs=1e-12)
    # a perturbation that changes nothing: the denominator is eps_min, the map did not move: 0
    assert RelativeInputStability().compute(x, x, image=x, reference_image=x) == 0.0
    moved = RelativeInputStability(eps_min=1e-3).compute(x + 0.1, x, image=x, reference_image=x)
    assert moved == pytest.approx(np.linalg.norm(0.1 / x) / 1e-3)
    # uint8 images are read as /255: the same value as the float image
    u8 = (x * 255).round().astype(np.uint8)
    u8s = (xs * 255).round().astype(np.uint8)
    assert RelativeInputStability().compute(xs, x, image=u8s, reference_image=u8) == pytest.approx(
        RelativeInputStability().compute(xs, x, image=u8s / 255.0, reference_image=u8 / 255.0)
    )


def test_prediction_changed_rule():
    e, es = np.ones((4, 4)), np.full((4, 4), 1.5)
    held = {"output": np.array([0.1, 0.9]), "reference_output": np.array([0.2, 0.8])}
    flipped = {"output": np.array([0.9, 0.1]), "reference_output": np.array([0.2, 0.8])}
    strict = RelativeOutputStability(nan_when_prediction_changes=True)
    assert np.isfinite(strict.compute(es, e, **held)) and np.isnan(strict.compute(es, e, **flipped))
    assert np.isfinite(RelativeOutputStability().compute(es, e, **flipped))
    assert prediction_changed(flipped["output"], flipped["reference_output"])
    assert not prediction_changed(held["output"], held["reference_output"])
    ris = RelativeInputStability(nan_when_prediction_changes=True)
    assert ris.needs == {"images", "outputs"} and RelativeInputStability.needs == {"images"}
    with pytest.raises(ValueError, match="output and reference_output"):
        ris.compute(es, e, image=np.ones((4, 4)), reference_image=np.ones((4, 4)))


def test_declarations_and_config():
    for cls, need in (
        (RelativeInputStability, "images"),
        (RelativeOutputStability, "outputs"),
        (RelativeRepresentationStability, "representations"),
    ):
        metric = cls()
        assert metric.direction == DISTANCE and metric.needs == {need} and metric.n_explanations == 0
        assert metric.n_forward_passes == 0 and set(metric.map_spaces) == {"pixel", "wavelet", "spectrum"}
        assert cls.from_config(metric.get_config()).get_config() == metric.get_config()
    assert RelativeRepresentationStability(layer="conv").get_config()["layer"] == "conv"


def test_wrong_inputs_are_refused_before_work():
    e = np.ones((4, 4))
    ris = RelativeInputStability()
    with pytest.raises(ValueError, match="image and reference_image"):
        ris.compute(e, e)
    with pytest.raises(ValueError, match="same shape"):
        ris.compute(e, np.ones((4, 5)), image=np.ones((4, 4)), reference_image=np.ones((4, 4)))
    with pytest.raises(ValueError, match=r"image must be float in \[0, 1\]"):
        ris.compute(e, e, image=np.full((4, 4), 2.0), reference_image=np.ones((4, 4)))
    with pytest.raises(ValueError, match="image and reference_image must have the same shape"):
        ris.compute(e, e, image=np.ones((4, 4, 3)), reference_image=np.ones((4, 4)))
    with pytest.raises(TypeError, match="uint8"):
        ris.compute(e, e, image=np.ones((4, 4), np.int32), reference_image=np.ones((4, 4), np.int32))
    with pytest.raises(ValueError, match="NaN"):
        ris.compute(np.full((4, 4), np.nan), e, image=np.ones((4, 4)), reference_image=np.ones((4, 4)))
    with pytest.raises(ValueError, match="same size"):
        RelativeOutputStability().compute(e, e, output=np.ones(3), reference_output=np.ones(4))
    with pytest.raises(TypeError, match="output"):
        RelativeOutputStability().compute(e, e, output=[1.0, 2.0], reference_output=np.ones(2))
    with pytest.raises(ValueError, match="eps_min"):
        RelativeInputStability(eps_min=0.0)
    with pytest.raises(TypeError, match="nan_when_prediction_changes"):
        RelativeInputStability(nan_when_prediction_changes="yes")
    with pytest.raises(TypeError, match="layer"):
        RelativeRepresentationStability(layer=3)
    image = np.full((4, 4), 0.5)
    before = image.copy()
    ris.compute(e * 2, e, image=image, reference_image=image * 0.5)
    np.testing.assert_array_equal(image, before)  # the caller's data is not modified


def test_representation_of_a_black_box_is_a_type_error(tiny_net):
    from fakes import CellEnergyClassifier

    blackbox = CellEnergyClassifier(np.ones((8, 8)), slice(0, 2), slice(0, 2))
    with pytest.raises(TypeError, match="black box"):
        RelativeRepresentationStability().representation(blackbox, np.ones((1, 8, 8)))
    with pytest.raises(ValueError, match="no module"):
        representations(tiny_net, np.ones((1, 3, 8, 8)), layer="nope")
    head = representations(tiny_net, np.ones((1, 3, 8, 8), np.float32))  # the fc's input: the pooled features
    with torch.no_grad():
        pooled = torch.nn.functional.adaptive_avg_pool2d(torch.relu(tiny_net.conv(torch.ones(1, 3, 8, 8))), 2)
    np.testing.assert_allclose(head, pooled.flatten(1).numpy(), rtol=1e-6)
