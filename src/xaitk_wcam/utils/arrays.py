"""The one conversion of what a MAITE component returns (torch tensors, numpy arrays, array-likes) to numpy."""

from __future__ import annotations

from typing import Any

import numpy as np


def to_numpy(value: Any) -> np.ndarray:
    """``value`` as a numpy array: a torch tensor detached and moved to the CPU (without importing torch), anything
    else through ``numpy.asarray``."""
    detach = getattr(value, "detach", None)
    if detach is not None:  # a torch tensor
        value = detach().cpu().numpy()
    return np.asarray(value)
