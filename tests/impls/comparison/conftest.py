"""Comparison fixtures: two random maps of the same shape."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def maps():
    rng = np.random.default_rng(0)
    return rng.random((12, 10)), rng.random((12, 10))
