"""Whole figures built from the small drawing functions (one wavelet explanation, WCAM or WAM, on one page)."""

from __future__ import annotations

from typing import Any

import numpy as np

from xaitk_wcam.viz.maps import TITLE_SIZE, add_colorbar, plot_image, plot_spatial_map, plot_wavelet_map
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
    method: str = "WCAM",
    per_level: bool = True,
) -> Any:
    """One wavelet explanation (WCAM, WAM): the image, the labelled wavelet map, the spatial map, the scale
    profile and, with ``per_level``, a second row with the spatial map of each level on its own.

    Every map has a colour bar; the per-level maps share one scale, so a faint panel is a level that carries
    little importance, as the scale profile says.

    :param image: ``H x W [x C]`` explained image.
    :param wavelet_map: ``H x W`` map in the wavelet layout (one class).
    :param spatial_map: ``H x W`` map on pixels (one class).
    :param scale_profile: ``levels + 1`` shares, coarse to fine.
    :param levels: Decomposition levels.
    :param title: Figure title (e.g. the explained class).
    :param uncertain: ``H x W`` booleans in the wavelet layout: coefficients whose cell's index is not
        distinguishable from 0 (e.g. :func:`uncertain_cells`), veiled and hatched on the wavelet map.
    :param method: Name written in the panel titles.
    :param per_level: Add the row of per-level maps.
    :return: A ``matplotlib.figure.Figure`` (not shown; save it or close it).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 8.2 if per_level else 4.2), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.1, 1]) if per_level else (fig, None)
    axes = top.subplots(1, 4, width_ratios=[1, 1.15, 1.15, 0.9])
    plot_image(axes[0], image, "image")
    artist = plot_wavelet_map(axes[1], wavelet_map, levels, uncertain=uncertain)
    doubtful = uncertain is not None and np.asarray(uncertain).any()
    axes[1].set_title(f"{method}, wavelet domain" + ("\n(veiled, hatched: not distinguishable from 0)" if doubtful
                                                      else ""), fontsize=TITLE_SIZE, **PLAIN)  # fmt: skip
    add_colorbar(top, axes[1], artist, "importance (square-root colour scale)")
    spatial = plot_spatial_map(axes[2], image, spatial_map)
    axes[2].set_title(f"{method}, pixels (all levels)", fontsize=TITLE_SIZE, **PLAIN)
    add_colorbar(top, axes[2], spatial, "importance")
    plot_scale_profile(axes[3], scale_profile)
    axes[3].set_title("scale profile (share per level)", fontsize=TITLE_SIZE)
    if bottom is not None:
        plot_level_maps(bottom, image, wavelet_map, levels, scale_profile)
    if title:
        fig.suptitle(title, fontsize=TITLE_SIZE + 2, **PLAIN)
    return fig


def plot_level_maps(fig: Any, image: np.ndarray, wavelet_map: np.ndarray, levels: int, shares: np.ndarray) -> None:
    """One panel per level (coarse to fine): the pixel map of that level alone over the image, on one colour scale
    shared by the panels, with one colour bar (the per-level view of the WAM authors' ``disentangle_scales``).

    Each panel shows importance *per pixel*: a coefficient's importance spread evenly over the ``s x s`` pixels it
    covers (``s = 2**levels`` for the approximation and level 1, halving at each finer level), so the total of a
    panel is its level's importance and the brighter panel is the level with the larger share. (Reprojected
    without the spreading, as the all-levels map is, a coarse coefficient paints 4x the pixels of the next level
    and the coarse panels looked brightest whatever their share.)

    :param fig: A figure or subfigure to draw in.
    :param shares: ``levels + 1`` shares of importance (the scale profile), written in the titles.
    """
    from xaitk_wcam.wavelets.reprojection import level_maps

    maps = level_maps(np.asarray(wavelet_map), levels, per_pixel=True)
    vmax = float(maps.max())
    axes = np.atleast_1d(fig.subplots(1, levels + 1))
    artist = None
    for level, ax in enumerate(axes):
        artist = plot_spatial_map(ax, image, maps[level])
        artist.set_clim(0.0, vmax if vmax > 0 else 1.0)
        where = "approximation" if level == 0 else f"level {level}" + {1: " (coarse)", levels: " (fine)"}.get(level, "")
        ax.set_title(f"{where}: share {shares[level]:.2f}", fontsize=TITLE_SIZE, **PLAIN)
    add_colorbar(fig, list(axes), artist, "importance per pixel (shared scale)")


def uncertain_cells(result: Any, row: int = 0, z: float = 2.0) -> np.ndarray:
    """``H x W`` layout booleans: the cells of class ``row`` of a ``WCAMResult`` whose index minus ``z``
    standard errors is not above 0 (all ``False`` when the result has no standard errors)."""
    from xaitk_wcam.wavelets.reprojection import wavelet_maps

    if getattr(result, "index_std", None) is None:
        return np.zeros(result.image_shape, dtype=bool)
    doubtful = (result.sobol_indices[row] - z * result.index_std[row] <= 0).astype(np.float32)
    return wavelet_maps(doubtful[None], result.padded_shape, result.image_shape)[0] > 0.5
