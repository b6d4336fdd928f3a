"""AverageDrop and AverageDropInDeletion: parity with ``saliency-maps-metrics``, analytic models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from faithfulness_helpers import FnBlackbox, TorchBlackbox, _as_torch, channel0_mean

from xaitk_wcam.impls.faithfulness import AverageDrop, AverageDropInDeletion


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


def test_zero_reference_confidence_gives_nan_with_a_warning():
    image, sal_map = np.zeros((8, 8, 3)), np.random.default_rng(0).random((8, 8))
    blackbox = FnBlackbox(channel0_mean)
    with pytest.warns(RuntimeWarning, match="reference confidence is 0"):
        scores = AverageDrop().compute(image, sal_map, blackbox, 0).scores
    assert np.isnan(scores["ad"]) and scores["iic"] == 0.0
    with pytest.warns(RuntimeWarning, match="reference confidence is 0"):
        assert np.isnan(AverageDropInDeletion().compute(image, sal_map, blackbox, 0).scores["add"])
