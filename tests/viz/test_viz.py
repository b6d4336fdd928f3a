"""Tests of the matplotlib figures (Agg, nothing shown)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from xaitk_wcam.viz import (
    level_line_segments,
    mean_and_band,
    plot_grouped_profiles,
    plot_image,
    plot_metric_curve,
    plot_scale_profile,
    plot_spatial_map,
    plot_wavelet_map,
    wcam_figure,
)


def _segments(height: int, width: int, levels: int) -> set[tuple[tuple[float, float], tuple[float, float]]]:
    return set(level_line_segments(height, width, levels))


def test_level_lines_of_a_two_level_layout() -> None:
    # 8 x 8, 2 levels: approximation 2 x 2 top-left, level-1 details 2 x 2, finest details 4 x 4.
    # Band edges (pixel-edge coordinates): x = 3.5 over the full height, x = 1.5 over the top half,
    # y = 3.5 over the full width, y = 1.5 over the left half.
    expected = {
        ((3.5, -0.5), (3.5, 7.5)),
        ((1.5, -0.5), (1.5, 3.5)),
        ((-0.5, 3.5), (7.5, 3.5)),
        ((-0.5, 1.5), (3.5, 1.5)),
    }
    assert _segments(8, 8, 2) == expected


def test_level_lines_of_a_cropped_layout() -> None:
    # a 6 x 7 map of a 3-level layout padded to 8 x 8: the same edges, clipped to the map
    segs = _segments(6, 7, 3)
    assert ((3.5, -0.5), (3.5, 5.5)) in segs  # the finest split, cut at the map's bottom
    assert ((-0.5, 3.5), (6.5, 3.5)) in segs
    assert ((0.5, -0.5), (0.5, 1.5)) in segs  # the approximation's 1 x 1 corner
    for (x0, y0), (x1, y1) in segs:
        assert -0.5 <= min(x0, x1) and max(x0, x1) <= 6.5 and -0.5 <= min(y0, y1) and max(y0, y1) <= 5.5


def test_level_lines_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="levels"):
        level_line_segments(8, 8, 0)
    with pytest.raises(ValueError, match="height and width"):
        level_line_segments(0, 8, 1)


def test_mean_and_band_by_hand() -> None:
    values = np.array([[1.0, 2.0, np.nan], [3.0, 4.0, 5.0]])
    mean, low, high = mean_and_band(values)
    np.testing.assert_allclose(mean, [2.0, 3.0, 5.0])
    # sem of (1, 3) and (2, 4): std (ddof 1) sqrt(2) / sqrt(2) = 1; one value: no band
    np.testing.assert_allclose(high - mean, [1.96, 1.96, 0.0])
    np.testing.assert_allclose(mean - low, [1.96, 1.96, 0.0])
    with pytest.raises(ValueError, match="n_images x n_strengths"):
        mean_and_band(np.zeros(3))


def test_drawing_functions_draw() -> None:
    fig = Figure()
    axes = fig.subplots(2, 3).ravel()
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    plot_image(axes[0], image, "img")
    artist = plot_wavelet_map(axes[1], rng.random((16, 16)), 2)
    assert artist.get_array().shape == (16, 16)
    low, high = artist.norm.vmin, artist.norm.vmax  # colour ∝ sqrt by default: the detail cells show
    assert artist.norm(0.25) == pytest.approx(((0.25 - low) / (high - low)) ** 0.5)
    assert len(axes[1].collections) == 1 and len(axes[1].collections[0].get_segments()) == 4
    plot_spatial_map(axes[2], image, rng.random((4, 4)))
    assert axes[2].images[-1].get_extent() == [0, 16, 16, 0]  # the map covers the image
    plot_scale_profile(axes[3], [0.5, 0.3, 0.2])
    assert [round(p.get_height(), 6) for p in axes[3].patches] == [0.5, 0.3, 0.2]
    plot_grouped_profiles(axes[4], {"ref": [0.5, 0.5], "k=3": [0.8, 0.2]})
    assert len(axes[4].patches) == 4
    plot_metric_curve(axes[5], [3, 5], np.array([[1.0, 2.0], [3.0, 4.0]]), label="m", reference=1.5)
    assert axes[5].lines[0].get_ydata().tolist() == [2.0, 3.0]
    fig.savefig(io.BytesIO(), format="png")


def test_drawing_functions_reject_bad_input() -> None:
    ax = Figure().subplots()
    with pytest.raises(ValueError, match="wavelet_map"):
        plot_wavelet_map(ax, np.zeros((2, 2, 2)), 1)
    with pytest.raises(ValueError, match="gamma"):
        plot_wavelet_map(ax, np.zeros((2, 2)), 1, gamma=0)
    plot_wavelet_map(ax, np.zeros((2, 2)), 1)  # a constant (all-zero) map draws
    with pytest.raises(ValueError, match="alpha"):
        plot_spatial_map(ax, None, np.zeros((2, 2)), alpha=2.0)
    with pytest.raises(ValueError, match="same length"):
        plot_grouped_profiles(ax, {"a": [1.0], "b": [0.5, 0.5]})
    with pytest.raises(ValueError, match="strengths"):
        plot_metric_curve(ax, [1, 2, 3], np.zeros((2, 2)), label="m")


def test_wcam_figure() -> None:
    rng = np.random.default_rng(1)
    fig = wcam_figure(
        rng.integers(0, 256, (32, 32, 3), dtype=np.uint8),
        rng.random((32, 32)),
        rng.random((32, 32)),
        np.array([0.4, 0.3, 0.2, 0.1]),
        3,
        title="cat",
    )
    assert len(fig.axes) == 5  # image, wavelet map, its colour bar, spatial map, profile
    assert fig.get_suptitle() == "cat"
    fig.savefig(io.BytesIO(), format="png")


def test_noise_floor_band_and_uncertain_cells_are_drawn() -> None:
    from fakes import CellEnergyClassifier, noise_image

    from xaitk_wcam import WCAM
    from xaitk_wcam.viz.curves import plot_metric_curve
    from xaitk_wcam.viz.figures import uncertain_cells, wcam_figure

    ax = Figure().subplots()
    plot_metric_curve(ax, [1, 2], np.array([[0.1, 0.2], [0.2, 0.3]]), label="m", noise_floor=(0.05, 0.15))
    spans = [p for p in ax.patches if p.get_hatch() == "///"]
    assert len(spans) == 1 and spans[0].get_y() == pytest.approx(0.05)  # the band, hatched, at the floor
    image = noise_image((32, 32, 3))
    result = WCAM(grid_size=4, nb_design=16, levels=2, batch_size=32, estimator="jansen").explain(
        image, CellEnergyClassifier(image, slice(16, 24), slice(0, 8), levels=2)
    )
    doubtful = uncertain_cells(result)
    assert doubtful.shape == (32, 32) and doubtful.any() and not doubtful[16:24, 0:8].all()  # the read cell is sure
    fig = wcam_figure(image, result.wavelet_maps[0], result.spatial_maps[0], result.scale_profile[0], 2,
                      uncertain=doubtful)  # fmt: skip
    fig.savefig(io.BytesIO(), format="png")
