"""A grid of panels with its margins and gaps in inches: the layout of the study report's figures.

Matplotlib's constrained layout measures every tick label, title and legend of every panel, several times, each time
the figure is drawn: the report's nine-panel verdict figure took 2.16 s with it and takes 1.18 s on this grid. The
report's panels all carry the same decorations (small ticks, a title, axis labels), so fixed margins in inches place
them as well, and the figure grows with its grid instead of squeezing its panels.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np

from xaitk_wcam.viz.text import PLAIN


def panel_grid(
    n_rows: int,
    n_cols: int,
    panel: tuple[float, float],
    *,
    title: str = "",
    fontsize: float = 8,
    left: float = 0.7,
    right: float = 0.15,
    top: float = 0.45,
    bottom: float = 0.45,
    wgap: float = 0.8,
    hgap: float = 0.7,
) -> tuple[Any, np.ndarray]:
    """A new ``Figure`` of ``n_rows x n_cols`` axes, each ``panel`` (width, height) inches, with the given margins and
    gaps between panels in inches (``top`` holds the first row's titles; ``wgap``/``hgap`` a panel's y-axis label and
    ticks, its title and x-axis label), and ``title`` wrapped to the figure's width above them, as plain text.

    :return: The figure and its axes as an ``(n_rows, n_cols)`` array.
    """
    from matplotlib.figure import Figure

    width = left + right + n_cols * panel[0] + (n_cols - 1) * wgap
    # at most about 0.6 em per character of DejaVu Sans (0.62 with a margin); a line is 1.3 em high (72 points an inch)
    lines = textwrap.wrap(title, int(width * 72 / (0.62 * fontsize))) if title else []
    top += len(lines) * 1.3 * fontsize / 72
    height = top + bottom + n_rows * panel[1] + (n_rows - 1) * hgap
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        top=1 - top / height,
        bottom=bottom / height,
        wspace=wgap / panel[0],
        hspace=hgap / panel[1],
    )
    if lines:
        fig.suptitle("\n".join(lines), fontsize=fontsize, y=1 - 0.06 / height, va="top", **PLAIN)
    return fig, np.atleast_2d(fig.subplots(n_rows, n_cols, squeeze=False))
