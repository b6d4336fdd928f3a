"""Images rebuilt from the wavelet coefficients of one image, with grid masks on the layout.

This is WCAM's hot path: every Sobol design row is a ``g x g`` mask over the coefficient layout
(cell ``(i, j)`` covers layout rows ``[i*H/g, (i+1)*H/g)`` and columns ``[j*W/g, (j+1)*W/g)``), and
each perturbed image is the inverse DWT of the masked layout.

For Haar the inverse transform is cheap to avoid: a Haar coefficient's synthesis function is
supported on its own ``footprint x footprint`` pixel block and coefficients of one band never
overlap, so masking then inverting equals weighting, pixel by pixel, the inverse of each band
alone. A batch of perturbed images is then ``sum_b mask_b(pixel) * band_image_b`` over the
``1 + 3 * levels`` band images computed once per explained image. Other wavelets mask the
layout and call ptwt's inverse transform on the batch.
"""

from __future__ import annotations

import torch

from xaitk_wcam.wavelets.layout import band_layout, grid_cell_index
from xaitk_wcam.wavelets.transform import wavedec_layout, waverec_layout


class MaskedWaveletImages:
    """Build perturbed images of one image for batches of grid masks.

    :param image: ``C x H x W`` float tensor, ``H`` and ``W`` multiples of ``2**levels``.
    :param wavelet: A name accepted by :func:`xaitk_wcam.wavelets.transform.check_wavelet`.
    :param levels: Decomposition levels, ``>= 1``.
    :param grid_size: Side ``g`` of the mask grid laid over the layout, ``1 <= g <= min(H, W)``.
    """

    def __init__(self, image: torch.Tensor, wavelet: str, levels: int, grid_size: int) -> None:
        height, width = image.shape[1:]
        self.wavelet, self.levels = wavelet, levels
        self.layout = wavedec_layout(image, wavelet, levels)  # C x H x W
        rows = torch.from_numpy(grid_cell_index(height, grid_size))
        cols = torch.from_numpy(grid_cell_index(width, grid_size))
        self._cell_of_coefficient = (rows[:, None] * grid_size + cols[None, :]).flatten()  # H*W
        # Haar path: channels-last layout with each band pre-scaled by the 1/2 of every synthesis
        # step it goes through, so that synthesis is additions only.
        scaled = self.layout.permute(1, 2, 0).clone(memory_format=torch.contiguous_format)
        for band in band_layout(height, width, levels):
            steps = levels - max(band.level, 1) + 1
            scaled[band.rows, band.cols] *= 0.5**steps
        self._scaled_layout = scaled

    def __call__(self, masks: torch.Tensor) -> torch.Tensor:
        """Perturbed images for ``n`` masks, all in one pass of ``1 + 8 * levels`` tensor operations (callers
        choose ``n``: a few images keep the temporaries in cache, see
        :mod:`~xaitk_wcam.impls.gen_image_classifier_blackbox_sal._sobol_blackbox`).

        :param masks: ``n x g x g`` float tensor of mask values (typically in ``[0, 1]``).
        :return: ``n x H x W x C`` float tensor (channels last, as xaitk and nrtk images).
        """
        if self.wavelet != "haar":
            coefficient_masks = masks.flatten(1)[:, self._cell_of_coefficient].view(len(masks), *self.layout.shape[1:])
            masked = self.layout.unsqueeze(0) * coefficient_masks.unsqueeze(1)
            return waverec_layout(masked, self.wavelet, self.levels).permute(0, 2, 3, 1)
        return self._haar_synthesis(self._mask_scaled_layout(masks))

    def _mask_scaled_layout(self, masks: torch.Tensor) -> torch.Tensor:
        """``k x H x W x C`` masked, pre-scaled layouts for ``k`` grid masks.

        When the grid divides the layout, a cell is a ``H/g x W/g`` block and the mask broadcasts over a
        blocked view (no full-resolution gather); otherwise each coefficient's cell is gathered.
        """
        height, width, channels = self._scaled_layout.shape
        g = masks.shape[-1]
        if height % g == 0 and width % g == 0:
            blocks = self._scaled_layout.view(g, height // g, g, width // g, channels)
            return (blocks * masks[:, :, None, :, None, None]).view(len(masks), height, width, channels)
        cells = masks.flatten(1)[:, self._cell_of_coefficient].view(len(masks), height, width, 1)
        return self._scaled_layout * cells

    def _haar_synthesis(self, masked: torch.Tensor) -> torch.Tensor:
        """Inverse Haar DWT of pre-scaled, masked ``k x H x W x C`` layouts, in place (``masked`` is returned).

        One level: ``x[2i+a, 2j+b] = A + (-1)**a H + (-1)**b V + (-1)**(a+b) D`` (ptwt's and pywt's band
        conventions, the factor 1/2 already applied to the coefficients). The four sums of a level are taken
        before its result overwrites the ``2h x 2w`` corner of the layout those bands came from, so no other
        image-sized buffer is allocated.
        """
        h, w = masked.shape[1] >> self.levels, masked.shape[2] >> self.levels
        for _ in range(self.levels):
            approx, horizontal = masked[:, :h, :w], masked[:, h : 2 * h, :w]
            vertical, diagonal = masked[:, :h, w : 2 * w], masked[:, h : 2 * h, w : 2 * w]
            top, bottom = approx + horizontal, approx - horizontal
            plus, minus = vertical + diagonal, vertical - diagonal
            blocks = masked[:, : 2 * h, : 2 * w].unflatten(2, (w, 2)).unflatten(1, (h, 2))  # k x h x 2 x w x 2 x C
            torch.add(top, plus, out=blocks[:, :, 0, :, 0])
            torch.sub(top, plus, out=blocks[:, :, 0, :, 1])
            torch.add(bottom, minus, out=blocks[:, :, 1, :, 0])
            torch.sub(bottom, minus, out=blocks[:, :, 1, :, 1])
            h, w = 2 * h, 2 * w
        return masked
