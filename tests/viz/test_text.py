"""Text from data is plain text (``viz/text.py``): a ``$`` pair in an id or a label is not read as mathtext."""

from __future__ import annotations

import io

import pytest
from matplotlib.figure import Figure

from xaitk_wcam.viz.text import PLAIN, plain_legend


def _draw(fig: Figure) -> None:
    fig.savefig(io.BytesIO(), format="png")


def test_plain_legend_draws_entries_that_are_not_valid_mathtext() -> None:
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], label="a$^$b.png")
    ax.plot([1, 0], label="$x$")
    legend = plain_legend(ax, fontsize=6)
    assert [t.get_text() for t in legend.get_texts()] == ["a$^$b.png", "$x$"]
    assert all(not t.get_parse_math() for t in legend.get_texts())
    assert legend.get_texts()[0].get_fontsize() == 6  # the keyword arguments reach ax.legend
    _draw(fig)


def test_plain_keywords_make_a_title_plain_and_without_them_it_fails() -> None:
    fig = Figure()
    fig.subplots().set_title("a$^$b.png", **PLAIN)
    _draw(fig)
    broken = Figure()
    broken.subplots().set_title("a$^$b.png")
    with pytest.raises(ValueError):  # what PLAIN prevents: matplotlib parses the pair as mathtext
        _draw(broken)
