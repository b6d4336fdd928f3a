"""Overlap of the most salient pixels of two maps."""

from __future__ import annotations

from typing import Any

import numpy as np

from xaitk_wcam.interfaces.saliency_comparison import SaliencyComparison
from xaitk_wcam.statistics.change import SIMILARITY


def top_k_indices(values: np.ndarray, k: int) -> np.ndarray:
    """Flat indices of the ``k`` largest values; ties broken by lower flat (row-major) index."""
    return np.argsort(-values.ravel(), kind="stable")[:k]


class TopKIntersection(SaliencyComparison):
    """``|top_k(a) ∩ top_k(b)| / k``, in ``[0, 1]``: the fraction of the ``k`` most salient pixels shared.

    Ties are broken by row-major index (lower first), so the result is deterministic.
    """

    direction = SIMILARITY

    def __init__(self, k: int | float = 0.1) -> None:
        """
        :param k: An int ``>= 1``: number of pixels; a float in ``(0, 1)``: fraction of the map's pixels
            (``ceil(k * H * W)``, at least 1).
        """
        if isinstance(k, bool) or not isinstance(k, (int, float)):
            raise TypeError(f"k must be an int >= 1 or a float in (0, 1), got {k!r}")
        if isinstance(k, int) and k < 1:
            raise ValueError(f"k must be an int >= 1 or a float in (0, 1), got {k}")
        if isinstance(k, float) and not 0.0 < k < 1.0:
            raise ValueError(f"k must be an int >= 1 or a float in (0, 1) (use an int for a count), got {k}")
        self.k = k

    def n_pixels(self, size: int) -> int:
        """The number of top pixels compared for a map of ``size`` pixels."""
        if isinstance(self.k, float):
            return max(1, int(np.ceil(self.k * size)))
        if self.k > size:
            raise ValueError(f"k={self.k} exceeds the number of map pixels ({size})")
        return self.k

    def _compute(self, sal_map: np.ndarray, ref_sal_map: np.ndarray) -> float:
        k = self.n_pixels(sal_map.size)
        shared = np.intersect1d(top_k_indices(sal_map, k), top_k_indices(ref_sal_map, k)).size
        return shared / k

    def get_config(self) -> dict[str, Any]:
        return {"k": self.k}
