"""Spatial spread of a (spatial) saliency map's mass."""

from __future__ import annotations

from typing import Any

import numpy as np
from xaitk_saliency.interfaces.saliency_metric import SaliencyMetric

from xaitk_wcam.impls.saliency_metric._mass import positive_mass
from xaitk_wcam.interfaces.explanation import PIXEL, check_map_space
from xaitk_wcam.utils.checks import check_map


class SpatialSpread(SaliencyMetric):
    """How spread out a map's importance is: RMS distance of its mass from its centroid over the diagonal.

    With ``p`` the non-negative part of the map normalised to sum 1, pixel centres ``(i, j)`` and
    centroid ``c = sum p (i, j)``::

        spread = sqrt(sum p * |(i, j) - c|**2) / sqrt(H**2 + W**2)

    0 for all the mass on one pixel; ``sqrt((H**2 - 1 + W**2 - 1) / 12) / diag`` (about 0.29) for a
    uniform map; at most 0.5 (half the mass at each of two opposite corners). Independent of the map's
    scale; defined for any map with positive mass (otherwise ``nan`` with a warning). Meant for spatial
    maps (image layout), e.g. WCAM's spatial maps, not for wavelet-layout maps.
    """

    map_spaces = (PIXEL,)

    def compute(self, sal_map: np.ndarray) -> float:
        """
        :param sal_map: Map ``H x W`` (negative entries are ignored).
        :return: The spread in ``[0, 0.5]`` (``nan`` if the map has no positive mass).
        :raises ValueError: A map that carries its space (read from an explanation) is not a pixel map.
        """
        check_map_space(self, sal_map)
        mass = positive_mass(check_map(sal_map), self.name)
        if mass is None:
            return float("nan")
        p = mass / mass.sum()
        rows = np.arange(p.shape[0], dtype=np.float64)
        cols = np.arange(p.shape[1], dtype=np.float64)
        p_rows, p_cols = p.sum(axis=1), p.sum(axis=0)
        var_rows = p_rows @ (rows - p_rows @ rows) ** 2
        var_cols = p_cols @ (cols - p_cols @ cols) ** 2
        return float(np.sqrt(var_rows + var_cols) / np.hypot(*p.shape))

    def get_config(self) -> dict[str, Any]:
        return {}
