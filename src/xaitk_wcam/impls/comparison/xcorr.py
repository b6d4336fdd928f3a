"""Normalised cross-correlation between two maps (xaitk-saliency's ``compute_xcorr``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from xaitk_saliency.utils.sal_metrics import compute_xcorr

from xaitk_wcam.interfaces.saliency_comparison import SaliencyComparison
from xaitk_wcam.statistics.change import SIMILARITY


class XCorr(SaliencyComparison):
    """Pearson correlation of the two maps' pixels, in ``[-1, 1]``; higher is more similar.

    Delegates to :func:`xaitk_saliency.utils.sal_metrics.compute_xcorr`: 0 when ``sal_map`` is constant
    and the reference is not, ``nan`` when the reference is constant.
    """

    direction = SIMILARITY

    def _compute(self, sal_map: np.ndarray, ref_sal_map: np.ndarray) -> float:
        return float(compute_xcorr(sal_map, ref_sal_map))

    def get_config(self) -> dict[str, Any]:
        return {}
