"""Drawing saliency maps: the WCAM wavelet map with its level lines, and spatial maps over the image.

The wavelet map follows pywt's ``coeffs_to_array`` layout (approximation top-left, then the
horizontal / vertical / diagonal details of each level, finest outermost), as in Kasmi et al.,
"Assessment of the Reliability of a Model's Decision by Generalizing Attribution to the Wavelet
Domain" (2023); the level lines separate those bands.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xaitk_wcam.utils.checks import check_float
from xaitk_wcam.viz.text import PLAIN


def level_line_segments(height: int, width: int, levels: int) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Segments ``((x0, y0), (x1, y1))``, in pixel-edge coordinates, separating the wavelet bands.

    :param height: Layout height (rows of the wavelet map).
    :param width: Layout width.
    :param levels: Number of decomposition levels, ``>= 1``.
    """
    if levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")
    if height < 1 or width < 1:
        raise ValueError(f"height and width must be >= 1, got {height} x {width}")
    segments: list[tuple[tuple[float, float], tuple[float, float]]] = []
    # a vertical edge between columns c-1 and c wherever the band changes along a row
    bands = _band_ids(height, width, levels)
    for c in range(1, width):
        rows = np.flatnonzero(bands[:, c] != bands[:, c - 1])
        segments += _runs(rows, lambda r0, r1, c=c: ((c - 0.5, r0 - 0.5), (c - 0.5, r1 + 0.5)))
    for r in range(1, height):
        cols = np.flatnonzero(bands[r, :] != bands[r - 1, :])
        segments += _runs(cols, lambda c0, c1, r=r: ((c0 - 0.5, r - 0.5), (c1 + 0.5, r - 0.5)))
    return segments


def _band_ids(height: int, width: int, levels: int) -> np.ndarray:
    from xaitk_wcam.wavelets.layout import band_layout, padded_size

    out = np.zeros((padded_size(height, levels), padded_size(width, levels)), dtype=np.int64)
    for i, band in enumerate(band_layout(out.shape[0], out.shape[1], levels)):
        out[band.rows, band.cols] = i
    return out[:height, :width]


def _runs(indices: np.ndarray, make: Any) -> list:
    if indices.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(indices) > 1)
    starts = np.concatenate([[indices[0]], indices[breaks + 1]])
    stops = np.concatenate([indices[breaks], [indices[-1]]])
    return [make(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def plot_wavelet_map(
    ax: Any,
    wavelet_map: np.ndarray,
    levels: int,
    *,
    cmap: str = "jet",
    line_color: str = "white",
    gamma: float = 0.5,
) -> Any:
    """Draw a WCAM wavelet-domain map with the lines between its levels and bands.

    :param ax: Matplotlib axes.
    :param wavelet_map: ``H x W`` map in the wavelet layout.
    :param levels: Decomposition levels of the map.
    :param gamma: Colour ``∝ value**gamma`` between the map's minimum (at least 0) and maximum
        (``matplotlib.colors.PowerNorm``). The approximation band usually holds most of the variance, and
        the detail cells, an order of magnitude below it, are invisible on a linear scale (``gamma=1``).
    :return: The image artist (for a colour bar).
    """
    from matplotlib.collections import LineCollection
    from matplotlib.colors import PowerNorm

    wavelet_map = np.asarray(wavelet_map)
    if wavelet_map.ndim != 2:
        raise ValueError(f"wavelet_map must be H x W, got shape {wavelet_map.shape}")
    gamma = check_float("gamma", gamma, 0.0)
    low = max(0.0, float(np.nanmin(wavelet_map))) if wavelet_map.size else 0.0
    high = float(np.nanmax(wavelet_map)) if wavelet_map.size else 1.0
    norm = PowerNorm(gamma, vmin=low, vmax=high if high > low else low + 1.0, clip=True)
    image = ax.imshow(wavelet_map, cmap=cmap, interpolation="nearest", norm=norm)
    segments = level_line_segments(wavelet_map.shape[0], wavelet_map.shape[1], levels)
    ax.add_collection(LineCollection(segments, colors=line_color, linewidths=0.8))
    ax.set_xticks(())
    ax.set_yticks(())
    return image


def plot_spatial_map(
    ax: Any, image: np.ndarray | None, sal_map: np.ndarray, *, cmap: str = "jet", alpha: float = 0.5
) -> Any:
    """Draw a pixel-domain saliency map over its image (grey), stretched to the image's extent.

    :param ax: Matplotlib axes.
    :param image: ``H x W [x C]`` image or ``None`` (map alone).
    :param sal_map: ``H' x W'`` map.
    :param alpha: Opacity of the map over the image, in ``[0, 1]``.
    :return: The map's image artist.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    sal_map = np.asarray(sal_map)
    if sal_map.ndim != 2:
        raise ValueError(f"sal_map must be H x W, got shape {sal_map.shape}")
    if image is None:
        artist = ax.imshow(sal_map, cmap=cmap)
    else:
        grey = _grey(image)
        h, w = grey.shape
        ax.imshow(grey, cmap="gray", extent=(0, w, h, 0))
        artist = ax.imshow(sal_map, cmap=cmap, alpha=alpha, extent=(0, w, h, 0))
    ax.set_xticks(())
    ax.set_yticks(())
    return artist


def plot_map(ax: Any, sal_map: np.ndarray, space: str, *, cmap: str = "jet") -> Any:
    """Draw a map that does not overlay the image (e.g. a Fourier-spectrum map), titled by its space.

    :param ax: Matplotlib axes.
    :param sal_map: ``H x W`` map.
    :param space: Its space, written in the corner (``"spectrum"``: centred, DC in the middle).
    :return: The image artist.
    """
    sal_map = np.asarray(sal_map)
    if sal_map.ndim != 2:
        raise ValueError(f"sal_map must be H x W, got shape {sal_map.shape}")
    artist = ax.imshow(sal_map, cmap=cmap, interpolation="nearest")
    ax.text(0.02, 0.98, space, transform=ax.transAxes, va="top", fontsize=6, color="white", **PLAIN)
    ax.set_xticks(())
    ax.set_yticks(())
    return artist


def plot_image(ax: Any, image: np.ndarray, title: str | None = None) -> None:
    """Draw an image (``H x W`` grey or ``H x W x C``) without ticks."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        ax.imshow(image, cmap="gray")
    else:
        ax.imshow(_display(image))
    ax.set_xticks(())
    ax.set_yticks(())
    if title:
        ax.set_title(title, fontsize=8, **PLAIN)


def _display(image: np.ndarray) -> np.ndarray:
    if np.issubdtype(image.dtype, np.integer):
        return np.clip(image, 0, 255).astype(np.uint8)[..., :3]
    lo, hi = float(image.min()), float(image.max())
    return (image[..., :3] - lo) / (hi - lo) if hi > lo else np.zeros_like(image[..., :3], dtype=np.float64)


def _grey(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3:
        image = image[..., :3].mean(axis=2)
    return image
