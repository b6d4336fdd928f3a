"""Maps on axes (``viz/maps.py``): wavelet maps with their level lines and band names, spatial maps, colour bars
(Agg, nothing shown)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from xaitk_wcam.viz import (
    level_line_segments,
    plot_image,
    plot_spatial_map,
    plot_wavelet_map,
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


def test_drawing_functions_draw() -> None:
    fig = Figure()
    axes = fig.subplots(1, 3).ravel()
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


def test_colour_bar_ticks_are_even_on_the_square_root_scale() -> None:
    from matplotlib.colors import PowerNorm

    from xaitk_wcam.viz.maps import power_ticks

    ticks = power_ticks(0.0, 1.0, 0.5)
    assert ticks == [0.0, 0.062, 0.25, 0.56, 1.0]  # two significant digits
    np.testing.assert_allclose(PowerNorm(0.5, 0.0, 1.0)(ticks), np.linspace(0, 1, 5), atol=0.01)
    assert power_ticks(2.0, 2.0, 0.5) == [2.0]


def test_band_labels_name_every_band_where_it_is() -> None:
    from xaitk_wcam.viz.maps import band_labels

    labels = {name: (x, y, size) for x, y, name, size in band_labels(8, 8, 2)}
    assert set(labels) == {"A", "H1", "V1", "D1", "H2", "V2", "D2"}
    assert labels["A"] == (0.5, 0.5, 0.25)  # the 2 x 2 corner
    assert labels["H1"][:2] == (0.5, 2.5) and labels["V1"][:2] == (2.5, 0.5)  # pywt: H below, V to the right
    assert labels["D2"] == (5.5, 5.5, 0.5)
    assert band_labels(6, 7, 3)[0][:3] == (7 / 8 * 0.5 - 0.5, 6 / 8 * 0.5 - 0.5, "A")  # a padded, resampled map


def test_wavelet_map_names_the_bands_its_panel_can_hold() -> None:
    rng = np.random.default_rng(2)
    big = Figure(figsize=(6, 6)).subplots()
    plot_wavelet_map(big, rng.random((64, 64)), 3)
    assert {t.get_text() for t in big.texts} == {"A", "H1", "V1", "D1", "H2", "V2", "D2", "H3", "V3", "D3"}
    assert "coarse" in big.get_xlabel()
    small = Figure(figsize=(1.5, 1.5)).subplots()
    plot_wavelet_map(small, rng.random((64, 64)), 3)
    assert {t.get_text() for t in small.texts} == {"H3", "V3", "D3"} and small.get_xlabel() == ""
    plain = Figure(figsize=(6, 6)).subplots()
    plot_wavelet_map(plain, rng.random((64, 64)), 3, label_bands=False)
    assert not plain.texts


def test_uncertain_cells_are_veiled_and_hatched_in_white() -> None:
    ax = Figure().subplots()
    uncertain = np.zeros((16, 16), dtype=bool)
    uncertain[:8, 8:] = True
    plot_wavelet_map(ax, np.zeros((16, 16)), 2, uncertain=uncertain)  # black under the veil: still visible
    veil = ax.images[-1].get_array()
    assert veil.shape == (16, 16, 4) and np.all(veil[:8, 8:, 3] == 0.45) and np.all(veil[8:, :, 3] == 0)
    hatched = [c for c in ax.collections if getattr(c, "hatches", None)]
    assert len(hatched) == 1 and hatched[0].hatches == ["////"]
    if hasattr(hatched[0], "get_hatchcolor"):  # matplotlib >= 3.10
        np.testing.assert_allclose(np.asarray(hatched[0].get_hatchcolor()).reshape(-1, 4)[0], [1, 1, 1, 1])


def test_spatial_maps_start_at_zero_and_every_colour_bar_is_opaque() -> None:
    from xaitk_wcam.viz.maps import add_colorbar

    fig = Figure()
    ax = fig.subplots()
    artist = plot_spatial_map(ax, np.zeros((8, 8, 3), np.uint8), np.full((8, 8), 0.5) + np.eye(8) * 0.5)
    assert artist.get_clim() == (0.0, 1.0)
    bar = add_colorbar(fig, ax, artist, "importance")
    assert bar.mappable is not artist and bar.mappable.get_alpha() in (None, 1) and artist.get_alpha() == 0.5
    assert bar.mappable.norm is artist.norm and bar.mappable.get_cmap() is artist.get_cmap()


def test_integer_images_are_drawn_by_their_dtype_never_by_their_values() -> None:
    """A 16-bit image is drawn as the sources read it (its full range onto 0-255), and a dark grey image stays dark
    (matplotlib would stretch it to its own minimum and maximum)."""
    from xaitk_wcam.utils.images import integer_to_uint8

    fig = Figure()
    colour, grey = fig.subplots(1, 2)
    sixteen = np.array([[[0, 256, 65535], [255, 1000, 30000]]], dtype=np.uint16)
    plot_image(colour, sixteen)
    np.testing.assert_array_equal(colour.images[0].get_array(), integer_to_uint8(sixteen, "x"))
    plot_image(grey, np.array([[10, 20], [30, 40]], dtype=np.uint8))
    assert grey.images[0].get_clim() == (0, 255)
