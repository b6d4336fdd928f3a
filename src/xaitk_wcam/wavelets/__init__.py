"""Wavelet-domain math for WCAM: the coefficient layout, transforms, masking and reprojection (pure torch/ptwt)."""

from xaitk_wcam.wavelets.layout import Band, band_layout, level_index_map, padded_size
from xaitk_wcam.wavelets.transform import supported_wavelets, wavedec_layout, waverec_layout

__all__ = [
    "Band",
    "band_layout",
    "level_index_map",
    "padded_size",
    "supported_wavelets",
    "wavedec_layout",
    "waverec_layout",
]
