"""Forward and inverse 2-D DWT between images and the coefficient layout, with ptwt.

Haar uses ptwt's convolution transform (its support never crosses a block, so every boundary
mode gives the same, exact, size-halving transform). Longer orthogonal wavelets use ptwt's
boundary-wavelet matrix transform, which also halves sizes exactly, so every supported wavelet
has an ``H x W`` layout for an ``H x W`` image.

**Sizes.** The boundary-wavelet transform needs, at every level, a signal at least one filter long: the
input of the last level, ``side / 2**(levels - 1)``, must be ``>= dec_len`` (``pywt.Wavelet(name).dec_len``).
Below that ptwt fails (``Matrix shapes not compatible``, ``IndexError``) or silently decomposes fewer levels;
found by running it on every side (``tests/wavelets/test_wavelets.py``).
:func:`~xaitk_wcam.wavelets.layout.check_decomposable` refuses
those sizes first (:mod:`xaitk_wcam.wavelets.layout` holds the size rules; ``levels`` is at most
:data:`~xaitk_wcam.wavelets.layout.MAX_LEVELS`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import torch

from xaitk_wcam.wavelets.layout import band_layout


def supported_wavelets() -> list[str]:
    """Names accepted as ``wavelet``: pywt's orthogonal discrete wavelets (haar, db*, sym*, coif*)."""
    import pywt

    return [name for name in pywt.wavelist(kind="discrete") if pywt.Wavelet(name).orthogonal]


def check_wavelet(wavelet: str) -> None:
    """Raise ``ValueError`` (``TypeError`` for a non-string) unless ``wavelet`` is supported."""
    if not isinstance(wavelet, str):
        raise TypeError(f"wavelet must be a string such as 'haar' or 'db2', got {type(wavelet).__name__}")
    if wavelet not in supported_wavelets():
        raise ValueError(
            f"wavelet={wavelet!r} is not supported; accepted: orthogonal pywt wavelets, e.g. 'haar', "
            "'db2'..'db38', 'sym2'..'sym20', 'coif1'..'coif17'"
        )


def _split_layout(layout: torch.Tensor, levels: int) -> tuple:
    """Layout ``[..., H, W]`` -> ptwt coefficient tuple (views, no copy)."""
    import ptwt

    bands = band_layout(layout.shape[-2], layout.shape[-1], levels)
    coeffs: list = [layout[..., bands[0].rows, bands[0].cols]]
    for i in range(1, len(bands), 3):
        coeffs.append(ptwt.WaveletDetailTuple2d(*(layout[..., b.rows, b.cols] for b in bands[i : i + 3])))
    return tuple(coeffs)


def _join_coeffs(coeffs: Sequence) -> torch.Tensor:
    """ptwt coefficient tuple -> layout ``[..., H, W]``."""
    top = coeffs[0]
    for horizontal, vertical, diagonal in coeffs[1:]:
        top = torch.cat([torch.cat([top, vertical], dim=-1), torch.cat([horizontal, diagonal], dim=-1)], dim=-2)
    return top


@lru_cache(maxsize=8)
def _matrix_transforms(wavelet: str, levels: int) -> tuple[Any, Any]:
    """ptwt's boundary-wavelet transforms (``MatrixWavedec2``, ``MatrixWaverec2``); they cache their sparse
    matrices per shape, so reuse them."""
    import ptwt

    return ptwt.MatrixWavedec2(wavelet, level=levels), ptwt.MatrixWaverec2(wavelet)


def wavedec_layout(images: torch.Tensor, wavelet: str, levels: int) -> torch.Tensor:
    """DWT of ``[..., H, W]`` images into the ``[..., H, W]`` coefficient layout.

    :param images: Float tensor; ``H`` and ``W`` multiples of ``2**levels``.
    """
    import ptwt  # imported where used: plugin discovery imports the modules that import this one

    if wavelet == "haar":
        coeffs = ptwt.wavedec2(images, "haar", level=levels, mode="zero")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch's beta-sparse notices
            coeffs = _matrix_transforms(wavelet, levels)[0](images)
    return _join_coeffs(coeffs)


def waverec_layout(layout: torch.Tensor, wavelet: str, levels: int) -> torch.Tensor:
    """Inverse DWT of a ``[..., H, W]`` coefficient layout into ``[..., H, W]`` images."""
    import ptwt

    coeffs = _split_layout(layout, levels)
    if wavelet == "haar":
        return ptwt.waverec2(coeffs, "haar")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return _matrix_transforms(wavelet, levels)[1](coeffs)
