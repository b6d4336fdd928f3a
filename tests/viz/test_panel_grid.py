"""The report's panel grid: panels of the asked size in inches, a title wrapped inside the figure above them."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from xaitk_wcam.viz.layout import panel_grid


def _inches(fig, ax) -> tuple[float, float, float, float]:
    box = ax.get_position()  # figure fractions
    width, height = fig.get_size_inches()
    return box.x0 * width, box.y0 * height, box.width * width, box.height * height


def test_panels_have_the_asked_size_and_gaps_in_inches() -> None:
    fig, axes = panel_grid(2, 3, (2.5, 2.0), left=0.7, right=0.6, top=0.45, bottom=0.45, wgap=1.3, hgap=0.7)
    assert axes.shape == (2, 3)
    assert fig.get_size_inches() == pytest.approx((0.7 + 0.6 + 3 * 2.5 + 2 * 1.3, 0.45 + 0.45 + 2 * 2.0 + 0.7))
    x0, y0, w, h = _inches(fig, axes[1, 0])
    assert (x0, y0, w, h) == pytest.approx((0.7, 0.45, 2.5, 2.0))
    right_of_first = _inches(fig, axes[0, 1])[0] - sum(_inches(fig, axes[0, 0])[::2])
    assert right_of_first == pytest.approx(1.3)


@pytest.mark.parametrize(("n_cols", "fontsize"), [(1, 8), (1, 9), (3, 8), (3, 9)])
def test_a_long_title_wraps_inside_the_figure_and_the_panels_move_down(n_cols: int, fontsize: float) -> None:
    short, _ = panel_grid(1, n_cols, (3.0, 2.0), title="a title", fontsize=fontsize)
    title = "Does each map move beyond its noise? Mean change beyond the noise floor, 90 % interval. " * 4 + "$x$"
    fig, axes = panel_grid(1, n_cols, (3.0, 2.0), title=title, fontsize=fontsize)
    (suptitle,) = fig.texts
    assert len(suptitle.get_text().split("\n")) > 2 and fig.get_size_inches()[1] > short.get_size_inches()[1]
    renderer = FigureCanvasAgg(fig).get_renderer()
    box = suptitle.get_window_extent(renderer)
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width  # no line runs off the figure
    assert box.y0 >= axes[0, 0].get_window_extent(renderer).y1  # above the panels (and their titles' margin)
    assert not suptitle.get_parse_math()  # plain text: the "$" stay
    assert np.isclose(_inches(fig, axes[0, 0])[2], 3.0)
