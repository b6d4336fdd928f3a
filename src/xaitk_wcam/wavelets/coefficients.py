"""One image's wavelet coefficients, ranked by a wavelet map, and images rebuilt from chosen subsets of them.

The shared mechanics of every wavelet-space faithfulness measure (the WCAM paper's sufficient image and
reconstruction depth; wavelet Insertion, Deletion, Faith and MuFidelity, Kasmi et al. 2025): the image is padded
(symmetric) to multiples of ``2**levels`` and decomposed once into the ``Hp x Wp`` coefficient layout; a
subset of layout positions is kept (in every channel, as the map has one value per position), the others are
set to 0, and the inverse DWT gives an image in the input's dtype and value range (clipped, integers rounded;
alpha passed through).

A wavelet map is an ``H x W`` map in the layout of the padded ``Hp x Wp`` transform resampled (nearest) to the
image's shape (WCAM's and WAM's ``wavelet_maps``); the importance of each layout position is read back by the
inverse resampling.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from xaitk_wcam.utils.checks import check_image
from xaitk_wcam.utils.images import split_alpha, to_input_dtype, value_range
from xaitk_wcam.wavelets.layout import check_decomposable, check_levels, grid_cell_index, padded_size
from xaitk_wcam.wavelets.reprojection import layout_map
from xaitk_wcam.wavelets.transform import check_wavelet, wavedec_layout, waverec_layout


def tie_order(n: int) -> np.ndarray:
    """The tie-break key of each of ``n`` layout positions: a fixed permutation of ``0 .. n - 1`` (seed 0), the same
    for every map and image of that layout size.

    Not row-major, as the pixel metrics break ties: the layout's first rows hold the approximation band (most of an
    image's energy), so row-major ties would again rank coarse coefficients first; nor by magnitude (see
    :meth:`CoefficientImages.ranks`).
    """
    return np.random.default_rng(0).permutation(n)


class CoefficientImages:
    """The padded DWT layout of one image, and images rebuilt from subsets of its coefficients.

    :param ref_image: ``H x W`` or ``H x W x C`` image, any dtype :func:`~xaitk_wcam.utils.checks.check_image`
        accepts; never modified.
    :param wavelet: An orthogonal pywt wavelet.
    :param levels: Decomposition levels.
    :raises ValueError: An unsupported wavelet, or an image too small for ``levels``.
    """

    def __init__(self, ref_image: np.ndarray, *, wavelet: str, levels: int) -> None:
        self.image = check_image(ref_image)
        check_wavelet(wavelet)
        levels = check_levels(levels)
        check_decomposable(self.image.shape, wavelet, levels)
        self.wavelet, self.levels = wavelet, levels
        height, width = self.image.shape[:2]
        self.padded_shape = (padded_size(height, levels), padded_size(width, levels))
        colour, self._alpha = split_alpha(self.image)
        pad = ((0, self.padded_shape[0] - height), (0, self.padded_shape[1] - width), (0, 0))
        padded = torch.from_numpy(np.pad(colour.astype(np.float64), pad, mode="symmetric")).permute(2, 0, 1)
        self.layout = wavedec_layout(padded, wavelet, levels)  # C x Hp x Wp, float64
        self._range = value_range(self.image)

    def importance(self, wavelet_map: np.ndarray) -> np.ndarray:
        """``Hp * Wp`` importance of each layout position (row-major): the ``H x W`` map resampled back (nearest,
        :func:`~xaitk_wcam.wavelets.reprojection.layout_map`)."""
        return np.ascontiguousarray(layout_map(np.asarray(wavelet_map, dtype=np.float64), self.levels)).ravel()

    def ranks(self, wavelet_map: np.ndarray, *, stacklevel: int = 1) -> np.ndarray:
        """Rank of each layout position (0: most important): ``Hp * Wp`` int64, a permutation of ``0 .. Hp*Wp - 1``.

        Positions are taken by decreasing importance; ties in the fixed order :func:`tie_order`, which reads neither
        the image nor the layout's geometry. Inside a WCAM cell every position has the same importance, so the
        tie-break decides the order there; it once was the coefficients' magnitude, which made an all-zero or
        constant map the magnitude oracle (the best Wavelet Insertion and Deletion scores). A constant map has no
        order at all: a ``RuntimeWarning`` says so (as the pixel metrics warn), and its scores are those of one
        fixed random order.

        :param stacklevel: Of the warning: 1 points at the caller of this method, 2 at its caller, ...
        """
        importance = self.importance(wavelet_map)
        if importance.size > 1 and importance.min() == importance.max():
            warnings.warn(
                "the wavelet map is constant: no ordering; coefficients are taken in a fixed pseudo-random order "
                "(tie-break), so it scores as a random map",
                RuntimeWarning,
                stacklevel=stacklevel + 1,
            )
        rank = np.empty(importance.size, dtype=np.int64)
        rank[np.lexsort((tie_order(importance.size), -importance))] = np.arange(importance.size)
        return rank

    def grid_cells(self, grid_size: int) -> np.ndarray:
        """``Hp * Wp`` cell of each layout position on a ``grid_size x grid_size`` grid over the padded layout
        (WCAM's grid: cell ``(i, j)`` covers rows ``[i*Hp/g, (i+1)*Hp/g)``), row-major cell index."""
        rows = grid_cell_index(self.padded_shape[0], grid_size)
        cols = grid_cell_index(self.padded_shape[1], grid_size)
        return (rows[:, None] * grid_size + cols[None, :]).ravel()

    def images(self, keep: np.ndarray) -> np.ndarray:
        """Images rebuilt from the kept coefficients.

        :param keep: ``n x Hp*Wp`` (or ``n x Hp x Wp``) booleans or weights: 1 keeps a position's coefficients
            in every channel, 0 sets them to 0.
        :return: ``n x H x W [x C]`` images in the dtype and value range of the image (alpha unchanged).
        """
        height, width = self.image.shape[:2]
        masks = torch.from_numpy(np.asarray(keep, dtype=np.float64)).view(len(keep), 1, *self.padded_shape)
        images = waverec_layout(self.layout.unsqueeze(0) * masks, self.wavelet, self.levels)[:, :, :height, :width]
        images = to_input_dtype(images.permute(0, 2, 3, 1).contiguous(), self.image, *self._range)
        if self._alpha is not None:
            images = np.concatenate([images, np.broadcast_to(self._alpha, (*images.shape[:3], 1))], axis=-1)
        elif self.image.ndim == 2:
            images = images[..., 0]
        return images
