"""Scale shares of a WCAM wavelet-layout map (Kasmi et al. 2023, "Assessment of the reliability of
a model's decision by generalizing attribution to the wavelet domain").

A WCAM map is laid out like ``pywt.coeffs_to_array(pywt.wavedec2(image, wavelet, level=levels))``
(sides multiples of ``2**levels``): the approximation band (level 0) is the top-left
``H / 2**levels x W / 2**levels`` block and detail level ``k`` (1 = coarsest ... ``levels`` = finest)
the three blocks around the top-left ``H / 2**(levels-k) x W / 2**(levels-k)`` square, minus the inner
square (:func:`xaitk_wcam.wavelets.layout.level_index_map`). Only non-negative importance counts
(negative entries are clipped to 0); a map without positive importance gives ``nan`` with a warning.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from xaitk_saliency.interfaces.saliency_metric import SaliencyMetric

from xaitk_wcam.impls.saliency_metric._mass import positive_mass
from xaitk_wcam.interfaces.explanation import WAVELET
from xaitk_wcam.utils.checks import check_int, check_map
from xaitk_wcam.wavelets.layout import check_levels, level_index_map


def level_shares(sal_map: np.ndarray, levels: int, metric: str) -> np.ndarray | None:
    """Share of the non-negative importance at each level ``0 .. levels`` (``None`` when there is none)."""
    values = check_map(sal_map)
    height, width = values.shape
    if height % 2**levels or width % 2**levels:
        raise ValueError(
            f"a wavelet-layout map of {levels} levels must have sides that are multiples of "
            f"2**levels = {2**levels}, got {values.shape}"
        )
    mass = positive_mass(values, metric)
    if mass is None:
        return None
    per_level = np.bincount(level_index_map(height, width, levels).ravel(), weights=mass.ravel(), minlength=levels + 1)
    return per_level / per_level.sum()


class ScaleShare(SaliencyMetric):
    """Share, in ``[0, 1]``, of a WCAM map's non-negative importance at one level.

    ``level = 0`` is the approximation band, ``1`` the coarsest detail level, ``levels`` the finest.
    """

    map_spaces = (WAVELET,)

    def __init__(self, level: int = 0, levels: int = 3) -> None:
        """
        :param level: Level in ``[0, levels]``.
        :param levels: Number of wavelet levels of the layout (``>= 1``).
        """
        self.levels = check_levels(levels)
        self.level = check_int("level", level, 0)
        if self.level > self.levels:
            raise ValueError(f"level must be an int in [0, levels={self.levels}], got {level}")

    def compute(self, sal_map: np.ndarray) -> float:
        """
        :param sal_map: WCAM wavelet-layout map ``H x W``, sides multiples of ``2**levels``.
        :return: Share of non-negative importance at ``level`` (``nan`` if the map has none).
        """
        shares = level_shares(sal_map, self.levels, self.name)
        return float("nan") if shares is None else float(shares[self.level])

    def get_config(self) -> dict[str, Any]:
        return {"level": self.level, "levels": self.levels}


class FineScaleShare(SaliencyMetric):
    """Share, in ``[0, 1]``, of a WCAM map's non-negative importance outside the approximation band.

    ``1 - ScaleShare(0)``: the "robustness margin" reading of the WCAM paper; a high value means the
    model relies on fine scales (details), which perturbations such as noise or blur destroy first.
    """

    map_spaces = (WAVELET,)

    def __init__(self, levels: int = 3) -> None:
        """:param levels: Number of wavelet levels of the layout (``>= 1``)."""
        self.levels = check_levels(levels)

    def compute(self, sal_map: np.ndarray) -> float:
        """
        :param sal_map: WCAM wavelet-layout map ``H x W``, sides multiples of ``2**levels``.
        :return: Share of non-negative importance in the detail levels (``nan`` if the map has none).
        """
        shares = level_shares(sal_map, self.levels, self.name)
        return float("nan") if shares is None else float(1.0 - shares[0])

    def get_config(self) -> dict[str, Any]:
        return {"levels": self.levels}
