"""The robustness link: Spearman and AUROC with seeded bootstrap intervals, against scipy and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import bootstrap, mannwhitneyu, spearmanr

from xaitk_wcam.statistics.association import (
    AUROC,
    CONSTANT,
    N_RESAMPLES,
    ONE_OUTCOME,
    SPEARMAN,
    TOO_FEW,
    Association,
    _auroc,
    _spearman,
    auroc_association,
    spearman_association,
)


@pytest.fixture
def linked():
    rng = np.random.default_rng(5)
    feature = rng.random(40)
    return feature, feature + rng.normal(0.0, 0.3, 40)


def test_vectorised_statistics_match_scipy():
    rng = np.random.default_rng(0)
    x, y = rng.random((7, 12)), rng.random((7, 12))
    y[0, :4] = y[0, 4:8]  # ties get average ranks
    expected = [spearmanr(a, b).statistic for a, b in zip(x, y, strict=True)]
    np.testing.assert_allclose(_spearman(x, y), expected)
    positive, negative = rng.random((7, 5)), rng.random((7, 9))
    pairs = (positive[:, :, None] > negative[:, None, :]).mean(axis=(1, 2))
    np.testing.assert_allclose(_auroc(positive, negative), pairs)


def test_spearman_value_and_interval(linked):
    feature, outcome = linked
    result = spearman_association(feature, outcome)
    assert isinstance(result, Association) and result.statistic == SPEARMAN and result.available
    assert result.n_images == 40 and result.n_missing == 0 and result.n_positive is None
    assert result.value == pytest.approx(spearmanr(feature, outcome).statistic)
    assert result.ci_low < result.value < result.ci_high <= 1.0
    assert result.method == f"BCa bootstrap, {N_RESAMPLES} resamples, seed 0"
    direct = bootstrap(
        (feature, outcome),
        _spearman,
        paired=True,
        vectorized=True,
        n_resamples=N_RESAMPLES,
        rng=np.random.default_rng(0),
    ).confidence_interval
    assert (result.ci_low, result.ci_high) == pytest.approx((direct.low, direct.high))
    assert spearman_association(feature, outcome) == result  # seeded: the same interval again
    other = spearman_association(feature, outcome, seed=1)
    assert other.value == result.value and other.ci_low != result.ci_low
    assert result.as_row() == {
        "n_images": 40,
        "statistic": "spearman",
        "value": result.value,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
    }
    assert spearman_association(feature, -outcome).value == pytest.approx(-result.value)


def test_spearman_interval_covers_the_population_value():
    """Bivariate normal with correlation 0.5: Spearman's population value is 6/pi asin(0.25); 150 seeded studies of
    30 images, 95 % intervals: coverage near 95 % (binomial se 1.8 %)."""
    rho_s = 6 / np.pi * np.arcsin(0.25)
    rng = np.random.default_rng(11)
    cover = []
    for trial in range(150):
        x, y = rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], 30).T
        result = spearman_association(x, y, n_resamples=999, seed=trial)
        cover.append(result.ci_low <= rho_s <= result.ci_high)
    assert 0.88 <= np.mean(cover) <= 0.99


def test_spearman_small_and_degenerate_samples():
    perfect = spearman_association([1, 2, 3, 4, 5, 6], [0.1, 0.5, 0.7, 0.8, 2.0, 9.0])
    assert perfect.value == pytest.approx(1.0) and perfect.ci_low == perfect.ci_high == pytest.approx(1.0)
    assert "percentile" in perfect.method  # BCa is undefined for a degenerate bootstrap distribution
    five = spearman_association([1, 3, 2, 5, 4], [0.1, 0.2, 0.5, 0.3, 0.9])  # some resamples repeat one image
    assert np.isfinite(five.ci_low) and five.ci_low <= five.value <= five.ci_high
    few = spearman_association([1, 2, 3, 4], [1, 2, 3, 4])
    assert not few.available and few.reason.startswith(TOO_FEW) and np.isnan(few.value) and few.n_images == 4
    flat = spearman_association(np.ones(8), np.arange(8))
    assert flat.reason.startswith(f"{CONSTANT} feature") and np.isnan(flat.ci_low)
    assert spearman_association(np.arange(8), np.zeros(8)).reason.startswith(f"{CONSTANT} outcome")
    missing = spearman_association([1, 2, np.nan, 4, 5, 6, 7], [1, 3, 2, np.inf, 4, 6, 5])
    assert missing.n_images == 5 and missing.n_missing == 2
    assert missing.value == pytest.approx(spearmanr([1, 2, 5, 6, 7], [1, 3, 4, 6, 5]).statistic)


def test_auroc_closed_form_and_interval(linked):
    feature, confidence_drop = linked
    flipped = confidence_drop > np.median(confidence_drop)
    result = auroc_association(feature, flipped)
    assert result.statistic == AUROC and result.n_positive == 20 and result.n_images == 40
    positive, negative = feature[flipped], feature[~flipped]
    assert result.value == pytest.approx(mannwhitneyu(positive, negative).statistic / (20 * 20))
    assert result.value == pytest.approx((positive[:, None] > negative[None, :]).mean())
    direct = bootstrap(
        (positive, negative), _auroc, vectorized=True, n_resamples=N_RESAMPLES, rng=np.random.default_rng(0)
    ).confidence_interval
    assert (result.ci_low, result.ci_high) == pytest.approx((direct.low, direct.high))
    assert result.ci_low < result.value < result.ci_high
    assert "stratified" in result.method
    assert auroc_association(-feature, flipped).value == pytest.approx(1 - result.value)
    assert auroc_association(feature, flipped.astype(float)) == result  # 0/1 as bools


def test_auroc_known_values():
    # ties count one half: positives [1, 2] against negatives [1, 0, 0.5]: 5.5 of 6 pairs
    tied = auroc_association([1, 2, 1, 0, 0.5], [1, 1, 0, 0, 0], min_images=5)
    assert tied.value == pytest.approx((0.5 + 1 + 1 + 1 + 1 + 1) / 6)
    separated = auroc_association([0.1, 0.2, 0.3, 0.7, 0.8, 0.9], [0, 0, 0, 1, 1, 1])
    assert separated.value == 1.0 and separated.ci_low == separated.ci_high == 1.0
    chance = auroc_association(np.ones(10), [0, 1] * 5)
    assert chance.value == 0.5
    single = auroc_association([0.1, 0.2, 0.3, 0.4, 0.9, 0.5], [0, 0, 0, 0, 1, 0])  # one flip among six
    assert single.value == 1.0 and single.available and np.isnan(single.ci_low) and "group of one" in single.method


def test_auroc_not_available_where_only_one_outcome_occurs():
    none = auroc_association(np.arange(10.0), np.zeros(10))
    assert not none.available and none.reason.startswith(ONE_OUTCOME) and np.isnan(none.value)
    assert none.n_positive == 0 and none.n_images == 10
    every = auroc_association(np.arange(10.0), [True] * 10)
    assert every.reason == f"{ONE_OUTCOME}: 10 of 10 images have outcome 1"
    dropped = auroc_association([1.0, 2.0, 3.0, 4.0, 5.0, np.nan], [0, 0, 0, 0, 0, 1])  # the flip has no feature
    assert dropped.reason.startswith(ONE_OUTCOME) and dropped.n_missing == 1
    assert auroc_association([1, 2, 3], [0, 1, 0]).reason.startswith(TOO_FEW)


def test_wrong_input():
    good = np.arange(6.0)
    with pytest.raises(ValueError, match="same length"):
        spearman_association(good, good[:5])
    with pytest.raises(TypeError, match="feature"):
        spearman_association(["a"] * 6, good)
    with pytest.raises(ValueError, match="outcome must be 1-dimensional"):
        auroc_association(good, np.zeros((6, 1)))
    with pytest.raises(ValueError, match="outcome must be bools or 0/1"):
        auroc_association(good, good)
    for keyword, value, error in (
        ("confidence_level", 1.0, ValueError),
        ("confidence_level", "0.9", TypeError),
        ("n_resamples", 10, ValueError),
        ("seed", -1, ValueError),
        ("seed", 1.5, TypeError),
        ("min_images", 2, ValueError),
    ):
        for function in (spearman_association, auroc_association):
            with pytest.raises(error, match=keyword):
                function(good, [0, 1, 0, 1, 0, 1], **{keyword: value})
