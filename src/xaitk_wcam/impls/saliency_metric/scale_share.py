"""Scale shares of a WCAM wavelet-layout map (Kasmi et al. 2023, "Assessment of the reliability of
a model's decision by generalizing attribution to the wavelet domain").

A WCAM map is laid out like ``pywt.coeffs_to_array(pywt.wavedec2(image, wavelet, level=levels))`` of the image
padded to multiples of ``2**levels``, resampled (nearest) to the image's shape when it was padded: the
approximation band (level 0) is the top-left ``Hp / 2**levels x Wp / 2**levels`` block of the padded layout and
detail level ``k`` (1 = coarsest ... ``levels`` = finest) the three blocks around the top-left
``Hp / 2**(levels-k) x Wp / 2**(levels-k)`` square, minus the inner square
(:func:`xaitk_wcam.wavelets.layout.level_index_map`). A map of any shape is read back onto its padded layout
(:func:`~xaitk_wcam.wavelets.reprojection.layout_map`), so the package's own maps of an image whose sides are not
multiples of ``2**levels`` are scored (they were refused). Only non-negative importance counts (negative entries are
clipped to 0); a map without positive importance gives ``nan`` with a warning. A map that carries its space (read
from an explanation) must be a wavelet map of the metric's ``levels``
(:func:`~xaitk_wcam.interfaces.explanation.check_map_space`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from xaitk_saliency.interfaces.saliency_metric import SaliencyMetric

from xaitk_wcam.impls.saliency_metric._mass import positive_mass
from xaitk_wcam.interfaces.explanation import WAVELET, check_map_space
from xaitk_wcam.utils.checks import check_int, check_map
from xaitk_wcam.wavelets.layout import check_levels, level_index_map
from xaitk_wcam.wavelets.reprojection import layout_map


def level_shares(sal_map: np.ndarray, levels: int, metric: str) -> np.ndarray | None:
    """Share of the non-negative importance at each level ``0 .. levels`` (``None`` when there is none)."""
    mass = positive_mass(layout_map(check_map(sal_map), levels), metric)
    if mass is None:
        return None
    per_level = np.bincount(level_index_map(*mass.shape, levels).ravel(), weights=mass.ravel(), minlength=levels + 1)
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
        :param sal_map: Wavelet-layout map ``H x W`` of ``levels`` levels (WCAM's or WAM's ``wavelet_maps[k]``).
        :return: Share of non-negative importance at ``level`` (``nan`` if the map has none).
        :raises ValueError: A map that carries its space (read from an explanation) is a pixel map or has other
            ``levels``.
        """
        check_map_space(self, sal_map)
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
        :param sal_map: Wavelet-layout map ``H x W`` of ``levels`` levels (WCAM's or WAM's ``wavelet_maps[k]``).
        :return: Share of non-negative importance in the detail levels (``nan`` if the map has none).
        :raises ValueError: As :meth:`ScaleShare.compute`.
        """
        check_map_space(self, sal_map)
        shares = level_shares(sal_map, self.levels, self.name)
        return float("nan") if shares is None else float(1.0 - shares[0])

    def get_config(self) -> dict[str, Any]:
        return {"levels": self.levels}
