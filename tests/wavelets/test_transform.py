"""The wavelet transforms in the pywt layout (``wavelets/transform.py``) against pywt's numbers."""

import numpy as np
import pytest
import pywt
import torch

from xaitk_wcam.wavelets import wavedec_layout, waverec_layout


def test_haar_layout_matches_pywt_coeffs_to_array():
    image = np.random.default_rng(0).random((2, 32, 48))
    expected, _ = pywt.coeffs_to_array(pywt.wavedec2(image, "haar", level=3, axes=(-2, -1)), axes=(-2, -1))
    np.testing.assert_allclose(wavedec_layout(torch.from_numpy(image), "haar", 3).numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("wavelet", ["haar", "db2", "sym3"])
def test_transform_round_trip(wavelet):
    image = torch.from_numpy(np.random.default_rng(1).random((3, 64, 32)))
    layout = wavedec_layout(image, wavelet, 3)
    assert layout.shape == image.shape
    torch.testing.assert_close(waverec_layout(layout, wavelet, 3), image)
