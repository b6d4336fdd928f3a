"""Faithfulness fixtures: a small torch model and the ``saliency-maps-metrics`` reference package."""

from __future__ import annotations

import numpy as np
import pytest
import torch


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


@pytest.fixture
def reference(monkeypatch):
    """The ``saliency-maps-metrics`` package; it calls ``np.trapz``, removed in numpy 2 (same function)."""
    monkeypatch.setattr(np, "trapz", np.trapezoid, raising=False)
    from saliency_maps_metrics import multi_step_metrics, single_step_metrics

    return multi_step_metrics, single_step_metrics
