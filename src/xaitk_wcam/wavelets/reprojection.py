"""From per-cell importances on a grid over the layout to maps: the layout map, the pixel map, the scale profile.

The grid is ``rows x cols`` cells over the padded ``Hp x Wp`` coefficient layout (cell ``(i, j)`` covers layout
rows ``[i*Hp/rows, (i+1)*Hp/rows)``, integer division): WCAM's ``g x g`` grid of Sobol variables, or one cell per
coefficient (``rows x cols = Hp x Wp``) for a full-resolution map such as WAM's. All three are linear in the
cell importances, so each is one gather (or one small matrix product) over the ``K x cells`` importance matrix,
vectorised over the ``K`` classes.

- Wavelet map: the importance of the cell covering each layout coefficient (Kasmi et al. 2023, Fig. 1).
- Spatial map: for every band, the importance of each coefficient painted over the pixels it
  covers (its ``footprint x footprint`` block), summed over the ``1 + 3 * levels`` bands.
- Scale profile: the share of importance in each level, each cell counted by the area it covers
  in that level (cells straddling two levels are split by area).
- Level maps: the pixel map of one level at a time (the authors' ``disentangle_scales`` view of WAM), from
  a wavelet map already on the image (:func:`level_maps`).
"""

from __future__ import annotations

import warnings

import numpy as np

from xaitk_wcam.utils.maps import normalise_max
from xaitk_wcam.wavelets.layout import band_layout, grid_cell_index, level_index_map, padded_size

#: Classes whose spatial maps are computed together (bounds the working memory of many-class maps).
CLASS_CHUNK = 64


def _grid_shape(grid: int | tuple[int, int]) -> tuple[int, int]:
    return (grid, grid) if isinstance(grid, (int, np.integer)) else (int(grid[0]), int(grid[1]))


def _cell_of_layout(height: int, width: int, grid: int | tuple[int, int]) -> np.ndarray:
    """``height x width`` flat cell index of every layout coefficient (``grid``: ``g`` or ``(rows, cols)``)."""
    rows, cols = _grid_shape(grid)
    return grid_cell_index(height, rows)[:, None] * cols + grid_cell_index(width, cols)[None, :]


def wavelet_maps(
    indices: np.ndarray, layout_shape: tuple[int, int], out_shape: tuple[int, int], *, normalise: bool = False
) -> np.ndarray:
    """Layout maps, resampled (nearest) from the padded layout to ``out_shape``.

    :param indices: ``K x rows x cols`` cell importances (non-negative when ``normalise``).
    :param layout_shape: ``(Hp, Wp)`` of the padded layout.
    :param out_shape: ``(H, W)`` of the image; equal to ``layout_shape`` unless the image was padded.
    :param normalise: Divide each map by its maximum (computed on the cells the map shows, before the
        gather, which saves passes over a large ``K x H x W`` stack).
    :return: ``K x H x W`` float32 maps.
    """
    rows = np.arange(out_shape[0]) * layout_shape[0] // out_shape[0]
    cols = np.arange(out_shape[1]) * layout_shape[1] // out_shape[1]
    cells = _cell_of_layout(*layout_shape, indices.shape[-2:])[rows][:, cols]
    flat = indices.reshape(len(indices), -1).astype(np.float32)
    if normalise:
        peak = flat[:, np.unique(cells)].max(axis=1, initial=0.0)
        flat /= np.where(peak > 0, peak, 1.0)[:, None]
    return flat[:, cells]


def map_source(size: int, padded: int, levels: int) -> np.ndarray:
    """For each of the ``padded`` layout rows (or columns), the row of an image-sized wavelet map that shows it: the
    inverse of the resampling of :func:`wavelet_maps` (which shows layout row ``h * padded // size`` on map row
    ``h``).

    A layout row the map shows is read from that map row, exactly; one the resampling dropped (``padded - size`` of
    them, fewer than ``2**levels``) from the nearest shown row of the same band, so that no coefficient takes the
    importance of another level (reading ``r * size // padded`` back moved band boundaries by a row, and a
    ScaleShare of WCAM's map of a 30 x 45 image gave 0.79 for an approximation share of 0.96).

    :return: ``padded`` indices in ``[0, size)``.
    """
    shown = np.arange(size) * padded // size  # the layout row each map row shows (non-decreasing)
    rows = np.arange(padded)
    after = np.minimum(np.searchsorted(shown, rows, side="left"), size - 1)  # first map row showing >= r
    before = np.maximum(np.searchsorted(shown, rows, side="right") - 1, 0)  # last map row showing <= r
    edges = padded >> np.arange(levels, 0, -1)  # where a band of rows starts: Hp / 2**levels, ..., Hp / 2
    band = np.searchsorted(edges, rows, side="right")
    same_before = np.searchsorted(edges, shown[before], side="right") == band
    same_after = np.searchsorted(edges, shown[after], side="right") == band
    nearer_before = rows - shown[before] <= shown[after] - rows
    # the shown row itself; else the neighbour in the same band; else (both or neither) the nearer
    take_before = (shown[before] == rows) | np.where(same_before == same_after, nearer_before, same_before)
    return np.where(take_before, before, after)


def layout_map(wavelet_map: np.ndarray, levels: int) -> np.ndarray:
    """Wavelet maps at the image's ``H x W`` read back onto the padded ``Hp x Wp`` layout (:func:`map_source`: the
    inverse of the resampling of :func:`wavelet_maps`), so that every coefficient takes the importance of its own
    band whatever the image's sides; the maps themselves when the sides are multiples of ``2**levels``.

    :param wavelet_map: ``... x H x W`` maps in the wavelet layout (e.g. ``WCAMResult.wavelet_maps``).
    :return: ``... x Hp x Wp`` (a view when no resampling is needed).
    """
    height, width = wavelet_map.shape[-2:]
    layout_shape = (padded_size(height, levels), padded_size(width, levels))
    if layout_shape == (height, width):
        return wavelet_map
    rows = map_source(height, layout_shape[0], levels)
    cols = map_source(width, layout_shape[1], levels)
    return wavelet_map[..., rows, :][..., cols]


def warn_coarse_grid(grid: tuple[int, int], levels: int, stacklevel: int = 2) -> None:
    """Warn when a grid of ``rows x cols`` cells covers the approximation band with fewer than 2 cells per side.

    The approximation band holds the coarse scale most models rely on, and the pixel map paints each of its cells
    over a ``1 / cells`` share of the image: with one cell per side (``WCAM(grid_size=8)`` at 3 levels) the pixel
    map is that one value over the whole image plus small detail terms, nearly flat (on ``skimage.data.coffee()``
    its 0th, 50th and 100th percentiles were 0.994, 0.994 and 1). A pixel map needs ``grid_size >= 2**(levels + 1)``.
    """
    cells = min(grid) / 2**levels
    if cells < 2:
        warnings.warn(
            f"a {grid[0]} x {grid[1]} grid over a {levels}-level layout covers the approximation band with "
            f"{cells:g} cell(s) per side: the pixel map paints it over the whole image and is nearly flat; use "
            f"grid_size >= {2 ** (levels + 1)} (2**(levels + 1)) for a pixel map, or read the wavelet map",
            RuntimeWarning,
            stacklevel=stacklevel + 1,
        )


def spatial_maps(
    indices: np.ndarray,
    layout_shape: tuple[int, int],
    levels: int,
    out_shape: tuple[int, int],
    *,
    normalise: bool = False,
) -> np.ndarray:
    """Importance of every band reprojected onto the pixels it covers and summed, cropped to ``out_shape``.

    Computed coarse to fine like a Haar synthesis: add the three bands of a level to the running map
    (all at that level's coefficient resolution), then upsample by two; about two passes over the
    output instead of one per band. Classes are done :data:`CLASS_CHUNK` at a time, so the memory is the
    ``K x H x W`` float32 result plus the working maps of one chunk (1000 classes at 896 x 896: 3.0 GiB of
    maps and 0.16 GiB more while they are computed, measured; all classes at once took 0.77 GiB more).

    :param indices: ``K x rows x cols`` cell importances.
    :param normalise: Clip each map at 0 and divide it by its maximum (all-zero maps stay zero).
    :return: ``K x H x W`` float32 maps.
    """
    out = np.empty((len(indices), *out_shape), dtype=np.float32)
    for start in range(0, len(indices), CLASS_CHUNK):
        chunk = _spatial_maps(indices[start : start + CLASS_CHUNK], layout_shape, levels)
        chunk = chunk[:, : out_shape[0], : out_shape[1]]
        out[start : start + CLASS_CHUNK] = normalise_max(chunk) if normalise else chunk
    return out


def _spatial_maps(indices: np.ndarray, layout_shape: tuple[int, int], levels: int) -> np.ndarray:
    height, width = layout_shape
    cells = _cell_of_layout(height, width, indices.shape[-2:])
    flat = indices.reshape(len(indices), -1).astype(np.float32)
    bands = band_layout(height, width, levels)
    total = flat[:, cells[bands[0].rows, bands[0].cols]]
    for first in range(1, len(bands), 3):
        for band in bands[first : first + 3]:
            total += flat[:, cells[band.rows, band.cols]]
        k, h, w = total.shape
        total = np.broadcast_to(total[:, :, None, :, None], (k, h, 2, w, 2)).reshape(k, 2 * h, 2 * w)
    return total


def scale_profile(indices: np.ndarray, layout_shape: tuple[int, int], levels: int) -> np.ndarray:
    """Share of (non-negative) importance per level, coarse to fine; rows sum to 1 (0 where all zero).

    :param indices: ``K x rows x cols`` cell importances.
    :return: ``K x (levels + 1)``; column 0 is the approximation band, column ``levels`` the finest details.
    """
    area = cell_level_areas(layout_shape, levels, indices.shape[-2:])
    mass = np.clip(indices.reshape(len(indices), -1), 0, None) @ area
    total = mass.sum(axis=1, keepdims=True)
    return np.divide(mass, total, out=np.zeros_like(mass), where=total > 0)


def cell_level_areas(layout_shape: tuple[int, int], levels: int, grid: int | tuple[int, int]) -> np.ndarray:
    """Number of layout coefficients of each level in each grid cell.

    :param layout_shape: ``(Hp, Wp)`` of the padded layout.
    :param grid: ``g`` (a ``g x g`` grid) or ``(rows, cols)``.
    :return: ``rows * cols x (levels + 1)`` float array (cells in row-major order, levels coarse to fine);
        ``argmax(axis=1)`` is the level that holds most of a cell.
    """
    rows, cols = _grid_shape(grid)
    cells = _cell_of_layout(*layout_shape, (rows, cols)).ravel()
    levels_of = level_index_map(*layout_shape, levels).ravel()
    area = np.zeros((rows * cols, levels + 1))
    np.add.at(area, (cells, levels_of), 1.0)
    return area


def level_maps(wavelet_map: np.ndarray, levels: int, *, per_pixel: bool = False) -> np.ndarray:
    """The pixel reprojection of each level of an ``H x W`` wavelet map on its own, coarse to fine.

    The map is read back onto the padded layout (nearest, the inverse of the resampling of :func:`wavelet_maps`),
    split by level, and each part reprojected as :func:`spatial_maps` does; the ``levels + 1`` maps sum to the
    spatial map of the whole.

    :param wavelet_map: ``H x W`` map in the wavelet layout (e.g. ``WCAMResult.wavelet_maps[k]``).
    :param per_pixel: Spread each coefficient's importance over the ``s x s`` pixels it covers (``s = 2**levels``
        for the approximation and level 1, halving at each finer level) instead of painting it on each: a map's
        total is then its level's importance (up to the crop of the padding), so maps of different levels compare.
    :return: ``(levels + 1) x H x W`` float32 maps; 0 is the approximation band, ``levels`` the finest details.
    """
    height, width = wavelet_map.shape
    layout = layout_map(np.asarray(wavelet_map, dtype=np.float32), levels)
    layout_shape = layout.shape
    by_level = level_index_map(*layout_shape, levels)[None] == np.arange(levels + 1)[:, None, None]
    maps = spatial_maps(layout[None] * by_level, layout_shape, levels, (height, width))
    if per_pixel:
        sides = 2.0 ** (levels - np.maximum(np.arange(levels + 1), 1) + 1)
        maps /= (sides**2).astype(np.float32)[:, None, None]
    return maps
