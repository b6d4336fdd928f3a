"""The faithfulness interface (``interfaces/faithfulness.py``), over every metric: constant model, inputs not modified,
compute_many, wrong inputs, config round trip, plugin discovery."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from faithfulness_helpers import ALL_METRICS, FnBlackbox, channel0_mean, constant_model

from xaitk_wcam.impls.faithfulness import AverageDrop, AverageDropInDeletion, Deletion, Insertion, MuFidelity
from xaitk_wcam.interfaces.faithfulness import FaithfulnessMetric, FaithfulnessResult


def test_constant_model():
    rng = np.random.default_rng(3)
    image, sal_map = rng.random((8, 8, 3)), rng.random((4, 4))
    blackbox = FnBlackbox(constant_model)
    for metric, auc, corr in ((Deletion(), "dauc", "dc"), (Insertion(), "iauc", "ic")):
        with pytest.warns(RuntimeWarning, match=corr):
            result = metric.compute(image, sal_map, blackbox, 0)
        assert result.scores[auc] == pytest.approx(0.7)
        assert np.isnan(result.scores[corr])
    assert AverageDrop().compute(image, sal_map, blackbox, 0).scores == {"ad": 0.0, "iic": 0.0}
    assert AverageDropInDeletion().compute(image, sal_map, blackbox, 0).scores == {"add": 0.0}
    with pytest.warns(RuntimeWarning, match="mufidelity"):
        assert np.isnan(MuFidelity(grid_size=4).compute(image, sal_map, blackbox, 0).scores["mufidelity"])


def test_inputs_are_not_modified():
    rng = np.random.default_rng(9)
    image, sal_map = rng.random((8, 8, 3)), rng.random((4, 4))
    sal_map[0, 0] = np.nan
    image_copy, map_copy = image.copy(), sal_map.copy()
    for metric in (Deletion(), Insertion(), AverageDrop(), AverageDropInDeletion(), MuFidelity(grid_size=4)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            metric.compute(image, sal_map, FnBlackbox(channel0_mean), 0)
    np.testing.assert_array_equal(image, image_copy)
    np.testing.assert_array_equal(sal_map, map_copy)


def test_compute_many_means_and_early_validation():
    rng = np.random.default_rng(10)
    images = [rng.random((8, 8, 3)) for _ in range(3)]
    maps = [rng.random((4, 4)) for _ in range(3)]
    blackbox = FnBlackbox(channel0_mean)
    for metric in (Deletion(), AverageDrop(batch_size=4)):
        results, means = metric.compute_many(images, maps, blackbox, [0, 1, 0])
        single = [metric.compute(i, m, blackbox, c) for i, m, c in zip(images, maps, [0, 1, 0], strict=True)]
        assert all(isinstance(r, FaithfulnessResult) for r in results)
        for name in metric.score_names:
            values = [r.scores[name] for r in single]
            assert [r.scores[name] for r in results] == pytest.approx(values)
            assert means[name] == pytest.approx(np.mean(values))
    blackbox.batches.clear()
    with pytest.raises(ValueError, match="class_index"):
        Deletion().compute_many(images, maps, blackbox, [0, 0, 5])
    assert blackbox.batches == []  # nothing classified before the bad input was found
    with pytest.raises(ValueError, match="same length"):
        Deletion().compute_many(images, maps[:2], blackbox, [0, 0, 0])
    zero = [np.zeros((8, 8, 3)), images[0]]
    with pytest.warns(RuntimeWarning):
        _, means = AverageDropInDeletion().compute_many(zero, maps[:2], blackbox, [0, 0])
    assert means["add"] == pytest.approx(AverageDropInDeletion().compute(images[0], maps[1], blackbox, 0).scores["add"])


@pytest.mark.parametrize("metric_cls", ALL_METRICS)
def test_wrong_inputs(metric_cls):
    metric = metric_cls()
    image, blackbox = np.ones((16, 16, 3)), FnBlackbox(channel0_mean)
    good = np.random.default_rng(0).random((4, 4))
    with pytest.raises(ValueError, match="cannot be upsampled"):
        metric.compute(image, np.ones((17, 4)), blackbox, 0)
    with pytest.raises(ValueError, match="class_index"):
        metric.compute(image, good, blackbox, 2)
    with pytest.raises(ValueError, match="class_index"):
        metric.compute(image, good, blackbox, -1)
    with pytest.raises(ValueError, match="all NaN"):
        metric.compute(image, np.full((4, 4), np.nan), blackbox, 0)
    with pytest.raises(ValueError, match="sal_map"):
        metric.compute(image, np.ones((1, 4, 4)), blackbox, 0)
    with pytest.raises(ValueError, match="ref_image"):
        metric.compute(np.ones((16,)), good, blackbox, 0)
    with pytest.raises(ValueError, match="fill"):
        metric_cls(fill="sparkles")
    with pytest.raises(TypeError, match="fill"):
        metric_cls(fill=object())
    with pytest.raises(ValueError, match="fill"):
        metric_cls(fill=np.ones((3, 3, 3))).compute(image, good, blackbox, 0)
    with pytest.raises(ValueError, match="batch_size"):
        metric_cls(batch_size=0)
    assert blackbox.batches == []


@pytest.mark.parametrize(
    "metric",
    [
        Deletion(),
        Deletion(fill=[0.1, 0.2, 0.3], max_steps=None, superpixel_size=8, cumulative=False, batch_size=5),
        Insertion(),
        Insertion(fill=0.25, max_steps=49),
        AverageDrop(fill="mean", superpixel_size=4),
        AverageDropInDeletion(fill="blur", batch_size=3),
        MuFidelity(grid_size=None, subset_percent=0.3, n_samples=20, fill="mean", seed=4, batch_size=8),
    ],
)
def test_config_round_trip(metric):
    config = json.loads(json.dumps(metric.get_config()))
    clone = type(metric).from_config(config)
    assert clone.get_config() == metric.get_config()
    rng = np.random.default_rng(0)
    image, sal_map = rng.random((16, 16, 3)), rng.random((8, 8))
    blackbox = FnBlackbox(channel0_mean)
    assert clone.compute(image, sal_map, blackbox, 0).scores == pytest.approx(
        metric.compute(image, sal_map, blackbox, 0).scores, nan_ok=True
    )


def test_plugin_discovery_and_names():
    impls = FaithfulnessMetric.get_impls()
    for cls in ALL_METRICS:
        assert cls in impls
    assert Deletion().score_names == ("dauc", "dc") and Insertion().score_names == ("iauc", "ic")
    assert AverageDrop().score_names == ("ad", "iic") and AverageDropInDeletion().score_names == ("add",)
    assert MuFidelity().score_names == ("mufidelity",) and Deletion().name == "Deletion"
    assert Insertion().fill == "blur" and Deletion().fill == "black"


@pytest.mark.parametrize(
    "model",
    [
        lambda batch: channel0_mean(batch) - 2,  # scores (logits): negative
        lambda batch: channel0_mean(batch) + 1.5,  # above 1
    ],
)
def test_confidences_outside_0_1_are_an_error_unless_the_metric_takes_scores(model):
    """Issue 20, failure 14: negative scores gave Average Drop 0 and a negative DAUC with status ok."""
    rng = np.random.default_rng(4)
    image, sal_map = rng.random((8, 8, 3)), rng.random((4, 4))
    for metric in (Deletion(), Insertion(), AverageDrop(), AverageDropInDeletion()):
        with pytest.raises(ValueError, match=r"outside \[0, 1\].*probabilities"):
            metric.compute(image, sal_map, FnBlackbox(model), 0)
        assert not metric.takes_scores
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isfinite(MuFidelity(grid_size=4).compute(image, sal_map, FnBlackbox(model), 0).scores["mufidelity"])
    assert MuFidelity.takes_scores  # a correlation of drops: any score
