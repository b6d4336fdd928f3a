"""Faithfulness metrics: parity with ``saliency-maps-metrics``, analytic models, wrong inputs, plugins."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.impls.faithfulness import (
    AverageDrop,
    AverageDropInDeletion,
    Deletion,
    Insertion,
    MuFidelity,
)
from xaitk_wcam.impls.faithfulness._mechanics import (
    bicubic_resize,
    box_blur,
    step_batches,
    step_counts,
    upsample_nearest,
)
from xaitk_wcam.interfaces.faithfulness import FaithfulnessMetric, FaithfulnessResult

ALL_METRICS = (Deletion, Insertion, AverageDrop, AverageDropInDeletion, MuFidelity)


# ------------------------------------------------------------------------------------------- blackboxes
class FnBlackbox(ClassifyImage):
    """Blackbox from a function ``N x H x W [x C] float64 -> N x n_labels``; records every batch it sees."""

    def __init__(self, fn, labels=("a", "b")):
        self.fn = fn
        self.labels = labels
        self.batches: list[tuple[tuple[int, ...], np.dtype]] = []

    def get_labels(self):
        return list(self.labels)

    def classify_images(self, img_iter):
        batch = np.asarray(img_iter)
        self.batches.append((batch.shape, batch.dtype))
        out = self.fn(batch.astype(np.float64))
        return iter([dict(zip(self.labels, row, strict=True)) for row in out])

    def get_config(self):
        return {}


def channel0_mean(batch: np.ndarray) -> np.ndarray:
    """Confidence of "a" = mean of channel 0: falls linearly as (positive) pixels are removed."""
    a = batch[..., 0].reshape(len(batch), -1).mean(axis=1)
    return np.stack([a, 1.0 - a], axis=1)


def constant_model(batch: np.ndarray) -> np.ndarray:
    return np.tile([0.7, 0.3], (len(batch), 1))


class TorchBlackbox(ClassifyImage):
    """Wraps a torch model (``N x C x H x W`` float32 -> softmax ``N x n``) as a ClassifyImage."""

    def __init__(self, model: torch.nn.Module, n_labels: int):
        self.model = model
        self.labels = [f"class{i}" for i in range(n_labels)]

    def get_labels(self):
        return self.labels

    def classify_images(self, img_iter):
        batch = np.asarray(img_iter)
        assert batch.dtype == np.float32 and batch.ndim == 4
        with torch.no_grad():
            out = self.model(torch.from_numpy(np.ascontiguousarray(batch.transpose(0, 3, 1, 2)))).numpy()
        return iter([dict(zip(self.labels, row.tolist(), strict=True)) for row in out])

    def get_config(self):
        return {}


@pytest.fixture(scope="module")
def torch_model() -> torch.nn.Module:
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 6, 5, stride=2)
    linear = torch.nn.Linear(24, 5)

    class Net(torch.nn.Module):
        def forward(self, x):
            h = torch.nn.functional.adaptive_avg_pool2d(torch.relu(conv(x)), 2).flatten(1)
            return torch.softmax(4.0 * linear(h), dim=1)  # sharpened so confidences move

    return Net().eval()


# ---------------------------------------------------------------------------------------------- parity
@pytest.fixture
def reference(monkeypatch):
    """The ``saliency-maps-metrics`` package; it calls ``np.trapz``, removed in numpy 2 (same function)."""
    monkeypatch.setattr(np, "trapz", np.trapezoid, raising=False)
    from saliency_maps_metrics import multi_step_metrics, single_step_metrics

    return multi_step_metrics, single_step_metrics


def _as_torch(image: np.ndarray, sal_map: np.ndarray):
    return torch.from_numpy(image.transpose(2, 0, 1)[None].copy()), torch.from_numpy(sal_map[None, None].copy())


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


@pytest.mark.parametrize("map_shape", [(14, 14), (7, 7), (56, 56), (5, 9)])
def test_single_step_parity_with_reference(reference, torch_model, map_shape):
    _, single = reference
    rng = np.random.default_rng(200 + sum(map_shape))
    blackbox = TorchBlackbox(torch_model, 5)
    iic_seen = set()
    for _ in range(10):
        image = rng.normal(size=(56, 56, 3)).astype(np.float32)
        sal_map = rng.normal(size=map_shape).astype(np.float32)
        class_index = int(rng.integers(5))
        data, expl = _as_torch(image, sal_map)
        target = torch.tensor([class_index])
        ad = AverageDrop().compute(image, sal_map, blackbox, class_index).scores
        expected = single.IIC_AD()(torch_model, data, expl, target)
        assert ad["ad"] == pytest.approx(float(expected["ad"]), abs=1e-5)
        assert ad["iic"] == float(expected["iic"])
        iic_seen.add(ad["iic"])
        add = AverageDropInDeletion().compute(image, sal_map, blackbox, class_index).scores
        expected = single.ADD()(torch_model, data, expl, target)
        assert add["add"] == pytest.approx(float(expected["add"]), abs=1e-5)
    assert iic_seen == {0.0, 1.0}  # both outcomes of IIC were compared


def test_bicubic_and_nearest_match_torch():
    rng = np.random.default_rng(3)
    for in_hw, out_hw in (((7, 5), (23, 17)), ((14, 14), (56, 56)), ((3, 8), (3, 8)), ((1, 4), (9, 9))):
        sal_map = rng.normal(size=in_hw)
        expected = torch.nn.functional.interpolate(
            torch.from_numpy(sal_map)[None, None], size=out_hw, mode="bicubic", align_corners=False
        )[0, 0].numpy()
        np.testing.assert_allclose(bicubic_resize(sal_map, out_hw), expected, atol=1e-12)
    for in_hw, out_hw in (((7, 5), (21, 20)), ((14, 14), (56, 56)), ((3, 3), (8, 8)), ((5, 4), (15, 12))):
        sal_map = rng.normal(size=in_hw)
        expected = torch.nn.functional.interpolate(torch.from_numpy(sal_map)[None, None], size=out_hw)[0, 0]
        np.testing.assert_array_equal(upsample_nearest(sal_map, out_hw), expected.numpy())


def test_blur_equals_reference_box_blur_away_from_the_border(reference):
    from saliency_maps_metrics.data_replace import blur_data

    rng = np.random.default_rng(4)
    image = rng.random((60, 50, 3)).astype(np.float32)
    theirs = blur_data(torch.from_numpy(image.transpose(2, 0, 1)[None].copy()))[0].numpy().transpose(1, 2, 0)
    ours = box_blur(image)
    half = 12 // 2 + 1  # kernel max(60 // 5, 9) = 12 -> 13, half-width 6
    np.testing.assert_allclose(ours[half:-half, half:-half], theirs[half:-half, half:-half], atol=1e-5)
    # documented difference: the reference zero-pads, which darkens the border; we reflect
    assert theirs[0, 0].mean() < 0.5 * ours[0, 0].mean()


# ------------------------------------------------------------------------------------- analytic models
def _independent_deletion_curve(values_in_order: np.ndarray, n_pixels: int, start: float) -> np.ndarray:
    return start - np.concatenate([[0.0], np.cumsum(values_in_order)]) / n_pixels


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


def test_average_drop_on_the_linear_model():
    rng = np.random.default_rng(2)
    image = rng.random((10, 12, 3))
    v = image[..., 0]
    sal_map = rng.normal(size=(10, 12))
    m = (sal_map - sal_map.min()) / np.ptp(sal_map)  # same size: bicubic is the identity
    blackbox = FnBlackbox(channel0_mean)
    ad = AverageDrop().compute(image, sal_map, blackbox, 0).scores
    assert ad["ad"] == pytest.approx(max(v.mean() - (v * m).mean(), 0) / v.mean())
    assert ad["iic"] == 0.0
    add = AverageDropInDeletion().compute(image, sal_map, blackbox, 0).scores
    assert add["add"] == pytest.approx((v * m).mean() / v.mean())
    # class "b" = 1 - mean: removing pixels raises it, so IIC is 1 and AD 0
    ad_b = AverageDrop().compute(image, sal_map, blackbox, 1).scores
    assert ad_b == {"ad": 0.0, "iic": 1.0}


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


def test_zero_reference_confidence_gives_nan_with_a_warning():
    image, sal_map = np.zeros((8, 8, 3)), np.random.default_rng(0).random((8, 8))
    blackbox = FnBlackbox(channel0_mean)
    with pytest.warns(RuntimeWarning, match="reference confidence is 0"):
        scores = AverageDrop().compute(image, sal_map, blackbox, 0).scores
    assert np.isnan(scores["ad"]) and scores["iic"] == 0.0
    with pytest.warns(RuntimeWarning, match="reference confidence is 0"):
        assert np.isnan(AverageDropInDeletion().compute(image, sal_map, blackbox, 0).scores["add"])


def test_mufidelity_calibrated_anti_and_seed():
    rng = np.random.default_rng(5)
    image = rng.random((12, 12, 3))
    v = image[..., 0]
    blackbox = FnBlackbox(channel0_mean)
    for grid_size in (None, 4):
        metric = MuFidelity(grid_size=grid_size, n_samples=50, batch_size=16)
        assert metric.compute(image, v, blackbox, 0).scores["mufidelity"] == pytest.approx(1.0)
        assert metric.compute(image, -v, blackbox, 0).scores["mufidelity"] == pytest.approx(-1.0)
    subsets = MuFidelity(grid_size=9, seed=3).subsets(81)
    assert subsets.shape == (200, 81) and (subsets.sum(axis=1) == 16).all()
    np.testing.assert_array_equal(subsets, MuFidelity(grid_size=9, seed=3).subsets(81))
    assert (subsets != MuFidelity(grid_size=9, seed=4).subsets(81)).any()
    noise = rng.normal(size=(12, 12))
    assert abs(MuFidelity(grid_size=4, n_samples=100).compute(image, noise, blackbox, 0).scores["mufidelity"]) < 0.9


# --------------------------------------------------------------------------------- features and fills
def test_superpixels_sum_importance_before_ordering():
    image = np.zeros((16, 16, 3))
    for (r, c), value in {(0, 0): 0.1, (0, 1): 0.2, (1, 0): 0.3, (1, 1): 0.4}.items():
        image[8 * r : 8 * r + 8, 8 * c : 8 * c + 8, 0] = value
    sal_map = np.zeros((16, 16))
    sal_map[0, 0] = 10.0  # block (0, 0): sum 10, the highest single pixel
    sal_map[8:, 8:] = 0.5  # block (1, 1): sum 32
    result = Deletion(superpixel_size=8).compute(image, sal_map, FnBlackbox(channel0_mean), 0)
    # order: (1, 1), (0, 0), then the tied zero blocks in row-major order (0, 1), (1, 0)
    np.testing.assert_allclose(result.curve_y, [0.25, 0.15, 0.125, 0.075, 0.0], atol=1e-12)
    partial = Deletion(superpixel_size=8).compute(
        np.ones((20, 20, 3)), np.ones((5, 5)) + np.eye(5), FnBlackbox(channel0_mean), 0
    )
    assert partial.curve_y.size == 10  # 3 x 3 blocks, the last row and column partial
    assert partial.curve_y[-1] == 0.0


def test_constant_map_uses_the_row_major_tie_break():
    rng = np.random.default_rng(6)
    image = rng.random((4, 4, 1))
    with pytest.warns(RuntimeWarning, match="constant"):
        result = Deletion().compute(image, np.full((4, 4), 0.3), FnBlackbox(channel0_mean), 0)
    np.testing.assert_allclose(result.curve_y, _independent_deletion_curve(image[..., 0].ravel(), 16, image.mean()))
    with pytest.warns(RuntimeWarning, match="constant"):
        scores = AverageDrop().compute(image, np.full((2, 2), 0.3), FnBlackbox(channel0_mean), 0).scores
    assert scores["ad"] == pytest.approx(0.0, abs=1e-12)  # all-ones mask keeps the image


def test_non_integer_upsampling_ratio_covers_every_pixel_once():
    sal_map = np.arange(9.0).reshape(3, 3)
    result = Deletion().compute(np.ones((8, 8, 3)), sal_map, FnBlackbox(channel0_mean), 0)
    drops = -np.diff(result.curve_y) * 64
    rows = np.array([3, 3, 2])  # floor(dst * 3 / 8) -> rows 0,0,0 1,1,1 2,2
    expected = np.outer(rows, rows).ravel()[::-1]  # largest map value (cell 8) first
    np.testing.assert_allclose(drops, expected, atol=1e-9)


@pytest.mark.parametrize(
    ("fill", "expected"),
    [("black", 0.0), (100.0, 100.0), ("mean", None), ("blur", None), ("baseline", None)],
)
def test_fills_and_dtype(fill, expected):
    rng = np.random.default_rng(8)
    image = rng.integers(0, 256, size=(20, 20, 3), dtype=np.uint8)
    baseline = rng.integers(0, 256, size=(20, 20, 3)).astype(np.float64)
    if fill == "baseline":
        fill, expected = baseline, np.rint(baseline[..., 0]).mean()
    elif fill == "mean":
        expected = np.rint(image[..., 0].mean())
    elif fill == "blur":
        expected = np.clip(np.rint(box_blur(image)[..., 0]), 0, 255).mean()
    blackbox = FnBlackbox(channel0_mean)
    result = Deletion(fill=fill, batch_size=7).compute(image, rng.random((5, 5)), blackbox, 0)
    assert result.curve_y[0] == pytest.approx(image[..., 0].mean())
    assert result.curve_y[-1] == pytest.approx(expected)
    assert all(dtype == np.uint8 and shape[1:] == (20, 20, 3) and shape[0] <= 7 for shape, dtype in blackbox.batches)


def test_batching_and_step_bound():
    blackbox = FnBlackbox(channel0_mean)
    Deletion(max_steps=None, batch_size=10).compute(
        np.ones((8, 8)), np.random.default_rng(0).random((8, 8)), blackbox, 0
    )
    assert [shape[0] for shape, _ in blackbox.batches] == [10] * 6 + [5]
    assert all(len(shape) == 3 for shape, _ in blackbox.batches)  # grayscale N x H x W
    counts = step_counts(841, 196)  # 841 // 196 = 4 per step; the reference fails on the last one
    assert counts[-1] == 841 and counts.size - 1 == 211 and np.diff(counts).max() == 4


@pytest.mark.parametrize("shape", [(9, 7, 3), (6, 10)])
def test_step_batches_equal_broadcast_masks(shape):
    rng = np.random.default_rng(11)
    base = rng.random(shape).astype(np.float32)
    replacement = rng.random(shape).astype(np.float32)
    pixel_rank = rng.integers(0, 12, size=shape[:2])  # 12 features, several pixels each
    counts = np.array([0, 2, 5, 5, 9, 12])
    sequences = [
        (np.zeros_like(counts), counts),  # cumulative
        (np.concatenate([[0], counts[:-1]]), np.concatenate([[0], counts[1:]])),  # one chunk per step
        (rng.integers(0, 6, size=20), rng.integers(6, 13, size=20)),  # arbitrary ranges
    ]
    for lo, hi in sequences:
        images = np.concatenate(list(step_batches(base, replacement, pixel_rank, lo, hi, batch_size=4)))
        mask = (pixel_rank[None] >= lo[:, None, None]) & (pixel_rank[None] < hi[:, None, None])
        expected = np.where(mask.reshape(mask.shape + (1,) * (len(shape) - 2)), replacement, base)
        np.testing.assert_array_equal(images, expected)
        assert images.dtype == np.float32


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


# ---------------------------------------------------------------------------------------- wrong inputs
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


def test_wrong_mufidelity_options():
    with pytest.raises(ValueError, match="subset_percent"):
        MuFidelity(subset_percent=1.0)
    with pytest.raises(ValueError, match="subset_percent"):
        MuFidelity(grid_size=2, subset_percent=0.1)  # 0 of 4 cells
    with pytest.raises(ValueError, match="n_samples"):
        MuFidelity(n_samples=1)
    with pytest.raises(ValueError, match="grid_size"):
        MuFidelity(grid_size=20).compute(np.ones((8, 8, 3)), np.ones((8, 8)), FnBlackbox(channel0_mean), 0)


# ------------------------------------------------------------------------------------ config / plugins
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
