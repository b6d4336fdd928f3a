"""Scale profiles (``viz/profiles.py``): one profile's bars, grouped profiles (Agg)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from xaitk_wcam.viz import plot_grouped_profiles, plot_scale_profile
from xaitk_wcam.viz.profiles import level_names


def test_profiles_draw() -> None:
    fig = Figure()
    axes = fig.subplots(1, 2).ravel()
    plot_scale_profile(axes[0], [0.5, 0.3, 0.2])
    assert [round(p.get_height(), 6) for p in axes[0].patches] == [0.5, 0.3, 0.2]
    plot_grouped_profiles(axes[1], {"ref": [0.5, 0.5], "k=3": [0.8, 0.2]})
    assert len(axes[1].patches) == 4
    fig.savefig(io.BytesIO(), format="png")


def test_profiles_reject_bad_input() -> None:
    ax = Figure().subplots()
    with pytest.raises(ValueError, match="same length"):
        plot_grouped_profiles(ax, {"a": [1.0], "b": [0.5, 0.5]})


def test_level_names_and_the_axes_they_label() -> None:
    assert level_names(1) == ["approx"] and level_names(4) == ["approx", "L1", "L2", "L3"]
    ax = Figure().subplots()
    plot_scale_profile(ax, np.array([0.1, 0.7, 0.2]), label="wcam")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["approx", "L1", "L2"]
    assert ax.get_ylim() == (0.0, 1.0)
    with pytest.raises(ValueError, match="1-D"):
        plot_scale_profile(ax, np.zeros((2, 2)))
    grouped = Figure().subplots()
    plot_grouped_profiles(grouped, {"a$^$b": [0.5, 0.5], "c": [0.2, 0.8]}, title="x$_1$")
    bars = sorted(grouped.patches, key=lambda p: p.get_x())
    assert [round(p.get_width(), 6) for p in bars] == [0.4] * 4 and bars[0].get_x() == pytest.approx(-0.4)
    assert [t.get_text() for t in grouped.get_legend().get_texts()] == ["a$^$b", "c"]
    assert grouped.get_title() == "x$_1$"
    grouped.figure.savefig(io.BytesIO(), format="png")  # data strings are plain text, not mathtext
    with pytest.raises(ValueError, match="at least one"):
        plot_grouped_profiles(grouped, {})
