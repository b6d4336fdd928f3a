"""Known-answer scoring: geometry of the space-scale pointing game, and the benchmark's two expectations."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from xaitk_wcam import WCAM
from xaitk_wcam.datasets import ScaleShapesSample, scale_shapes
from xaitk_wcam.evaluation.known_answer import (
    approximation_cells,
    coefficient_geometry,
    cue_cells,
    cue_pixels,
    decision_shares,
    pointing_game,
    saliency_pointing_game,
    wcam_known_answer,
)
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.random import RandomSaliency
from xaitk_wcam.models.scale_shapes import scale_shapes_classifier
from xaitk_wcam.wavelets.layout import level_index_map


def sample(shape_box, texture_box, texture_level=3, label=0):
    return ScaleShapesSample(
        image=np.zeros((64, 64, 3), dtype=np.uint8),
        label=label,
        shape_label=label,
        texture_label=label,
        shape_box=shape_box,
        texture_box=texture_box,
        shape_levels=(0, 1),
        texture_level=texture_level,
        levels=3,
    )


def test_coefficient_geometry():
    level, rows, cols = coefficient_geometry(64, 64, 3)
    np.testing.assert_array_equal(level, level_index_map(64, 64, 3))
    # Approximation coefficient (2, 5) covers pixels rows 16..24, cols 40..48.
    assert tuple(rows[2, 5]) == (16, 24) and tuple(cols[2, 5]) == (40, 48)
    # Level-3 diagonal coefficient at layout (32 + 3, 32 + 7): pixel rows 6..8, cols 14..16.
    assert level[35, 39] == 3 and tuple(rows[35, 39]) == (6, 8) and tuple(cols[35, 39]) == (14, 16)
    # Level-2 vertical coefficient at layout (1, 16 + 2): rows 4..8, cols 8..12.
    assert level[1, 18] == 2 and tuple(rows[1, 18]) == (4, 8) and tuple(cols[1, 18]) == (8, 12)


def test_cue_cells_by_hand():
    # grid 8 on a 64 x 64 layout: the approximation and each level-1 band are one cell; level-2 bands 2 x 2
    # cells of 32 px; level-3 bands 4 x 4 cells of 16 px.
    s = sample(shape_box=(40, 40, 64, 64), texture_box=(0, 0, 16, 16), texture_level=3)
    shape, texture = cue_cells([s], 8)
    assert {tuple(c) for c in np.argwhere(shape[0])} == {(0, 0), (1, 0), (0, 1), (1, 1)}
    assert {tuple(c) for c in np.argwhere(texture[0])} == {(4, 0), (0, 4), (4, 4)}
    # A level-2 texture straddling the 32 px boundary touches 2 x 2 cells in each of the three level-2 bands.
    s2 = sample(shape_box=(0, 0, 20, 20), texture_box=(28, 28, 36, 36), texture_level=2)
    _, texture2 = cue_cells([s2], 8)
    expected = {(r, c) for r0, c0 in ((2, 0), (0, 2), (2, 2)) for r in (r0, r0 + 1) for c in (c0, c0 + 1)}
    assert {tuple(c) for c in np.argwhere(texture2[0])} == expected
    # A finer grid splits the approximation: a shape in the bottom-right quadrant meets one of its 2 x 2 cells.
    shape16, _ = cue_cells([s], 16)
    assert shape16[0, :2, :2].sum() == 1 and shape16[0, 1, 1]


def test_approximation_cells():
    assert {tuple(c) for c in np.argwhere(approximation_cells(64, 64, 3, 8))} == {(0, 0)}
    assert {tuple(c) for c in np.argwhere(approximation_cells(64, 64, 3, 16))} == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert not approximation_cells(64, 64, 3, 4).any()  # a 16 x 16 cell holds details too


def test_cue_pixels():
    shape, texture = cue_pixels([sample((1, 2, 5, 7), (8, 8, 12, 20))])
    assert shape.sum() == 4 * 5 and shape[0, 2, 1] and not shape[0, 7, 1]
    assert texture.sum() == 4 * 12 and texture[0, 19, 11] and not texture[0, 20, 11]


def test_pointing_game_scores_and_ties():
    shape = np.zeros((2, 4, 4), dtype=bool)
    texture = np.zeros((2, 4, 4), dtype=bool)
    shape[:, 0, 0] = True
    texture[:, 3, :] = True
    maps = np.zeros((2, 4, 4))
    maps[0, 0, 0] = 1.0  # on the shape
    maps[1, 3, 0] = maps[1, 1, 1] = 2.0  # a tie: one on the texture, one on nothing
    game = pointing_game(maps, shape, texture)
    np.testing.assert_allclose(game.shape, [1.0, 0.0])
    np.testing.assert_allclose(game.texture, [0.0, 0.5])
    np.testing.assert_allclose(game.hit, [1.0, 0.5])
    np.testing.assert_allclose(game.chance, [5 / 16, 5 / 16])
    assert game.summary()["hit"] == pytest.approx(0.75)
    # Restricted to the last two rows: image 0's maximum (on the shape) is excluded and its 8 allowed cells tie
    # at 0, 4 of them on the texture row; image 1's tie loses its cell outside the rows.
    valid = np.zeros((4, 4), dtype=bool)
    valid[2:] = True
    restricted = pointing_game(maps, shape, texture, valid=valid)
    np.testing.assert_allclose(restricted.texture, [0.5, 1.0])
    np.testing.assert_allclose(restricted.chance, [0.5, 0.5])
    with pytest.raises(ValueError, match="valid"):
        pointing_game(maps, shape, texture, valid=np.zeros((4, 4), dtype=bool))
    with pytest.raises(ValueError, match="N x A x B"):
        pointing_game(maps[0], shape[0], texture[0])
    with pytest.raises(ValueError, match="finite"):
        pointing_game(np.full((2, 4, 4), np.nan), shape, texture)


def test_decision_shares():
    samples = scale_shapes(4, seed=0, split="cue_conflict")
    predicted = [samples[0].shape_label, samples[1].texture_label, samples[2].shape_label, 99]
    shares = decision_shares(predicted, samples)
    assert shares == {"shape": 0.5, "texture": 0.25, "neither": 0.25, "shape_bias": pytest.approx(2 / 3)}
    with pytest.raises(ValueError, match="predicted"):
        decision_shares([0, 1], samples)


def test_wrong_input():
    samples = scale_shapes(2, seed=0)
    with pytest.raises(ValueError, match="grid_size"):
        cue_cells(samples, 65)
    with pytest.raises(ValueError, match="empty"):
        cue_pixels([])
    with pytest.raises(ValueError, match="levels"):
        cue_cells(samples + scale_shapes(1, seed=0, levels=2), 8)
    classifier = scale_shapes_classifier("standard", device="cpu")
    with pytest.raises(ValueError, match="levels"):
        wcam_known_answer(WCAM(levels=2, grid_size=8, nb_design=2), classifier, samples)


# ---------------------------------------------------------------- the benchmark's expectations, reduced size


@pytest.fixture(scope="module")
def explained():
    """WCAM on 12 held-out images per shipped model (grid 16, N = 4: 1,032 passes per image)."""
    samples = scale_shapes(12, seed=1, split="test")
    wcam = WCAM(grid_size=16, nb_design=4, levels=3, batch_size=516, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return {
            kind: wcam_known_answer(wcam, scale_shapes_classifier(kind, device="cpu", batch_size=516), samples)
            for kind in ("standard", "robust")
        }


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["standard", "robust"])
def test_space_scale_pointing_far_above_chance(explained, kind):
    game = explained[kind].space_scale.summary()
    assert game["chance"] < 0.15
    assert game["hit"] > 3 * game["chance"]


@pytest.mark.slow
@pytest.mark.e2e
def test_robust_model_relies_on_coarser_scales(explained):
    robust, standard = explained["robust"].coarse_share(), explained["standard"].coarse_share()
    assert robust.mean() > standard.mean() + 0.1
    # The shape-biased model's maxima fall on the shape (at its coarse levels), not on the texture.
    game = explained["robust"].space_scale.summary()
    assert game["shape"] > game["texture"]


@pytest.mark.slow
@pytest.mark.e2e
def test_detail_maxima_find_the_cue_each_model_uses(explained):
    """Among detail coefficients, WCAM's maximum is on the texture (at its level) for the texture-biased
    model and on the shape (at level 1) for the shape-biased one, as the cue-conflict decisions say."""
    standard = explained["standard"].space_scale_details.summary()
    robust = explained["robust"].space_scale_details.summary()
    assert standard["texture"] > 0.5 > standard["shape"]
    assert robust["shape"] > 0.5 > robust["texture"]
    assert min(standard["hit"], robust["hit"]) > 3 * max(standard["chance"], robust["chance"])


def test_random_saliency_pixel_game_runs():
    samples = scale_shapes(8, seed=2, split="test")
    classifier = scale_shapes_classifier("robust", device="cpu")
    game = saliency_pointing_game(RandomSaliency(seed=0), classifier, samples)
    assert game.hit.shape == (8,) and np.all((game.hit == 0) | (game.hit == 1))
    np.testing.assert_allclose(game.chance, (cue_pixels(samples)[0] | cue_pixels(samples)[1]).mean(axis=(1, 2)))
