"""The paired, one-sided verdict: closed-form values, known answers, its false-alarm rate, wrong input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import t as student_t
from scipy.stats import ttest_1samp

from xaitk_wcam.statistics.paired import (
    ALPHA,
    MIN_IMAGES,
    MOVES,
    TOO_FEW_IMAGES,
    VERDICTS,
    WITHIN_NOISE,
    PairedVerdict,
    minimum_images,
    paired_verdict,
)


def test_constants():
    assert VERDICTS == ("moves", "within noise", "too few images")
    assert ALPHA == 0.05 and MIN_IMAGES == 5
    assert minimum_images(0.05) == 5 and minimum_images(0.01) == 7 and minimum_images(0.0625) == 4
    assert minimum_images(0.49) == 2  # a t interval needs two values
    for alpha in (0.05, 0.01, 0.1):  # the smallest n at which an exact sign-flip test can reach alpha
        n = minimum_images(alpha)
        assert 0.5**n <= alpha < 0.5 ** (n - 1)


def test_closed_form_t_interval_and_p_value():
    perturbed = np.array([0.30, 0.42, 0.51, 0.64, 0.22, 0.38])
    noise = np.array([0.10, 0.12, 0.25, 0.11, 0.05, 0.30])
    d = perturbed - noise
    n, mean, se = d.size, d.mean(), d.std(ddof=1) / np.sqrt(d.size)
    q = student_t.ppf(0.95, n - 1)
    result = paired_verdict(perturbed, noise)
    assert isinstance(result, PairedVerdict)
    assert result.n_images == 6 and result.n_missing == 0 and result.min_images == 5 and result.alpha == 0.05
    assert result.change == pytest.approx(mean)
    assert result.ci_low == pytest.approx(mean - q * se)
    assert result.ci_high == pytest.approx(mean + q * se)
    assert result.p_value == pytest.approx(ttest_1samp(d, 0.0, alternative="greater").pvalue)
    assert result.p_value == pytest.approx(student_t.sf(mean / se, n - 1))
    assert result.verdict == MOVES
    assert result.as_row() == {
        "n_images": 6,
        "change": result.change,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "p_value": result.p_value,
        "verdict": MOVES,
    }
    # ci_low is the one-sided interval's bound
    assert result.ci_low == pytest.approx(ttest_1samp(d, 0.0, alternative="greater").confidence_interval(0.95).low)
    assert paired_verdict(perturbed, noise, alpha=0.01).verdict == TOO_FEW_IMAGES  # 7 images at alpha 0.01
    wider = paired_verdict(perturbed, noise, alpha=0.01, min_images=5)
    assert wider.ci_low < result.ci_low and wider.p_value == pytest.approx(result.p_value)


def test_identical_maps_never_move():
    zeros = np.zeros(8)
    for noise in (zeros, np.random.default_rng(0).random(8)):  # deterministic, and one draw compared with itself
        result = paired_verdict(noise, noise)
        assert result.verdict == WITHIN_NOISE and result.change == 0.0 and result.p_value == 1.0
        assert result.ci_low == result.ci_high == 0.0
    rounding = np.array([2.2e-16, 0.0, 1.1e-16, 4.4e-16, 2.2e-16, 3.3e-16])  # 1 - XCorr(a, a) in floats
    assert paired_verdict(rounding, np.zeros(6)).verdict == WITHIN_NOISE
    assert paired_verdict(rounding, np.zeros(6), atol=0.0).verdict == MOVES  # why atol exists


def test_a_clear_shift_moves_and_a_closer_map_does_not():
    rng = np.random.default_rng(1)
    noise = rng.gamma(2.0, 0.05, 20)
    moved = paired_verdict(noise + 0.2 + rng.normal(0, 0.02, 20), noise)
    assert moved.verdict == MOVES and moved.ci_low > 0.15 and moved.p_value < 1e-10
    closer = paired_verdict(noise - 0.1 + rng.normal(0, 0.02, 20), noise)  # more like the reference than a draw
    assert closer.verdict == WITHIN_NOISE and closer.change < 0 and closer.p_value > 0.99


def test_deterministic_method_noise_is_zero():
    constant = paired_verdict(np.full(6, 0.3), np.zeros(6))  # every map moved by the same amount
    assert constant.verdict == MOVES and constant.p_value == 0.0 and constant.ci_low == constant.ci_high == 0.3
    negative = paired_verdict(np.full(6, -0.3), np.zeros(6))
    assert negative.verdict == WITHIN_NOISE and negative.p_value == 1.0
    one_image = paired_verdict([0.0, 0.0, 0.0, 0.0, 0.0, 0.9], np.zeros(6))  # one image of six moved
    assert one_image.verdict == WITHIN_NOISE


def test_null_false_alarm_rate_is_at_most_nominal():
    """A perturbation whose change is another noise draw: "moves" at most at the nominal 5 % (1000 seeded studies).

    Images differ in noise level (log-normal), changes are >= 0 and skewed; the binomial standard error of a
    5 % rate over 1000 trials is 0.7 %, so 6.5 % is more than two of them above nominal."""
    rng = np.random.default_rng(2024)
    for n in (5, 12):
        hits = 0
        for _ in range(1000):
            scale = rng.lognormal(0.0, 1.0, n)
            result = paired_verdict(scale * rng.gamma(2.0, 0.5, n), scale * rng.gamma(2.0, 0.5, n))
            hits += result.verdict == MOVES
            assert (result.verdict == MOVES) == (result.p_value < ALPHA)  # interval and p-value agree
        assert hits / 1000 <= 0.065, (n, hits)
        assert hits > 0  # the test can fire


def test_too_few_images_and_pairwise_missing_values():
    few = paired_verdict([0.5, 0.6, 0.7, 0.8], [0.0, 0.0, 0.0, 0.0])
    assert few.verdict == TOO_FEW_IMAGES and few.n_images == 4 and few.change == pytest.approx(0.65)
    assert np.isnan(few.ci_low) and np.isnan(few.ci_high) and np.isnan(few.p_value)
    assert np.isnan(paired_verdict([], []).change)
    perturbed = np.array([0.5, np.nan, 0.7, 0.8, 0.6, 0.9, np.inf, 0.4])
    noise = np.array([0.1, 0.2, np.nan, 0.1, 0.0, 0.2, 0.1, 0.1])
    result = paired_verdict(perturbed, noise)
    keep = [0, 3, 4, 5, 7]
    assert result.n_images == 5 and result.n_missing == 3
    assert result.as_row() == paired_verdict(perturbed[keep], noise[keep]).as_row()
    assert paired_verdict(perturbed, noise, min_images=6).verdict == TOO_FEW_IMAGES
    assert paired_verdict([0.5, 0.7], [0.0, 0.1], min_images=2).verdict in (MOVES, WITHIN_NOISE)


def test_inputs_are_not_modified_and_lists_work():
    perturbed, noise = np.array([0.5, 0.6, 0.7, 0.8, 0.55]), np.array([0.5, 0.1, 0.2, 0.1, 0.55])
    before = perturbed.copy(), noise.copy()
    result = paired_verdict(perturbed, noise)
    np.testing.assert_array_equal(perturbed, before[0])
    np.testing.assert_array_equal(noise, before[1])
    assert paired_verdict(perturbed.tolist(), noise.tolist()) == result


def test_wrong_input():
    good = np.ones(5)
    with pytest.raises(ValueError, match="same length"):
        paired_verdict(good, np.ones(4))
    with pytest.raises(ValueError, match="perturbed_change must be 1-dimensional"):
        paired_verdict(np.ones((5, 2)), good)
    with pytest.raises(TypeError, match="noise_change"):
        paired_verdict(good, ["a"] * 5)
    with pytest.raises(ValueError, match="alpha"):
        paired_verdict(good, good, alpha=0.5)
    with pytest.raises(TypeError, match="alpha"):
        paired_verdict(good, good, alpha="0.05")
    with pytest.raises(ValueError, match="min_images"):
        paired_verdict(good, good, min_images=1)
    with pytest.raises(TypeError, match="min_images"):
        paired_verdict(good, good, min_images=5.0)
    with pytest.raises(ValueError, match="atol"):
        paired_verdict(good, good, atol=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        minimum_images(0.0)
