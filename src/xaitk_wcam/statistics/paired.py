"""The verdict of one method x comparison x perturbation: does the map move beyond the method's own noise?

**The question.** A comparison between a perturbed image's map and the reference map means something only
against the same comparison between two independent draws of the method on the reference image (the *noise
floor*). Over the images of a study, the verdict asks: is the perturbed map, on average, further from the
reference than a second draw of the method is?

**Per image, paired.** Both comparisons are first oriented as changes (:func:`~xaitk_wcam.statistics.change.
as_change`: 0 = identical maps, positive = further). For each image ``i`` that has both values, the change
beyond the noise floor is ``d_i = perturbed change_i - noise-floor change_i``. Pairing matters because images
differ far more from each other than the two changes of one image do: a low-contrast image has a noisy map
under the perturbation *and* under a second draw. The difference removes that image-to-image spread, which an
unpaired comparison (for example a band of ``mean -/+ 2 sd`` of the noise values over images, set against the
mean of the perturbed values) leaves in, and it answers per image, so that the images with only one of the two
values cannot tilt the result: only complete cases count, and ``n_images`` says how many there are. A value
that is not finite (NaN, an infinite SSD of an all-zero map) is missing. A deterministic method has no noise:
the caller passes a noise-floor change of 0 for every image, and ``d_i`` is the perturbed change itself.

**The test.** One-sided, in the direction that means "moved": the one-sample Student t test of the ``d_i``
(``scipy.stats.ttest_1samp``), H0 ``mean(d) <= 0`` against H1 ``mean(d) > 0``, at ``alpha`` = 0.05
(:data:`ALPHA`). ``p_value`` is its one-sided p-value. The interval is the t interval of the mean of ``d``:
``ci_low`` is the one-sided ``1 - alpha`` (95 %) lower confidence bound, which is also the lower end of the
two-sided ``1 - 2 alpha`` (90 %) interval whose upper end ``ci_high`` is (the upper end only says how large the
change may be; the verdict does not read it).

**The verdict** is exactly one of

- :data:`MOVES` (``"moves"``): the interval lies above 0 (``ci_low > 0``, which is the same as
  ``p_value < alpha``);
- :data:`WITHIN_NOISE` (``"within noise"``): it does not. A perturbed map that is *closer* to the reference than
  a second draw (a negative change, as when the perturbed item shares the reference's random numbers) is
  within noise, never "moves";
- :data:`TOO_FEW_IMAGES` (``"too few images"``): fewer than ``min_images`` complete cases (:data:`MIN_IMAGES`
  = 5 at ``alpha`` = 0.05); ``change`` is still the mean of the few differences (NaN for none), the interval and
  p-value are NaN.

**Why a t interval, not a bootstrap.** Under the null that matters (a perturbation that changes nothing, with
independent draws), an image's perturbed change and its noise-floor change are two exchangeable draws, so
``d_i`` is symmetric about 0, with a spread that differs from image to image. For independent observations
symmetric about 0, not necessarily identically distributed, Efron (1969) showed that Student's t test at the
usual levels is conservative or close to its nominal level; it needs no resampling and no model of the spread.
The bootstrap intervals of a mean (percentile, BCa) are too narrow in small samples (Efron & Tibshirani 1993,
ch. 13-14), and a study has 5 to 100 images. Measured with ``benchmarks/paired_verdict.py`` (1000 seeded
studies per cell, images whose noise levels differ by a log-normal factor, changes ``>= 0``), the share of null
studies read as "moves":

======  =====  =====  ==========
n       t      BCa    percentile
======  =====  =====  ==========
5       0.026  0.140  0.111
10      0.033  0.130  0.086
20      0.036  0.098  0.065
50      0.043  0.101  0.068
======  =====  =====  ==========

The t interval and the p-value also come from one distribution, so the verdict, the interval and the p-value
never disagree. What it costs, measured in the same run: against a shift (the perturbed change 1.5 times the
noise on average) it finds "moves" in 15 % of studies at ``n = 5``, 29 % at 10, 51 % at 20, 77 % at 50, 94 % at
100; Wilcoxon's signed-rank test, exact under the same symmetry, finds more with these heavy-tailed differences
(19 %, 39 %, 67 %, 97 %, 100 %) but tests a pseudo-median, not the mean the ``change`` column reports, and has no
interval in scipy. An unpaired comparison (Welch's t test of the perturbed against the noise-floor changes) finds
17 % at ``n = 20``: pairing triples the power. For right-skewed differences (a deterministic method, whose
changes are ``>= 0``) the t interval is conservative, a miss rather than a false alarm. The one null it does not
hold: mean-zero differences with a long *left* tail (most images move a little, a few have a perturbed map much
closer to the reference than their second draw): 16 % at ``n = 5``, 10 % at 20, 7 % at 100, as for every
candidate measured.

**Why at least 5 images** (:func:`minimum_images`). With ``n`` images, no distribution-free paired test (the
exact sign-flip permutation test or Wilcoxon's signed-rank test, which assume only the symmetry above) can give
a one-sided p-value below ``2**-n``: 1/16 = 0.0625 at ``n = 4``, 1/32 = 0.031 at ``n = 5``. Below
``ceil(log2(1 / alpha))`` images, a "moves" would therefore rest on the normality of the differences alone,
which 4 images cannot check. From 5 images on, the t verdict keeps its level in the simulation above; nothing
in it argues for a larger minimum (more images buy power, not validity).

**Numerical ties.** Differences within ``atol`` (:data:`ATOL`, 1e-9) of 0 are set to 0, so that the rounding of
identical maps (a correlation of a map with itself can be ``1 - 2e-16``) cannot read as movement. When every
difference is equal (for example all 0: identical maps for a deterministic method), the t statistic is
undefined: the interval is that value on both ends, the p-value 0 if it is positive and 1 otherwise.

**Several verdicts.** Each verdict is one test at ``alpha``; a study that reports many method x comparison x
perturbation cells should expect about ``alpha`` of the cells where nothing moves to read "moves" by chance.
No correction for multiplicity is applied here.

References: Student (1908), "The probable error of a mean", *Biometrika* 6(1): 1-25. B. Efron (1969),
"Student's t-test under symmetry conditions", *JASA* 64(328): 1278-1302. B. Efron and R. J. Tibshirani (1993),
*An Introduction to the Bootstrap*, Chapman & Hall. F. Wilcoxon (1945), "Individual comparisons by ranking
methods", *Biometrics Bulletin* 1(6): 80-83.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import ttest_1samp

from xaitk_wcam.utils.checks import check_float, check_int, check_samples

#: The verdict when the change beyond the noise floor is credibly above 0 (its interval lies above 0).
MOVES = "moves"
#: The verdict when it is not (the interval reaches 0 or below).
WITHIN_NOISE = "within noise"
#: The verdict when fewer than the minimum number of images have both values.
TOO_FEW_IMAGES = "too few images"
#: Every verdict, in the order a report lists them.
VERDICTS = (MOVES, WITHIN_NOISE, TOO_FEW_IMAGES)
#: One-sided level of the test: the interval is a one-sided 95 % interval.
ALPHA = 0.05
#: Differences within this of 0 are 0 (the rounding of identical maps is not movement).
ATOL = 1e-9
#: How the interval and the p-value are computed (the ``method`` of a :class:`PairedVerdict`).
METHOD = "one-sided Student t test of the paired differences (n - 1 degrees of freedom)"


def minimum_images(alpha: float = ALPHA) -> int:
    """The fewest images for a verdict at one-sided level ``alpha``: the smallest ``n`` with ``2**-n <= alpha``.

    Below it no distribution-free paired test (exact sign-flip, Wilcoxon signed-rank) could reject at ``alpha``
    (see the module's documentation); never fewer than 2 (a t interval needs a spread).

    :param alpha: One-sided level in ``(0, 0.5)``.
    :return: 5 at ``alpha = 0.05``, 7 at ``alpha = 0.01``.
    :raises ValueError: ``alpha`` outside ``(0, 0.5)``.
    :raises TypeError: ``alpha`` not a number.
    """
    alpha = check_float("alpha", alpha, 0.0, 0.5)
    n = 1
    while 0.5**n > alpha:
        n += 1
    return max(n, 2)


#: The fewest images for a verdict at :data:`ALPHA`: 5.
MIN_IMAGES = minimum_images(ALPHA)


@dataclass(frozen=True)
class PairedVerdict:
    """The verdict of one method x comparison x perturbation over images.

    :param n_images: Images with both a perturbed and a noise-floor change (the complete cases).
    :param change: Mean over those images of the change beyond the noise floor (perturbed - noise-floor
        change); positive = the perturbed map is further from the reference than a second draw is.
    :param ci_low: One-sided ``1 - alpha`` lower confidence bound of the mean change (NaN for too few images).
    :param ci_high: Upper end of the two-sided ``1 - 2 alpha`` interval whose lower end is ``ci_low``.
    :param p_value: One-sided p-value of H1 "mean change > 0".
    :param verdict: One of :data:`VERDICTS`.
    :param alpha: The level used.
    :param min_images: The minimum number of images used.
    :param n_missing: Images left out because one of their two values is missing (NaN or infinite).
    :param method: How the interval and the p-value were computed (:data:`METHOD`).
    """

    n_images: int
    change: float
    ci_low: float
    ci_high: float
    p_value: float
    verdict: str
    alpha: float
    min_images: int
    n_missing: int
    method: str = METHOD

    def as_row(self) -> dict[str, Any]:
        """The columns of a verdicts table: ``n_images, change, ci_low, ci_high, p_value, verdict``."""
        fields = asdict(self)
        return {key: fields[key] for key in ("n_images", "change", "ci_low", "ci_high", "p_value", "verdict")}


def paired_verdict(
    perturbed_change: Any,
    noise_change: Any,
    *,
    alpha: float = ALPHA,
    min_images: int | None = None,
    atol: float = ATOL,
) -> PairedVerdict:
    """The paired, one-sided verdict over images: does the perturbed map move beyond the method's noise?

    :param perturbed_change: Per image, the change of the perturbed map from the reference map (oriented with
        :func:`~xaitk_wcam.statistics.change.as_change`); NaN where missing. Array-like of length ``N``.
    :param noise_change: Per image, in the same order, the change between two independent draws of the method
        on the reference image (0 for a deterministic method); NaN where missing. Length ``N``.
    :param alpha: One-sided level in ``(0, 0.5)``; the interval is a one-sided ``1 - alpha`` interval.
    :param min_images: Fewest complete cases for a verdict (at least 2); ``None``: :func:`minimum_images` of
        ``alpha`` (5 at 0.05).
    :param atol: Differences within ``atol`` of 0 count as 0 (``>= 0``).
    :return: A :class:`PairedVerdict`; deterministic (no randomness).
    :raises TypeError: Non-numeric changes, or parameters of the wrong type.
    :raises ValueError: Changes that are not 1-D or not of the same length, or parameters out of range.
    """
    perturbed = check_samples(perturbed_change, "perturbed_change")
    noise = check_samples(noise_change, "noise_change")
    if perturbed.shape != noise.shape:
        raise ValueError(
            f"perturbed_change and noise_change must have one value per image each (the same length), got "
            f"{perturbed.size} and {noise.size}"
        )
    alpha = check_float("alpha", alpha, 0.0, 0.5)
    minimum = minimum_images(alpha) if min_images is None else check_int("min_images", min_images, 2)
    atol = check_float("atol", atol, 0.0, strict=False)
    complete = np.isfinite(perturbed) & np.isfinite(noise)
    diff = perturbed[complete] - noise[complete]
    diff[np.abs(diff) <= atol] = 0.0
    n = int(diff.size)
    common = {"n_images": n, "alpha": alpha, "min_images": minimum, "n_missing": int(perturbed.size - n)}
    if n < minimum:
        mean = float(diff.mean()) if n else float("nan")
        nan = float("nan")
        return PairedVerdict(change=mean, ci_low=nan, ci_high=nan, p_value=nan, verdict=TOO_FEW_IMAGES, **common)
    mean = float(diff.mean())
    if np.ptp(diff) == 0:  # no spread: the t statistic is undefined, the mean is known exactly
        low = high = mean
        p_value = 0.0 if mean > 0 else 1.0
    else:
        with warnings.catch_warnings():  # nearly equal differences: scipy warns of precision loss
            warnings.simplefilter("ignore", RuntimeWarning)
            p_value = float(ttest_1samp(diff, 0.0, alternative="greater").pvalue)
            interval = ttest_1samp(diff, 0.0).confidence_interval(confidence_level=1.0 - 2.0 * alpha)
        low, high = float(interval.low), float(interval.high)
    verdict = MOVES if low > 0 else WITHIN_NOISE
    return PairedVerdict(change=mean, ci_low=low, ci_high=high, p_value=p_value, verdict=verdict, **common)
