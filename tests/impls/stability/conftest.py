"""Stability fixtures: a tiny torch classifier and Quantus 0.6 (helpers: ``stability_helpers``)."""

from __future__ import annotations

import pytest
import torch
from stability_helpers import TinyNet


@pytest.fixture(scope="module")
def tiny_net() -> TinyNet:
    torch.manual_seed(0)
    return TinyNet().eval()  # float32, as Quantus feeds torch.Tensor(x)


@pytest.fixture(scope="module")
def quantus():
    import quantus

    assert quantus.__version__ == "0.6.0"
    return quantus
