"""Spearman rank correlation between two maps."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from xaitk_wcam.interfaces.saliency_comparison import SaliencyComparison
from xaitk_wcam.statistics.change import SIMILARITY


class SpearmanRank(SaliencyComparison):
    """Spearman correlation of the two maps' pixel rankings, in ``[-1, 1]``; higher is more similar.

    Ties get average ranks (``scipy.stats.spearmanr``). A constant map has no ranking: ``nan`` with a
    ``RuntimeWarning``.
    """

    direction = SIMILARITY

    def _compute(self, sal_map: np.ndarray, ref_sal_map: np.ndarray) -> float:
        if np.ptp(sal_map) == 0 or np.ptp(ref_sal_map) == 0:
            warnings.warn("SpearmanRank: a constant map has no ranking; returning nan", RuntimeWarning, stacklevel=3)
            return float("nan")
        return float(spearmanr(sal_map.ravel(), ref_sal_map.ravel()).statistic)

    def get_config(self) -> dict[str, Any]:
        return {}
