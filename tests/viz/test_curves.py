"""Metric curves (``viz/curves.py``): the mean and its band over images, the noise floor (Agg)."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure

from xaitk_wcam.viz import mean_and_band, plot_metric_curve


def test_mean_and_band_by_hand() -> None:
    values = np.array([[1.0, 2.0, np.nan], [3.0, 4.0, 5.0]])
    mean, low, high = mean_and_band(values)
    np.testing.assert_allclose(mean, [2.0, 3.0, 5.0])
    # sem of (1, 3) and (2, 4): std (ddof 1) sqrt(2) / sqrt(2) = 1; one value: no band
    np.testing.assert_allclose(high - mean, [1.96, 1.96, 0.0])
    np.testing.assert_allclose(mean - low, [1.96, 1.96, 0.0])
    with pytest.raises(ValueError, match="n_images x n_strengths"):
        mean_and_band(np.zeros(3))


def test_an_infinite_value_makes_its_mean_infinite_without_a_warning() -> None:
    """The SSD of an empty map is inf: its column has no finite mean (nothing drawn there) and no band, and no
    numpy warning reaches the user (the detector example printed "invalid value encountered in subtract")."""
    values = np.array([[1.0, np.inf, np.nan], [3.0, 5.0, 2.0], [np.nan, 7.0, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean, low, high = mean_and_band(values)
    np.testing.assert_array_equal(mean, [2.0, np.inf, 2.0])
    assert np.isposinf(low[1]) and np.isposinf(high[1])
    np.testing.assert_allclose([mean[0] - low[0], high[0] - mean[0], high[2] - low[2]], [1.96, 1.96, 0.0])  # sem 1


def test_an_infinite_mean_is_a_triangle_on_the_top_edge_at_its_strength() -> None:
    fig = Figure()
    ax = fig.subplots()
    plot_metric_curve(ax, [3, 5, 7], np.array([[0.1, np.inf, 0.3], [0.2, 0.4, np.inf]]), label="m")
    (mean_line, edge) = ax.lines
    assert edge.get_marker() == "^" and edge.get_xdata().tolist() == [5.0, 7.0] and edge.get_ydata().tolist() == [1, 1]
    assert edge.get_color() == mean_line.get_color()
    assert ax.get_xlim()[0] < 3 and ax.get_xlim()[1] > 7  # the axis spans every strength, drawn or on the edge
    fig.savefig(io.BytesIO(), format="png")


def test_metric_curve_draws() -> None:
    fig = Figure()
    ax = fig.subplots()
    plot_metric_curve(ax, [3, 5], np.array([[1.0, 2.0], [3.0, 4.0]]), label="m", reference=1.5)
    assert ax.lines[0].get_ydata().tolist() == [2.0, 3.0]
    fig.savefig(io.BytesIO(), format="png")


def test_metric_curve_rejects_bad_input() -> None:
    ax = Figure().subplots()
    with pytest.raises(ValueError, match="strengths"):
        plot_metric_curve(ax, [1, 2, 3], np.zeros((2, 2)), label="m")


def test_noise_floor_band_is_drawn() -> None:
    ax = Figure().subplots()
    plot_metric_curve(ax, [1, 2], np.array([[0.1, 0.2], [0.2, 0.3]]), label="m", noise_floor=(0.05, 0.15))
    spans = [p for p in ax.patches if p.get_hatch() == "///"]
    assert len(spans) == 1 and spans[0].get_y() == pytest.approx(0.05)  # the band, hatched, at the floor
