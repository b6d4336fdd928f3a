"""Bicubic resizing equal to ``torch.nn.functional.interpolate(mode="bicubic", align_corners=False)`` (Keys
kernel with ``a = -0.75``, border indices clamped; values may overshoot ``[0, 1]``), in numpy.
"""

from __future__ import annotations

import functools

import numpy as np


def _cubic_weights(t: np.ndarray, a: float = -0.75) -> np.ndarray:
    """Keys cubic convolution weights of the 4 taps at offsets -1, 0, 1, 2 (``t`` in ``[0, 1)``)."""

    def near(x: np.ndarray) -> np.ndarray:  # |x| <= 1
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0

    def far(x: np.ndarray) -> np.ndarray:  # 1 < |x| < 2
        return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a

    return np.stack([far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)], axis=-1)


@functools.lru_cache(maxsize=64)
def bicubic_taps(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """Source indices and weights (``n_out x 4`` each) of bicubic interpolation along one axis.

    As torch with ``align_corners=False``: source coordinate ``(dst + 0.5) * n_in / n_out - 0.5``,
    taps at ``floor - 1 .. floor + 2`` clamped to ``[0, n_in - 1]``.
    """
    real = (n_in / n_out) * (np.arange(n_out) + 0.5) - 0.5
    base = np.floor(real)
    taps = np.clip(base.astype(np.int64)[:, None] + np.arange(-1, 3)[None, :], 0, n_in - 1)
    weights = _cubic_weights(real - base)
    taps.flags.writeable = weights.flags.writeable = False  # cached: shared between calls
    return taps, weights


def _resize_rows(values: np.ndarray, n_out: int) -> np.ndarray:
    taps, weights = bicubic_taps(n_out, values.shape[0])
    return np.einsum("ij,ijk->ik", weights, values[taps])


def bicubic_resize(sal_map: np.ndarray, image_hw: tuple[int, int]) -> np.ndarray:
    """Bicubic resize of an ``H' x W'`` map to ``H x W`` (as torch's ``bicubic``, ``align_corners=False``).

    Separable, with elementwise numpy only (no BLAS call, whose thread start-up dominated small maps).
    """
    return _resize_rows(_resize_rows(sal_map, image_hw[0]).T, image_hw[1]).T
