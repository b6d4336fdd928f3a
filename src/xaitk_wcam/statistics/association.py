"""Does a feature of the explanation go with the model's outcome? The robustness link, over the images of a study.

A study measures, per image and perturbation, *features* of the explanation (a comparison's change from the
reference map, a scale share of the reference map, its shift) and the model's *outcome* (the target class's
confidence drop, whether the prediction flipped; a detection's survival). Two statistics say whether the first
goes with the second, each with ``n_images`` (the complete cases: images with both values finite), the value
and a two-sided 95 % bootstrap interval:

- :func:`spearman_association`: **Spearman's rank correlation** of the feature with a graded outcome (the
  confidence drop), ``scipy.stats.spearmanr``. Ranks, because neither a change nor a confidence drop has a scale
  that makes a straight line meaningful, and a rank correlation is the same for any monotone transform of either
  (so the orientation of a comparison, :mod:`~xaitk_wcam.statistics.change`, does not matter beyond its sign).
  Interval: bootstrap over images, resampling (feature, outcome) pairs together.
- :func:`auroc_association`: the **area under the ROC curve** of the feature as a predictor of a binary outcome
  (the prediction flipped): the probability that an image whose prediction flipped has a larger feature than one
  whose prediction did not, ties counting one half. It is the Mann-Whitney ``U`` of the two groups over
  ``n1 * n0`` (Hanley & McNeil 1982), ``scipy.stats.mannwhitneyu``. 0.5: the feature does not tell the groups
  apart; 1: every flipped image has the larger feature. Interval: a stratified bootstrap (the flipped and the
  unflipped images resampled separately, so that every resample has both groups in the study's proportion), as
  ``scipy.stats.bootstrap`` does for two independent samples. Where only one outcome occurs (no image flipped,
  or all did), the AUROC does not exist: the value and interval are NaN and ``reason`` says why (a report's
  "n/a").

**The interval** is BCa (bias-corrected and accelerated; Efron 1987; Efron & Tibshirani 1993, ch. 14), which
corrects the percentile interval for the bias and skew of a correlation's or an AUROC's sampling distribution,
from :data:`N_RESAMPLES` = 1999 seeded resamples (Efron & Tibshirani recommend at least 1000 for an interval;
``(B + 1) * 0.025`` is then a whole number). The same ``seed`` gives the same interval. When some resamples have
no value (a resample of a few images whose feature is constant has no rank correlation; at ``n = 5`` about
``5**-4``, 0.16 %, of resamples repeat one image) or BCa is undefined (a degenerate bootstrap distribution, as for
a perfect AUROC of 1, or a group of one image), the interval is the percentile interval over the resamples that
have a value, and ``method`` says so. A perfect separation gives the interval ``[1, 1]``: the bootstrap cannot
see beyond the sample, so read it with ``n_images``. A group of one image (one flip among many images) has an
AUROC but no stratified interval: the interval is NaN and ``method`` says why.

**Minimum.** Fewer than ``min_images`` (5, as the verdict's :data:`~xaitk_wcam.statistics.paired.MIN_IMAGES`)
complete cases give NaN with the reason "too few images"; a constant feature or outcome gives NaN (a correlation
of a constant is undefined).

These statistics describe the images of the study; with features and outcomes measured on the same images, they
are associations, not evidence that the explanation's shift causes the failure.

References: C. Spearman (1904), "The proof and measurement of association between two things", *Am. J. Psychol.*
15(1): 72-101. J. A. Hanley and B. J. McNeil (1982), "The meaning and use of the area under a receiver operating
characteristic (ROC) curve", *Radiology* 143(1): 29-36. B. Efron (1987), "Better bootstrap confidence intervals",
*JASA* 82(397): 171-185. B. Efron and R. J. Tibshirani (1993), *An Introduction to the Bootstrap*, Chapman & Hall.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import bootstrap, mannwhitneyu, rankdata, spearmanr

from xaitk_wcam.statistics.paired import MIN_IMAGES
from xaitk_wcam.utils.checks import check_float, check_int, check_samples

#: The ``statistic`` of a Spearman correlation.
SPEARMAN = "spearman"
#: The ``statistic`` of an AUROC.
AUROC = "auroc"
#: Bootstrap resamples of an interval.
N_RESAMPLES = 1999
#: Two-sided confidence level of an interval.
CONFIDENCE_LEVEL = 0.95
#: The start of ``reason`` when fewer than ``min_images`` images have both values.
TOO_FEW = "too few images"
#: The start of ``reason`` for an AUROC where every image has the same outcome.
ONE_OUTCOME = "only one outcome"
#: The start of ``reason`` when the feature or the outcome is the same for every image.
CONSTANT = "constant"


@dataclass(frozen=True)
class Association:
    """How a feature goes with an outcome over images.

    :param statistic: :data:`SPEARMAN` or :data:`AUROC`.
    :param n_images: Images with both values (the complete cases).
    :param value: The statistic; NaN where it does not exist (``reason`` says why).
    :param ci_low: Lower end of the two-sided bootstrap interval (NaN with ``value``).
    :param ci_high: Upper end.
    :param method: How the interval was computed (resamples, seed, BCa or percentile); empty without a value.
    :param reason: Empty when ``value`` exists; else why not ("too few images ...", "only one outcome ...",
        "constant ..."): a report's "n/a".
    :param n_missing: Images left out because a value is missing (NaN or infinite).
    :param n_positive: For an AUROC: images with the outcome (e.g. flipped); ``None`` for a correlation.
    """

    statistic: str
    n_images: int
    value: float
    ci_low: float
    ci_high: float
    method: str
    reason: str
    n_missing: int
    n_positive: int | None = None

    @property
    def available(self) -> bool:
        """Whether the statistic exists (no ``reason``)."""
        return not self.reason

    def as_row(self) -> dict[str, Any]:
        """The columns of a robustness table: ``n_images, statistic, value, ci_low, ci_high``."""
        return {
            "n_images": self.n_images,
            "statistic": self.statistic,
            "value": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
        }


def spearman_association(
    feature: Any,
    outcome: Any,
    *,
    confidence_level: float = CONFIDENCE_LEVEL,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    min_images: int = MIN_IMAGES,
) -> Association:
    """Spearman's rank correlation of a feature with an outcome over images, with a seeded bootstrap interval.

    :param feature: Per image, the feature (e.g. a comparison's change); NaN where missing. Length ``N``.
    :param outcome: Per image, in the same order, the outcome (e.g. the confidence drop); NaN where missing.
    :param confidence_level: Two-sided level of the interval, in ``(0, 1)``.
    :param n_resamples: Bootstrap resamples (``>= 100``).
    :param seed: Seed of the resampling (``>= 0``); the same seed gives the same interval.
    :param min_images: Fewest complete cases for a value (``>= 3``).
    :return: An :class:`Association` with ``statistic`` :data:`SPEARMAN`, ``value`` in ``[-1, 1]``.
    :raises TypeError: Non-numeric values or parameters of the wrong type.
    :raises ValueError: Values not 1-D or of different lengths, parameters out of range.
    """
    x, y, n_missing = _complete_cases(feature, outcome)
    options = _options(confidence_level, n_resamples, seed, min_images)
    reason = _too_few(x.size, options["min_images"])
    if not reason and np.ptp(x) == 0:
        reason = f"{CONSTANT} feature: every image has {x[0]:.6g}"
    if not reason and np.ptp(y) == 0:
        reason = f"{CONSTANT} outcome: every image has {y[0]:.6g}"
    if reason:
        return _not_available(SPEARMAN, x.size, n_missing, reason)
    value = float(spearmanr(x, y).statistic)
    low, high, method = _bootstrap((x, y), _spearman, paired=True, **options)
    return Association(SPEARMAN, int(x.size), value, low, high, method, "", n_missing)


def auroc_association(
    feature: Any,
    outcome: Any,
    *,
    confidence_level: float = CONFIDENCE_LEVEL,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    min_images: int = MIN_IMAGES,
) -> Association:
    """AUROC of a feature as a predictor of a binary outcome over images, with a seeded stratified bootstrap interval.

    :param feature: Per image, the feature (larger = predicts the outcome); NaN where missing. Length ``N``.
    :param outcome: Per image, in the same order, the outcome: bools, or 0/1 (e.g. 1 = the prediction flipped);
        NaN where missing.
    :param confidence_level: Two-sided level of the interval, in ``(0, 1)``.
    :param n_resamples: Bootstrap resamples (``>= 100``).
    :param seed: Seed of the resampling (``>= 0``); the same seed gives the same interval.
    :param min_images: Fewest complete cases for a value (``>= 3``).
    :return: An :class:`Association` with ``statistic`` :data:`AUROC`, ``value`` in ``[0, 1]`` (0.5: no better
        than chance), ``n_positive`` the images with outcome 1; NaN with a ``reason`` where only one outcome occurs.
    :raises TypeError: Non-numeric values or parameters of the wrong type.
    :raises ValueError: An outcome other than 0/1, values not 1-D or of different lengths, parameters out of range.
    """
    x, y, n_missing = _complete_cases(feature, outcome)
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"outcome must be bools or 0/1 (NaN where missing), got values {np.unique(y)[:5].tolist()}")
    options = _options(confidence_level, n_resamples, seed, min_images)
    positive, negative = x[y == 1.0], x[y == 0.0]
    reason = _too_few(x.size, options["min_images"])
    if not reason and (positive.size == 0 or negative.size == 0):
        reason = f"{ONE_OUTCOME}: {positive.size} of {x.size} images have outcome 1"
    if reason:
        return _not_available(AUROC, x.size, n_missing, reason, n_positive=int(positive.size))
    value = float(_auroc(positive, negative))
    if min(positive.size, negative.size) < 2:  # a group of one image cannot be resampled
        low = high = float("nan")
        method = f"no interval: a group of one image ({positive.size} with outcome 1, {negative.size} with 0)"
    else:
        low, high, method = _bootstrap((positive, negative), _auroc, paired=False, **options)
        method = method.replace("resamples", "stratified resamples", 1)
    return Association(AUROC, int(x.size), value, low, high, method, "", n_missing, n_positive=int(positive.size))


def _spearman(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman's correlation along ``axis`` (the Pearson correlation of average ranks), vectorised for the
    bootstrap; NaN where a slice is constant."""
    rx, ry = rankdata(x, axis=axis), rankdata(y, axis=axis)
    rx = rx - rx.mean(axis=axis, keepdims=True)
    ry = ry - ry.mean(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rx * ry).sum(axis=axis) / np.sqrt((rx**2).sum(axis=axis) * (ry**2).sum(axis=axis))


def _auroc(positive: np.ndarray, negative: np.ndarray, axis: int = -1) -> np.ndarray:
    """``U / (n1 * n0)`` along ``axis``: the share of (positive, negative) pairs where the positive's feature is
    larger, ties counting one half (Mann-Whitney ``U`` of the first sample)."""
    u = mannwhitneyu(positive, negative, axis=axis, method="asymptotic").statistic
    return u / (positive.shape[axis] * negative.shape[axis])


def _bootstrap(
    data: tuple[np.ndarray, ...],
    statistic: Callable[..., np.ndarray],
    *,
    paired: bool,
    confidence_level: float,
    n_resamples: int,
    seed: int,
    min_images: int,
) -> tuple[float, float, str]:
    """A seeded BCa interval of ``statistic``, or the percentile interval over the resamples that have a value
    where BCa is undefined; with a sentence saying which."""
    kwargs: dict[str, Any] = {
        "paired": paired,
        "vectorized": True,
        "n_resamples": n_resamples,
        "confidence_level": confidence_level,
        "method": "BCa",
    }
    rng = np.random.default_rng(seed)
    kwargs["rng" if "rng" in inspect.signature(bootstrap).parameters else "random_state"] = rng  # scipy < 1.15
    with warnings.catch_warnings():  # degenerate resamples: handled below
        warnings.simplefilter("ignore")
        result = bootstrap(data, statistic, **kwargs)
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    if np.isfinite(low) and np.isfinite(high):
        return low, high, f"BCa bootstrap, {n_resamples} resamples, seed {seed}"
    values = np.asarray(result.bootstrap_distribution, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan"), f"bootstrap undefined: no resample of {n_resamples} has a value"
    tail = (1.0 - confidence_level) / 2.0
    low, high = (float(v) for v in np.quantile(values, [tail, 1.0 - tail]))
    method = f"percentile bootstrap over {values.size} of {n_resamples} resamples with a value, seed {seed}"
    return low, high, method + " (BCa undefined)"


def _complete_cases(feature: Any, outcome: Any) -> tuple[np.ndarray, np.ndarray, int]:
    x = check_samples(feature, "feature")
    y = check_samples(outcome, "outcome")
    if x.shape != y.shape:
        raise ValueError(
            f"feature and outcome must have one value per image each (the same length), got {x.size} and {y.size}"
        )
    complete = np.isfinite(x) & np.isfinite(y)
    return x[complete], y[complete], int(x.size - complete.sum())


def _options(confidence_level: float, n_resamples: int, seed: int, min_images: int) -> dict[str, Any]:
    return {
        "confidence_level": check_float("confidence_level", confidence_level, 0.0, 1.0),
        "n_resamples": check_int("n_resamples", n_resamples, 100),
        "seed": check_int("seed", seed, 0),
        "min_images": check_int("min_images", min_images, 3),
    }


def _too_few(n: int, min_images: int) -> str:
    return f"{TOO_FEW}: {n} with both values, fewer than {min_images}" if n < min_images else ""


def _not_available(statistic: str, n: int, n_missing: int, reason: str, n_positive: int | None = None) -> Association:
    nan = float("nan")
    return Association(statistic, int(n), nan, nan, nan, "", reason, n_missing, n_positive)
