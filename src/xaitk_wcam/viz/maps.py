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


#: Font sizes of the figures: panel titles and axis labels, and the band letters and tick labels.
TITLE_SIZE, LABEL_SIZE = 11, 10


def power_ticks(low: float, high: float, gamma: float, n: int = 5) -> list[float]:
    """``n`` colour-bar ticks evenly spaced on a ``PowerNorm(gamma)`` colour scale from ``low`` to ``high``,
    rounded to two significant digits (so a square-root scale reads 0, 0.06, 0.25, 0.56, 1 rather than
    bunching the default round ticks at its top)."""
    if high <= low:
        return [low]
    positions = np.linspace(0.0, 1.0, n)
    values = low + (high - low) * positions ** (1.0 / gamma)
    return [float(f"{v:.2g}") for v in values]


def add_colorbar(fig: Any, ax: Any, artist: Any, label: str | None = None) -> Any:
    """A colour bar beside ``ax`` for ``artist``, with :func:`power_ticks` when the artist has a ``PowerNorm``."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import PowerNorm
    from matplotlib.ticker import FormatStrFormatter

    # an opaque copy of the artist's colours: a map drawn over the image at alpha 0.5 keeps a readable bar
    bar = fig.colorbar(ScalarMappable(norm=artist.norm, cmap=artist.cmap), ax=ax, fraction=0.046, pad=0.03)
    norm = artist.norm
    if isinstance(norm, PowerNorm):
        bar.set_ticks(power_ticks(float(norm.vmin), float(norm.vmax), float(norm.gamma)))
        bar.ax.yaxis.set_major_formatter(FormatStrFormatter("%.2g"))
    bar.ax.tick_params(labelsize=LABEL_SIZE - 1)
    if label:
        bar.set_label(label, fontsize=LABEL_SIZE - 1)
    return bar


def band_labels(height: int, width: int, levels: int) -> list[tuple[float, float, str, float]]:
    """Where to write each band's name on an ``height x width`` wavelet map: ``(x, y, text, size)``, with
    ``size`` the band's side as a fraction of the map's (``A``: approximation; ``H1``, ``V1``, ``D1``: the
    horizontal, vertical and diagonal details of level 1, the coarsest; ``levels``: the finest)."""
    from xaitk_wcam.wavelets.layout import band_layout, padded_size

    padded = (padded_size(height, levels), padded_size(width, levels))
    scale_y, scale_x = height / padded[0], width / padded[1]
    out = []
    for band in band_layout(*padded, levels):
        name = "A" if band.level == 0 else f"{band.orientation[0].upper()}{band.level}"
        x = (band.cols.start + band.cols.stop) / 2 * scale_x - 0.5
        y = (band.rows.start + band.rows.stop) / 2 * scale_y - 0.5
        out.append((x, y, name, min(band.shape[0] / padded[0], band.shape[1] / padded[1])))
    return out


def plot_wavelet_map(
    ax: Any,
    wavelet_map: np.ndarray,
    levels: int,
    *,
    cmap: str = "jet",
    line_color: str = "white",
    gamma: float = 0.5,
    label_bands: bool = True,
    uncertain: np.ndarray | None = None,
) -> Any:
    """Draw a wavelet-domain map (WCAM, WAM) with the lines between its bands, each band named.

    The layout is pywt's ``coeffs_to_array``: the approximation ``A`` in the top-left corner, then for each level
    from 1 (coarsest) to ``levels`` (finest) its horizontal details ``H`` below the previous square, its vertical
    details ``V`` to the right and its diagonal details ``D`` on the diagonal. With ``label_bands`` the bands large
    enough to hold a label are named (white on a dark outline, readable on every colour) and the axes read
    "coarse -> fine".

    :param ax: Matplotlib axes.
    :param wavelet_map: ``H x W`` map in the wavelet layout.
    :param levels: Decomposition levels of the map.
    :param gamma: Colour ``∝ value**gamma`` between the map's minimum (at least 0) and maximum
        (``matplotlib.colors.PowerNorm``). The approximation band usually holds most of the variance, and
        the detail cells, an order of magnitude below it, are invisible on a linear scale (``gamma=1``).
    :param uncertain: ``H x W`` booleans: coefficients whose importance is not distinguishable from 0, drawn
        under a white veil with white hatching (visible on dark and bright colours alike).
    :return: The image artist (for a colour bar: :func:`add_colorbar`).
    """
    from matplotlib import patheffects
    from matplotlib.collections import LineCollection
    from matplotlib.colors import PowerNorm

    wavelet_map = np.asarray(wavelet_map)
    if wavelet_map.ndim != 2:
        raise ValueError(f"wavelet_map must be H x W, got shape {wavelet_map.shape}")
    gamma = check_float("gamma", gamma, 0.0)
    low = 0.0  # importance starts at 0: maps of several images or methods read alike
    high = float(np.nanmax(wavelet_map)) if wavelet_map.size else 1.0
    norm = PowerNorm(gamma, vmin=low, vmax=high if high > low else low + 1.0, clip=True)
    image = ax.imshow(wavelet_map, cmap=cmap, interpolation="nearest", norm=norm)
    if uncertain is not None and np.asarray(uncertain).any():
        draw_uncertain(ax, np.asarray(uncertain, dtype=bool))
    segments = level_line_segments(wavelet_map.shape[0], wavelet_map.shape[1], levels)
    ax.add_collection(LineCollection(segments, colors=line_color, linewidths=1.0))
    ax.set_xticks(())
    ax.set_yticks(())
    if label_bands:
        # sized to the axes (in points, as laid out when called): small panels name only their large bands
        width = ax.bbox.width * 72 / ax.figure.dpi
        outline = [patheffects.withStroke(linewidth=2.5, foreground="black")]
        for x, y, name, size in band_labels(*wavelet_map.shape, levels):
            if size * width >= 22:
                ax.text(x, y, name, ha="center", va="center", color="white", fontweight="bold",
                        fontsize=min(LABEL_SIZE, size * width / 2.6), path_effects=outline)  # fmt: skip
        if width >= 200:
            ax.set_xlabel("bands: A approximation, H / V / D details;\nlevel 1 (coarse, top left) to "
                          f"{levels} (fine, outer)", fontsize=LABEL_SIZE - 1)  # fmt: skip
    return image


def draw_uncertain(ax: Any, uncertain: np.ndarray) -> None:
    """Veil (white, 45 % opaque) and hatch (white) the ``True`` cells of an ``H x W`` mask drawn on ``ax``."""
    import matplotlib as mpl

    veil = np.zeros((*uncertain.shape, 4))
    veil[uncertain] = (1.0, 1.0, 1.0, 0.45)
    ax.imshow(veil, interpolation="nearest")
    with mpl.rc_context({"hatch.color": "white", "hatch.linewidth": 1.2}):  # matplotlib < 3.10 reads these
        hatched = ax.contourf(uncertain.astype(float), levels=[0.5, 1.5], colors="none", hatches=["////"])
    if hasattr(hatched, "set_hatchcolor"):
        hatched.set_hatchcolor("white")


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
    finite = sal_map[np.isfinite(sal_map)]
    low = min(0.0, float(finite.min())) if finite.size else 0.0  # a non-negative map's colours start at 0
    high = float(finite.max()) if finite.size else 1.0
    limits = {"vmin": low, "vmax": high if high > low else low + 1.0}
    if image is None:
        artist = ax.imshow(sal_map, cmap=cmap, **limits)
    else:
        grey = _grey(image)
        h, w = grey.shape
        ax.imshow(grey, cmap="gray", extent=(0, w, h, 0))
        artist = ax.imshow(sal_map, cmap=cmap, alpha=alpha, extent=(0, w, h, 0), **limits)
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
    ax.text(0.02, 0.98, space, transform=ax.transAxes, va="top", fontsize=LABEL_SIZE - 1, color="white", **PLAIN)
    ax.set_xticks(())
    ax.set_yticks(())
    return artist


def plot_image(ax: Any, image: np.ndarray, title: str | None = None) -> None:
    """Draw an image (``H x W`` grey or ``H x W x C``) without ticks.

    Integer images are drawn by their dtype's range (``uint16`` and ``bool`` read as the image sources read them,
    :func:`~xaitk_wcam.utils.images.integer_to_uint8`; other integers as ``0 .. 255``), never stretched to their own
    minimum and maximum; float images are stretched to theirs.
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 2 and image.dtype.kind in "biu":
        ax.imshow(_display(image), cmap="gray", vmin=0, vmax=255)
    elif image.ndim == 2:
        ax.imshow(image, cmap="gray")
    else:
        ax.imshow(_display(image[..., :3]))
    ax.set_xticks(())
    ax.set_yticks(())
    if title:
        ax.set_title(title, fontsize=TITLE_SIZE, **PLAIN)


def _display(image: np.ndarray) -> np.ndarray:
    if image.dtype.kind in "bu" and image.dtype.itemsize <= 2:
        from xaitk_wcam.utils.images import integer_to_uint8

        return integer_to_uint8(image, "image")
    if np.issubdtype(image.dtype, np.integer):  # no conventional range: 0 .. 255 assumed
        return np.clip(image, 0, 255).astype(np.uint8)
    lo, hi = float(image.min()), float(image.max())
    return (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image, dtype=np.float64)


def _grey(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3:
        image = image[..., :3].mean(axis=2)
    return image
