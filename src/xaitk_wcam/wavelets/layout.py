"""Geometry of the 2-D wavelet coefficient layout (the layout of ``pywt.coeffs_to_array``).

A ``levels``-level 2-D DWT of an ``H x W`` image (both sides multiples of ``2**levels``) is stored
in one ``H x W`` array: the approximation band in the top-left ``H/2**L x W/2**L`` block, then,
for each detail level from coarse to fine, the horizontal detail below the previous square, the
vertical detail to its right and the diagonal detail on the diagonal.

Level indices follow the WCAM paper's reading order, coarse to fine: 0 is the approximation band,
1 the coarsest detail level (pywt's level ``L``), ``levels`` the finest details (pywt's level 1).

Sizes: ``levels`` is at most :data:`MAX_LEVELS`, and an image must hold the wavelet's filter at every level
(:func:`check_decomposable`: the input of the last level, ``side / 2**(levels - 1)``, at least ``dec_len``
long, the true limit of ptwt's boundary-wavelet transform, found by running it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

ORIENTATIONS = ("horizontal", "vertical", "diagonal")


@dataclass(frozen=True)
class Band:
    """One band of the coefficient layout.

    :param level: 0 for the approximation band, 1 (coarsest) to ``levels`` (finest) for details.
    :param orientation: ``"approximation"``, ``"horizontal"``, ``"vertical"`` or ``"diagonal"``.
    :param rows: Rows of the layout that hold the band.
    :param cols: Columns of the layout that hold the band.
    :param footprint: Side, in pixels, of the image block one coefficient of the band covers
        (exact support for Haar; the centre of the support for longer wavelets).
    """

    level: int
    orientation: str
    rows: slice
    cols: slice
    footprint: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows.stop - self.rows.start, self.cols.stop - self.cols.start


def padded_size(size: int, levels: int) -> int:
    """Smallest multiple of ``2**levels`` that is ``>= size``."""
    step = 2**levels
    return -(-size // step) * step


def band_layout(height: int, width: int, levels: int) -> list[Band]:
    """Bands of the coefficient layout of a ``height x width`` image, approximation first.

    :param height: Layout height; a multiple of ``2**levels``.
    :param width: Layout width; a multiple of ``2**levels``.
    :param levels: Number of decomposition levels, ``>= 1``.
    :return: ``1 + 3 * levels`` bands, ordered coarse to fine, each level as
        horizontal, vertical, diagonal (the order of pywt's and ptwt's detail tuples).
    """
    if levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")
    if height % 2**levels or width % 2**levels:
        raise ValueError(f"layout shape ({height}, {width}) must be a multiple of 2**levels = {2**levels}")
    h, w = height >> levels, width >> levels
    bands = [Band(0, "approximation", slice(0, h), slice(0, w), 2**levels)]
    for level in range(1, levels + 1):
        footprint = 2 ** (levels - level + 1)
        bands += [
            Band(level, "horizontal", slice(h, 2 * h), slice(0, w), footprint),
            Band(level, "vertical", slice(0, h), slice(w, 2 * w), footprint),
            Band(level, "diagonal", slice(h, 2 * h), slice(w, 2 * w), footprint),
        ]
        h, w = 2 * h, 2 * w
    return bands


def level_index_map(height: int, width: int, levels: int) -> np.ndarray:
    """Level index (0 = approximation ... ``levels`` = finest) of every cell of the layout.

    :return: ``height x width`` integer array.
    """
    out = np.empty((height, width), dtype=np.int64)
    for band in band_layout(height, width, levels):
        out[band.rows, band.cols] = band.level
    return out


def grid_cell_index(size: int, grid_size: int) -> np.ndarray:
    """Grid row (or column) of every layout row (or column): cell ``i`` covers ``[i*size/g, (i+1)*size/g)``.

    :return: ``size`` integers in ``[0, grid_size)``.
    """
    return (np.arange(size) * grid_size) // size


#: Most decomposition levels accepted: a side of 2**16 = 65,536 pixels (a 64-megapixel image has sides of 8,000).
MAX_LEVELS = 16


def check_levels(levels: Any) -> int:
    """``levels`` as an int in ``[1, MAX_LEVELS]`` (``TypeError`` / ``ValueError`` otherwise), before any
    ``2**levels`` is computed."""
    from xaitk_wcam.utils.checks import check_int

    return int(check_int("levels", levels, 1, maximum=MAX_LEVELS))


def smallest_side(wavelet: str, levels: int) -> int:
    """Smallest padded side (a multiple of ``2**levels``) that ``levels`` levels of ``wavelet`` can decompose:
    ``dec_len * 2**(levels - 1)`` rounded up (``2**levels`` for Haar)."""
    import pywt

    step = 2**levels
    return -(-pywt.Wavelet(wavelet).dec_len * 2 ** (levels - 1) // step) * step


def check_decomposable(shape: Sequence[int], wavelet: str, levels: int, name: str = "ref_image") -> None:
    """Refuse, before any work, an image too small for ``levels`` levels of ``wavelet``.

    Each side must be ``>= 2**levels``, and once padded to a multiple of ``2**levels`` (as WCAM pads) ``>=``
    :func:`smallest_side` (see the module docstring).

    :param shape: ``(H, W, ...)`` of the image.
    :raises ValueError: The image is too small (the message gives the wavelet's filter length and the smallest side).
    """
    import pywt

    height, width = int(shape[0]), int(shape[1])
    smallest = smallest_side(wavelet, levels)
    padded = min(padded_size(height, levels), padded_size(width, levels))
    if min(height, width) < 2**levels or padded < smallest:
        raise ValueError(
            f"{name} of shape {height} x {width} is too small for the {wavelet} wavelet (filter length "
            f"{pywt.Wavelet(wavelet).dec_len}) at levels={levels}: each side must be >= {smallest} once padded to a "
            f"multiple of 2**levels = {2**levels} (and >= {2**levels} before); resize the image or lower levels"
        )
