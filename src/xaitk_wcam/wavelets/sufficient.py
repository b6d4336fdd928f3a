"""The sufficient image of Kasmi et al. (2023): the image rebuilt from its most important wavelet coefficients.

"WCAMs highlight the sufficient information for image classification": keep the fraction ``keep`` of
the coefficients with the highest WCAM importance, zero the others, and invert the DWT. Inside one
grid cell all coefficients share an importance; ties are broken by coefficient magnitude (summed
over channels), largest first, so ``keep`` always selects exactly ``ceil(keep * Hp * Wp)`` coefficients.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from xaitk_wcam.utils.checks import check_image
from xaitk_wcam.utils.images import split_alpha, to_input_dtype, value_range
from xaitk_wcam.wavelets.layout import check_decomposable, check_levels, padded_size
from xaitk_wcam.wavelets.transform import check_wavelet, wavedec_layout, waverec_layout


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
    check_wavelet(wavelet)
    wavelet_map = np.asarray(wavelet_map, dtype=np.float64)
    if wavelet_map.shape != image.shape[:2]:
        raise ValueError(f"wavelet_map must have the image's shape {image.shape[:2]}, got {wavelet_map.shape}")
    if not np.isfinite(wavelet_map).all():
        raise ValueError("wavelet_map contains NaN or infinite values")
    keeps = np.atleast_1d(np.asarray(keeps, dtype=np.float64))
    if keeps.ndim != 1 or np.any((keeps < 0) | (keeps > 1)):
        raise ValueError(f"keep fractions must lie in [0, 1], got {keeps.tolist()}")
    height, width = image.shape[:2]
    check_decomposable(image.shape, wavelet, check_levels(levels))
    padded = (padded_size(height, levels), padded_size(width, levels))

    colour, alpha = split_alpha(image)
    pad = ((0, padded[0] - height), (0, padded[1] - width), (0, 0))
    tensor = torch.from_numpy(np.pad(colour.astype(np.float64), pad, mode="symmetric")).permute(2, 0, 1)
    layout = wavedec_layout(tensor, wavelet, levels)  # C x Hp x Wp
    # Importance of each padded-layout coefficient: the map resampled (nearest) back onto the layout.
    rows = np.arange(padded[0]) * height // padded[0]
    cols = np.arange(padded[1]) * width // padded[1]
    importance = wavelet_map[rows][:, cols].ravel()
    magnitude = layout.abs().sum(dim=0).numpy().ravel()
    rank = np.empty(importance.size, dtype=np.int64)
    rank[np.lexsort((-magnitude, -importance))] = np.arange(importance.size)
    counts = np.ceil(keeps * importance.size).astype(np.int64)
    masks = torch.from_numpy(rank[None, :] < counts[:, None]).view(len(keeps), 1, *padded)

    images = waverec_layout(layout.unsqueeze(0) * masks, wavelet, levels)[:, :, :height, :width]
    images = to_input_dtype(images.permute(0, 2, 3, 1).contiguous(), image, *value_range(image))
    if alpha is not None:
        images = np.concatenate([images, np.broadcast_to(alpha, (*images.shape[:3], 1))], axis=-1)
    elif image.ndim == 2:
        images = images[..., 0]
    return images


def sufficient_image(
    ref_image: np.ndarray, wavelet_map: np.ndarray, keep: float, *, wavelet: str = "haar", levels: int = 3
) -> np.ndarray:
    """The image rebuilt from the fraction ``keep`` of its most important wavelet coefficients.

    See :func:`sufficient_images`; returns one image shaped and typed like ``ref_image``.
    """
    return sufficient_images(ref_image, wavelet_map, [keep], wavelet=wavelet, levels=levels)[0]
