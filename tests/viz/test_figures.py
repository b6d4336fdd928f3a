"""The WCAM figure (``viz/figures.py``): panels, titles, per-level maps, uncertain cells (Agg)."""

from __future__ import annotations

import io

import numpy as np

from xaitk_wcam.viz import wcam_figure


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
    # image, wavelet map and its colour bar, spatial map and its colour bar, profile; 4 level maps and their bar
    assert len(fig.axes) == 11
    colorbars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(colorbars) == 3
    assert fig.get_suptitle() == "cat"
    titles = [ax.title for ax in fig.axes if ax.get_title()]
    assert len(titles) == 8 and min(t.get_fontsize() for t in titles) >= 10
    assert [t.get_text() for t in titles[-4:]] == [
        "approximation: share 0.40", "level 1 (coarse): share 0.30", "level 2: share 0.20", "level 3 (fine): share 0.10"
    ]  # fmt: skip
    fig.savefig(io.BytesIO(), format="png")
    compact = wcam_figure(np.zeros((32, 32)), rng.random((32, 32)), rng.random((32, 32)), np.ones(3) / 3, 2,
                          per_level=False, method="WAM")  # fmt: skip
    assert len(compact.axes) == 6 and compact.axes[1].get_title() == "WAM, wavelet domain"


def test_uncertain_cells_are_drawn() -> None:
    from fakes import CellEnergyClassifier, noise_image

    from xaitk_wcam import WCAM
    from xaitk_wcam.viz.figures import uncertain_cells, wcam_figure

    image = noise_image((32, 32, 3))
    result = WCAM(grid_size=4, nb_design=16, levels=2, batch_size=32, estimator="jansen").explain(
        image, CellEnergyClassifier(image, slice(16, 24), slice(0, 8), levels=2)
    )
    doubtful = uncertain_cells(result)
    assert doubtful.shape == (32, 32) and doubtful.any() and not doubtful[16:24, 0:8].all()  # the read cell is sure
    fig = wcam_figure(image, result.wavelet_maps[0], result.spatial_maps[0], result.scale_profile[0], 2,
                      uncertain=doubtful)  # fmt: skip
    fig.savefig(io.BytesIO(), format="png")
