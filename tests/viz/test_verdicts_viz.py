"""The verdict panel of a sweep (``viz/verdicts.py``): change beyond the noise per strength, the break rate."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from xaitk_wcam.viz.verdicts import plot_break_rate, plot_change_beyond_noise


def test_change_beyond_noise_marks_moves_filled_and_the_rest_hollow() -> None:
    fig = Figure()
    ax = fig.subplots()
    plot_change_beyond_noise(ax, [1, 2, 3], [0.1, 0.4, np.nan], [0.0, 0.3, np.nan], [0.3, 0.6, np.nan],
                             [False, True, False], label="SSD")  # fmt: skip
    curve, filled, hollow, zero = (line for line in ax.lines if line.get_marker() != "_")  # caps left out
    assert curve.get_label() == "SSD" and curve.get_ydata()[:2].tolist() == [0.1, 0.4]
    assert filled.get_xdata().tolist() == [2.0] and filled.get_ydata().tolist() == [0.4]
    assert hollow.get_xdata().tolist() == [1.0, 3.0] and hollow.get_markerfacecolor() == "white"
    assert filled.get_marker() == hollow.get_marker() == "o" and filled.get_markerfacecolor() != "white"
    assert list(zero.get_ydata()) == [0.0, 0.0] and zero.get_linestyle() == ":"
    assert filled.get_color() == curve.get_color() == hollow.get_color()
    bars = ax.containers[0]  # the error bars: from low to high, none where there is no value
    segments = bars.lines[2][0].get_segments()
    np.testing.assert_allclose(segments[0][:, 1], [0.0, 0.3])
    np.testing.assert_allclose(segments[1][:, 1], [0.3, 0.6])
    fig.savefig(io.BytesIO(), format="png")


def test_change_beyond_noise_needs_one_value_per_strength() -> None:
    ax = Figure().subplots()
    with pytest.raises(ValueError, match="one value per strength"):
        plot_change_beyond_noise(ax, [1, 2], [0.1], [0.0], [0.2], [True], label="SSD")


def test_break_rate_is_on_a_twin_axis_in_0_1() -> None:
    fig = Figure()
    ax = fig.subplots()
    twin = plot_break_rate(ax, [1, 2, 3], [0.0, 0.5, 1.0], label="model broke")
    assert twin is not ax and twin.get_shared_x_axes().joined(twin, ax)
    assert twin.get_ylim() == (-0.05, 1.05) and twin.get_ylabel() == "model broke"
    (line,) = twin.lines
    assert line.get_ydata().tolist() == [0.0, 0.5, 1.0] and line.get_linestyle() == "--" and not ax.lines
    fig.savefig(io.BytesIO(), format="png")
