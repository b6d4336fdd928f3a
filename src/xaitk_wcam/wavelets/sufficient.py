"""The sufficient image of Kasmi et al. (2023): the image rebuilt from its most important wavelet coefficients.

"WCAMs highlight the sufficient information for image classification": keep the fraction ``keep`` of
the coefficients with the highest WCAM importance, zero the others, and invert the DWT. Inside one
grid cell all coefficients share an importance; ties are broken in a fixed order that reads neither the image
nor the layout (:meth:`~xaitk_wcam.wavelets.coefficients.CoefficientImages.ranks`), so ``keep`` always selects
exactly ``ceil(keep * Hp * Wp)`` coefficients and only the cell at the cut is split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from xaitk_wcam.utils.checks import check_image
from xaitk_wcam.wavelets.coefficients import CoefficientImages


def sufficient_images(
    ref_image: np.ndarray,
    wavelet_map: np.ndarray,
    keeps: Sequence[float],
    *,
    wavelet: str = "haar",
    levels: int = 3,
) -> np.ndarray:
    """Sufficient images for several ``keep`` fractions at once.

    :param ref_image: ``H x W`` or ``H x W x C`` image (as given to WCAM); never modified.
    :param wavelet_map: ``H x W`` importance in the coefficient layout (``WCAMResult.wavelet_maps[k]``,
        or WCAM's ``generate`` output with ``output="wavelet"``).
    :param keeps: Fractions of coefficients kept, each in ``[0, 1]``.
    :param wavelet: The wavelet WCAM used.
    :param levels: The number of levels WCAM used.
    :return: ``len(keeps) x H x W [x C]`` images in the dtype and value range of ``ref_image``.
    """
    image = check_image(ref_image)
    wavelet_map = np.asarray(wavelet_map, dtype=np.float64)
    if wavelet_map.shape != image.shape[:2]:
        raise ValueError(f"wavelet_map must have the image's shape {image.shape[:2]}, got {wavelet_map.shape}")
    if not np.isfinite(wavelet_map).all():
        raise ValueError("wavelet_map contains NaN or infinite values")
    keeps = np.atleast_1d(np.asarray(keeps, dtype=np.float64))
    if keeps.ndim != 1 or np.any((keeps < 0) | (keeps > 1)):
        raise ValueError(f"keep fractions must lie in [0, 1], got {keeps.tolist()}")
    coefficients = CoefficientImages(image, wavelet=wavelet, levels=levels)
    rank = coefficients.ranks(wavelet_map, stacklevel=2)
    counts = np.ceil(keeps * rank.size).astype(np.int64)
    return coefficients.images(rank[None, :] < counts[:, None])


def sufficient_image(
    ref_image: np.ndarray, wavelet_map: np.ndarray, keep: float, *, wavelet: str = "haar", levels: int = 3
) -> np.ndarray:
    """The image rebuilt from the fraction ``keep`` of its most important wavelet coefficients.

    See :func:`sufficient_images`; returns one image shaped and typed like ``ref_image``.
    """
    return sufficient_images(ref_image, wavelet_map, [keep], wavelet=wavelet, levels=levels)[0]
