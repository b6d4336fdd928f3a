"""Matplotlib figures for WCAM and saliency-robustness studies (small functions drawing on given axes)."""

from xaitk_wcam.viz.curves import mean_and_band, plot_metric_curve
from xaitk_wcam.viz.figures import wcam_figure
from xaitk_wcam.viz.maps import level_line_segments, plot_image, plot_spatial_map, plot_wavelet_map
from xaitk_wcam.viz.profiles import plot_grouped_profiles, plot_scale_profile

__all__ = [
    "level_line_segments",
    "mean_and_band",
    "plot_grouped_profiles",
    "plot_image",
    "plot_metric_curve",
    "plot_scale_profile",
    "plot_spatial_map",
    "plot_wavelet_map",
    "wcam_figure",
]
