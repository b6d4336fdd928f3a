"""The per-image rule "moved beyond noise" and the warning margin: closed forms, the conformal level, wrong input."""

from __future__ import annotations

import numpy as np
import pytest

from xaitk_wcam.statistics.margin import (
    FLIP_ONLY,
    INCOMPLETE,
    MAP_AFTER,
    MAP_FIRST,
    MAP_ONLY,
    MARGIN_CLASSES,
    NEITHER,
    SAME_STRENGTH,
    NoiseThreshold,
    WarningMargin,
    noise_threshold,
    warning_margin,
)


def test_threshold_is_the_conformal_order_statistic():
    rng = np.random.default_rng(3)
    noise = rng.permutation(np.arange(1.0, 40.0))  # m = 39: k = ceil(40 * 0.95) = 38
    rule = noise_threshold(noise)
    assert isinstance(rule, NoiseThreshold)
    assert rule.threshold == 38.0 and rule.level == pytest.approx(2 / 40) and rule.n_noise == 39
    assert noise_threshold(np.arange(1.0, 20.0)).threshold == 19.0  # m = 19: the largest, level 1/20
    assert noise_threshold(np.arange(1.0, 20.0)).level == pytest.approx(0.05)
    few = noise_threshold([0.3, 0.1, np.nan, 0.2])  # m = 3 < 19: the largest, and a level above alpha
    assert few.threshold == 0.3 and few.level == pytest.approx(1 / 4) and few.n_noise == 3
    assert noise_threshold(np.arange(1.0, 40.0), alpha=0.25).threshold == 30.0  # ceil(40 * 0.75)
    deterministic = noise_threshold(np.zeros(6))
    assert deterministic.threshold == 0.0 and deterministic.level == 0.0
    empty = noise_threshold([np.nan, np.inf])
    assert np.isnan(empty.threshold) and empty.n_noise == 0
    assert np.isnan(empty.moved([0.5])).all()


def test_moved_keeps_shape_and_missing_values():
    rule = noise_threshold(np.arange(1.0, 20.0))  # threshold 19
    out = rule.moved(np.array([[19.0, 19.5], [np.nan, 30.0]]))
    np.testing.assert_array_equal(out, [[0.0, 1.0], [np.nan, 1.0]])
    deterministic = noise_threshold(np.zeros(5))
    np.testing.assert_array_equal(deterministic.moved([0.0, 1e-12, 1e-3]), [0.0, 0.0, 1.0])  # rounding is no move
    with pytest.raises(TypeError, match="changes"):
        rule.moved(["a"])


def test_false_move_rate_is_at_most_alpha():
    """An unmoved image's change drawn like the noise-floor changes reads "moved" alpha of the time (exactly, for
    continuous changes and m = 99), for any distribution: 2000 seeded studies, within 3.5 Monte Carlo standard errors.
    Comparing with the image's own draw would give 50 %."""
    rng = np.random.default_rng(8)
    conformal, own = [], []
    for _ in range(2000):
        noise = rng.lognormal(-2.0, 1.0, 99)
        change = rng.lognormal(-2.0, 1.0)
        conformal.append(noise_threshold(noise).moved(change) == 1.0)
        own.append(change > noise[0])
    se = np.sqrt(0.05 * 0.95 / 2000)
    assert abs(np.mean(conformal) - 0.05) <= 3.5 * se
    assert 0.45 <= np.mean(own) <= 0.55


KNOWN_FLIPS = np.array(
    [[0, 0, 1, 1], [0, 0, 0, 0], [0, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0], [0, np.nan, 1, 1], [0, 1, 1, 1]]
)
KNOWN_MOVES = np.array(
    [[0, 1, 1, 1], [0, 0, 1, 1], [0, 1, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 1]]
)


def test_warning_margin_known_answer():
    result = warning_margin(KNOWN_FLIPS, KNOWN_MOVES, [1, 3, 5, 7])
    assert isinstance(result, WarningMargin)
    assert result.classes == (MAP_FIRST, MAP_ONLY, SAME_STRENGTH, FLIP_ONLY, NEITHER, INCOMPLETE, MAP_AFTER)
    np.testing.assert_array_equal(result.first_flip, [5, np.nan, 3, 7, np.nan, np.nan, 3])
    np.testing.assert_array_equal(result.first_move, [3, 5, 3, np.nan, np.nan, np.nan, 7])
    np.testing.assert_array_equal(result.lead_steps, [1, np.nan, 0, np.nan, np.nan, np.nan, -2])
    assert list(result.counts) == list(MARGIN_CLASSES)
    assert result.counts == {
        MAP_FIRST: 1,
        SAME_STRENGTH: 1,
        MAP_AFTER: 1,
        MAP_ONLY: 1,
        FLIP_ONLY: 1,
        NEITHER: 1,
    }
    assert result.n_images == 6 and result.n_incomplete == 1 and sum(result.counts.values()) == 6
    assert result.strengths == (1.0, 3.0, 5.0, 7.0) and not result.sustained


def test_sustained_ignores_a_move_that_does_not_last():
    result = warning_margin(KNOWN_FLIPS, KNOWN_MOVES, sustained=True)
    assert result.classes[2] == MAP_AFTER  # image 2's map moved at 1, fell back at 2, moved again at 3
    assert result.first_move[2] == 3.0 and result.strengths == (0.0, 1.0, 2.0, 3.0)
    assert result.classes[0] == MAP_FIRST and result.sustained


def test_bools_and_a_falling_parameter():
    flips = np.array([[False, False, True], [False, False, False]])
    moves = np.array([[False, True, True], [False, False, False]])
    quality = [90, 50, 10]  # a JPEG quality falls as the perturbation grows
    result = warning_margin(flips, moves, quality)
    assert result.classes == (MAP_FIRST, NEITHER)
    assert result.first_flip[0] == 10.0 and result.first_move[0] == 50.0


def test_wrong_input():
    good = np.zeros((3, 4))
    with pytest.raises(ValueError, match="images x strengths alike"):
        warning_margin(good, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="flipped must be 2-dimensional"):
        warning_margin(np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="moved must be bools or 0/1"):
        warning_margin(good, np.full((3, 4), 0.5))
    with pytest.raises(TypeError, match="moved"):
        warning_margin(good, [["a"] * 4] * 3)
    with pytest.raises(ValueError, match="one value per column"):
        warning_margin(good, good, [1, 2, 3])
    with pytest.raises(ValueError, match="strictly monotonic"):
        warning_margin(good, good, [1, 3, 3, 5])
    with pytest.raises(TypeError, match="sustained"):
        warning_margin(good, good, sustained=1)
    with pytest.raises(ValueError, match="alpha"):
        noise_threshold([0.1], alpha=0.7)
    with pytest.raises(ValueError, match="noise_changes"):
        noise_threshold(np.zeros((2, 2)))
