"""Deletion and Insertion: parity with ``saliency-maps-metrics``, analytic models, step options."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from faithfulness_helpers import FnBlackbox, TorchBlackbox, _as_torch, _independent_deletion_curve, channel0_mean

from xaitk_wcam.impls.faithfulness import Deletion, Insertion


@pytest.mark.parametrize("map_shape", [(14, 14), (28, 28), (7, 7), (56, 56), (8, 4)])
def test_multi_step_parity_with_reference(reference, torch_model, map_shape):
    multi, _ = reference
    rng = np.random.default_rng(sum(map_shape))
    blackbox = TorchBlackbox(torch_model, 5)
    for _ in range(2):
        image = rng.normal(size=(56, 56, 3)).astype(np.float32)
        sal_map = rng.normal(size=map_shape).astype(np.float32)
        class_index = int(rng.integers(5))
        data, expl = _as_torch(image, sal_map)
        target = torch.tensor([class_index])
        for ours, theirs, keys in (
            (Deletion(fill="black"), multi.Deletion(data_replace_method="black"), ("dauc", "dc")),
            (Insertion(fill="black"), multi.Insertion(data_replace_method="black"), ("iauc", "ic")),
        ):
            result = ours.compute(image, sal_map, blackbox, class_index)
            expected = theirs(torch_model, data, expl, target)
            for key in keys:
                assert result.scores[key] == pytest.approx(float(expected[key]), abs=1e-5)
            curve, _ = theirs.compute_scores(torch_model, data, expl, target)
            np.testing.assert_allclose(result.curve_y, curve[0], atol=1e-6)
            assert result.curve_x[0] == 0.0 and result.curve_x[-1] == 1.0


@pytest.mark.parametrize("cumulative", [True, False])
def test_multi_step_parity_options(reference, torch_model, cumulative):
    """Unbounded steps (``max_steps=None`` = ``bound_max_step=False``) and the non-cumulative variant."""
    multi, _ = reference
    rng = np.random.default_rng(7)
    image = rng.normal(size=(32, 32, 3)).astype(np.float32)
    sal_map = rng.normal(size=(16, 16)).astype(np.float32)
    data, expl = _as_torch(image, sal_map)
    blackbox = TorchBlackbox(torch_model, 5)
    for max_steps, bound in ((None, False), (196, True), (32, True)):
        ours = Deletion(fill="black", max_steps=max_steps, cumulative=cumulative, batch_size=50)
        theirs = multi.Deletion(
            data_replace_method="black",
            bound_max_step=bound,
            max_step_nb=max_steps or 1,
            cumulative=cumulative,
        )
        result = ours.compute(image, sal_map, blackbox, 1)
        expected = theirs(torch_model, data, expl, torch.tensor([1]))
        assert result.scores["dauc"] == pytest.approx(float(expected["dauc"]), abs=1e-5)
        assert result.scores["dc"] == pytest.approx(float(expected["dc"]), abs=1e-5)


def test_linear_model_on_a_uniform_image_gives_a_straight_line():
    image = np.ones((8, 8, 3))
    sal_map = np.random.default_rng(0).random((8, 8))
    blackbox = FnBlackbox(channel0_mean)
    with pytest.warns(RuntimeWarning, match="dc"):
        result = Deletion(max_steps=None).compute(image, sal_map, blackbox, 0)
    np.testing.assert_allclose(result.curve_x, np.arange(65) / 64)
    np.testing.assert_allclose(result.curve_y, 1.0 - result.curve_x, atol=1e-12)
    assert result.scores["dauc"] == pytest.approx(0.5)
    assert np.isnan(result.scores["dc"])  # every step drops by 1/64: no correlation to speak of
    with pytest.warns(RuntimeWarning, match="ic"):
        result = Insertion(fill="black", max_steps=None).compute(image, sal_map, blackbox, 0)
    np.testing.assert_allclose(result.curve_y, result.curve_x, atol=1e-12)
    assert result.scores["iauc"] == pytest.approx(0.5)


@pytest.mark.parametrize("max_steps", [None, 16])
def test_calibrated_and_anti_calibrated_maps(max_steps):
    """Map = true per-pixel contribution (calibrated) vs its negative: known curves and correlations."""
    rng = np.random.default_rng(1)
    image = rng.random((8, 8, 3))
    v = image[..., 0]
    blackbox = FnBlackbox(channel0_mean)
    per_step = 1 if max_steps is None else 4
    scores = {}
    for name, sal_map, order in (("cal", v, np.sort(v.ravel())[::-1]), ("anti", -v, np.sort(v.ravel()))):
        result = Deletion(max_steps=max_steps).compute(image, sal_map, blackbox, 0)
        expected = _independent_deletion_curve(order, 64, v.mean())[::per_step]
        np.testing.assert_allclose(result.curve_y, expected, atol=1e-12)
        assert result.scores["dauc"] == pytest.approx(np.trapezoid(expected, np.linspace(0, 1, expected.size)))
        insertion = Insertion(fill="black", max_steps=max_steps).compute(image, sal_map, blackbox, 0)
        scores[name] = (result.scores, insertion.scores)
    (dele_cal, ins_cal), (dele_anti, ins_anti) = scores["cal"], scores["anti"]
    assert dele_cal["dauc"] < 0.5 * v.mean() < dele_anti["dauc"]
    assert ins_cal["iauc"] > 0.5 * v.mean() > ins_anti["iauc"]
    assert dele_cal["dc"] == pytest.approx(1.0) and ins_cal["ic"] == pytest.approx(1.0)
    assert dele_anti["dc"] == pytest.approx(-1.0) and ins_anti["ic"] == pytest.approx(-1.0)


@pytest.mark.parametrize("metric_cls", [Deletion, Insertion])
def test_wrong_step_options(metric_cls):
    with pytest.raises(ValueError, match="max_steps"):
        metric_cls(max_steps=0)
    with pytest.raises(TypeError, match="max_steps"):
        metric_cls(max_steps=2.5)
    with pytest.raises(ValueError, match="superpixel_size"):
        metric_cls(superpixel_size=0)
    with pytest.raises(TypeError, match="cumulative"):
        metric_cls(cumulative="yes")
