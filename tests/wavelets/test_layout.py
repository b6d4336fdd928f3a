"""The coefficient layout (``wavelets/layout.py``): bands, levels and the smallest decomposable size."""

import warnings

import pytest
import pywt
import torch

from xaitk_wcam.wavelets import band_layout, level_index_map, wavedec_layout, waverec_layout


def test_band_layout_and_levels():
    bands = band_layout(16, 32, 2)
    assert [(b.level, b.orientation) for b in bands] == [
        (0, "approximation"),
        (1, "horizontal"),
        (1, "vertical"),
        (1, "diagonal"),
        (2, "horizontal"),
        (2, "vertical"),
        (2, "diagonal"),
    ]
    assert bands[0].shape == (4, 8) and bands[-1].shape == (8, 16)
    levels = level_index_map(16, 32, 2)
    assert (levels == 0).sum() == 32 and (levels == 1).sum() == 96 and (levels == 2).sum() == 384
    with pytest.raises(ValueError, match="multiple"):
        band_layout(12, 16, 3)


@pytest.mark.parametrize("wavelet", ["haar", "db3", "sym4", "db8", "coif3"])
def test_the_size_check_is_the_transforms_true_limit(wavelet):
    """Issue 20, failure 7: the check refuses exactly the sizes where ptwt's boundary-wavelet transform fails or
    does not invert (found by running it), and nothing it can do."""
    from xaitk_wcam.wavelets.layout import check_decomposable, smallest_side

    for levels in (1, 2, 3):
        step = 2**levels
        limit = pywt.Wavelet(wavelet).dec_len * 2 ** (levels - 1)  # the limit the module states (a multiple of step)
        for side in (limit - 2 * step, limit - step, limit, limit + step):
            if side < step:
                continue
            image = torch.rand(1, side, side + step)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    back = waverec_layout(wavedec_layout(image, wavelet, levels), wavelet, levels)
                works = back.shape == image.shape and float((back - image).abs().max()) < 1e-4
            except Exception:
                works = False
            try:
                check_decomposable((side, side + step), wavelet, levels)
                accepted = True
            except ValueError as err:
                assert f"{wavelet}" in str(err) and f">= {smallest_side(wavelet, levels)}" in str(err)
                accepted = False
            assert accepted == works, (wavelet, levels, side, works)
