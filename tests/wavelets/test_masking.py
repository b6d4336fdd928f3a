"""Masked inverse transforms (``wavelets/masking.py``): equal to the inverse of the masked layout."""

import pytest
import torch

from xaitk_wcam.wavelets import wavedec_layout, waverec_layout
from xaitk_wcam.wavelets.layout import grid_cell_index
from xaitk_wcam.wavelets.masking import MaskedWaveletImages


@pytest.mark.parametrize("wavelet", ["haar", "db2"])
def test_masked_images_equal_inverse_of_masked_layout(wavelet):
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(3, 32, 48, generator=generator)
    masks = torch.rand(5, 6, 6, generator=generator)
    got = MaskedWaveletImages(image, wavelet, 3, 6)(masks)
    rows = torch.from_numpy(grid_cell_index(32, 6))
    cols = torch.from_numpy(grid_cell_index(48, 6))
    layout = wavedec_layout(image, wavelet, 3)
    expected = waverec_layout(layout[None] * masks[:, rows][:, :, cols][:, None], wavelet, 3).permute(0, 2, 3, 1)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_full_masks_give_the_image_back():
    image = torch.rand(1, 16, 16)
    torch.testing.assert_close(MaskedWaveletImages(image, "haar", 2, 4)(torch.ones(2, 4, 4))[1, ..., 0], image[0])
