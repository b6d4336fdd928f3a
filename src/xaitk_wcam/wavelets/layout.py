"""Geometry of the 2-D wavelet coefficient layout (the layout of ``pywt.coeffs_to_array``).

A ``levels``-level 2-D DWT of an ``H x W`` image (both sides multiples of ``2**levels``) is stored
in one ``H x W`` array: the approximation band in the top-left ``H/2**L x W/2**L`` block, then,
for each detail level from coarse to fine, the horizontal detail below the previous square, the
vertical detail to its right and the diagonal detail on the diagonal.

Level indices follow the WCAM paper's reading order, coarse to fine: 0 is the approximation band,
1 the coarsest detail level (pywt's level ``L``), ``levels`` the finest details (pywt's level 1).
"""

from __future__ import annotations

from dataclasses import dataclass

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
