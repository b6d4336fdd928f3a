"""Whole figures built from the small drawing functions (one WCAM explanation on one page)."""

from __future__ import annotations

from typing import Any

import numpy as np

from xaitk_wcam.viz.maps import plot_image, plot_spatial_map, plot_wavelet_map
from xaitk_wcam.viz.profiles import plot_scale_profile
from xaitk_wcam.viz.text import PLAIN


def wcam_figure(
    image: np.ndarray,
    wavelet_map: np.ndarray,
    spatial_map: np.ndarray,
    scale_profile: np.ndarray,
    levels: int,
    *,
    title: str | None = None,
    uncertain: np.ndarray | None = None,
) -> Any:
    """One WCAM explanation: the image, the wavelet map with level lines, the spatial map, the scale profile.

    :param image: ``H x W [x C]`` explained image.
    :param wavelet_map: ``H x W`` map in the wavelet layout (one class).
    :param spatial_map: ``H x W`` map on pixels (one class).
    :param scale_profile: ``levels + 1`` shares, coarse to fine.
    :param levels: Decomposition levels.
    :param title: Figure title (e.g. the explained class).
    :param uncertain: ``H x W`` booleans in the wavelet layout: coefficients whose cell's index is not
        distinguishable from 0 (e.g. :func:`uncertain_cells`), hatched on the wavelet map.
    :return: A ``matplotlib.figure.Figure`` (not shown; save it or close it).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 3.2), layout="constrained")
    axes = fig.subplots(1, 4)
    plot_image(axes[0], image, "image")
    artist = plot_wavelet_map(axes[1], wavelet_map, levels)
    axes[1].set_title("WCAM (wavelet domain)", fontsize=8)
    if uncertain is not None and np.asarray(uncertain).any():
        axes[1].contourf(np.asarray(uncertain, dtype=float), levels=[0.5, 1.5], colors="none", hatches=["////"])
        axes[1].set_title("WCAM (wavelet domain; hatched: not distinguishable from 0)", fontsize=7)
    fig.colorbar(artist, ax=axes[1], fraction=0.046)
    plot_spatial_map(axes[2], image, spatial_map)
    axes[2].set_title("WCAM (spatial)", fontsize=8)
    plot_scale_profile(axes[3], scale_profile)
    axes[3].set_title("scale profile", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10, **PLAIN)
    return fig


def uncertain_cells(result: Any, row: int = 0, z: float = 2.0) -> np.ndarray:
    """``H x W`` layout booleans: the cells of class ``row`` of a ``WCAMResult`` whose index minus ``z``
    standard errors is not above 0 (all ``False`` when the result has no standard errors)."""
    from xaitk_wcam.wavelets.reprojection import wavelet_maps

    if result.index_std is None:
        return np.zeros(result.image_shape, dtype=bool)
    doubtful = (result.sobol_indices[row] - z * result.index_std[row] <= 0).astype(np.float32)
    return wavelet_maps(doubtful[None], result.padded_shape, result.image_shape)[0] > 0.5
