"""Normalised sum of squared differences between two maps (xaitk-saliency's ``compute_ssd``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from xaitk_saliency.utils.sal_metrics import compute_ssd

from xaitk_wcam.interfaces.saliency_comparison import SaliencyComparison
from xaitk_wcam.statistics.change import DISTANCE


class SSD(SaliencyComparison):
    """``sum((a - b)**2) / sqrt(sum(a**2) * sum(b**2))``: 0 for equal maps, lower is more similar.

    Delegates to :func:`xaitk_saliency.utils.sal_metrics.compute_ssd` (``inf`` when a map is all zeros),
    the SSD of the nrtk saliency-robustness notebook.
    """

    direction = DISTANCE

    def _compute(self, sal_map: np.ndarray, ref_sal_map: np.ndarray) -> float:
        return float(compute_ssd(sal_map, ref_sal_map))

    def get_config(self) -> dict[str, Any]:
        return {}
