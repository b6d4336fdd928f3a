"""The warning margin: along a sweep of strengths, does an image's map move beyond its noise before the model breaks?

The verdict (:mod:`~xaitk_wcam.statistics.paired`) pools images; the warning margin follows each image along an
ordered sweep of perturbation strengths (a factory sweep: blur ``ksize`` 1, 3, 5, ...; columns ordered from the
weakest to the strongest) and asks, per image, at which strength the prediction first flips and at which the map
first moves beyond the method's noise. :func:`warning_margin` classifies each image as

- :data:`MAP_FIRST` (``"map first"``): the map moved at a weaker strength than the one that flipped the prediction
  (the explanation warned);
- :data:`SAME_STRENGTH` (``"same strength"``): both first happened at the same strength;
- :data:`MAP_AFTER` (``"map after"``): the prediction flipped at a weaker strength than the one that moved the map;
- :data:`MAP_ONLY` (``"map only"``): the map moved, the prediction never flipped within the sweep;
- :data:`FLIP_ONLY` (``"flip only"``): the prediction flipped, the map never moved (no warning);
- :data:`NEITHER` (``"neither"``),

and counts them (:data:`MARGIN_CLASSES` order). Only complete images count: an image with a missing value at any
strength is :data:`INCOMPLETE` and left out of the counts (its first strengths could hide in the gap).
``lead_steps`` is, for images where both happen, how many strengths earlier the map moved (negative: later).

**"The first strength"** is the weakest strength at which the event is observed. A map that moves by chance at a
weak strength and not at the next reads as an early warning; with ``K`` strengths, an image whose map never truly
moves is flagged somewhere with probability up to ``K`` times the per-image level. ``sustained=True`` asks more:
the weakest strength from which the event holds at *every* stronger strength of the sweep, which a chance move
rarely does (a real effect of a growing perturbation persists). The default follows the plain reading.

**Moved beyond noise, for one image** (:func:`noise_threshold`). A study has one noise-floor draw per image (the
change between two independent draws of the method on the reference image), so a per-image rule must borrow
strength from the other images. Three rules were weighed:

1. *the perturbed change exceeds the image's own noise-floor change*: under the null the two are exchangeable,
   so half of the unmoved images would read "moved". Rejected;
2. *it exceeds the mean + 2 sd of the noise-floor changes over images*: its false-alarm rate depends on the shape of
   the noise-floor changes (non-negative, skewed) and is unknown. Rejected;
3. **(chosen)** *it exceeds the* ``k``-*th smallest of the* ``m`` *noise-floor changes of the study's images, with*
   ``k = ceil((m + 1) (1 - alpha))``: the split-conformal threshold (Vovk, Gammerman & Shafer 2005; Lei et al.
   2018). If an unmoved image's perturbed change is exchangeable with the noise-floor changes, the chance that it
   exceeds the threshold is at most ``(m - k + 1) / (m + 1) <= alpha``, whatever their distribution. The noise
   floor of a seeded method is measured at every image, so this costs nothing more.

With fewer than ``1 / alpha - 1`` noise-floor values (19 at ``alpha`` = 0.05) no order statistic reaches ``alpha``:
the threshold is then the largest noise-floor change and the per-image level ``1 / (m + 1)``, which
:class:`NoiseThreshold` reports as ``level`` (read the margin with it). The assumption behind the level: images
have similar noise levels. An image noisier than most reads "moved" more often than ``alpha``, a quieter one less;
nothing per image can correct that with one draw. A deterministic method (every noise-floor change within ``atol``
of 0) has threshold 0 and level 0: any change above ``atol`` is movement.

References: V. Vovk, A. Gammerman and G. Shafer (2005), *Algorithmic Learning in a Random World*, Springer.
J. Lei, M. G'Sell, A. Rinaldo, R. J. Tibshirani and L. Wasserman (2018), "Distribution-free predictive inference for
regression", *JASA* 113(523): 1094-1111.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from xaitk_wcam.statistics.paired import ALPHA, ATOL
from xaitk_wcam.utils.checks import check_float, check_samples

#: The map moved at a weaker strength than the one that flipped the prediction.
MAP_FIRST = "map first"
#: The map moved and the prediction flipped first at the same strength.
SAME_STRENGTH = "same strength"
#: The prediction flipped at a weaker strength than the one that moved the map.
MAP_AFTER = "map after"
#: The map moved; the prediction never flipped within the sweep.
MAP_ONLY = "map only"
#: The prediction flipped; the map never moved beyond its noise within the sweep.
FLIP_ONLY = "flip only"
#: Neither happened within the sweep.
NEITHER = "neither"
#: The classes of a complete image, in the order a report lists them.
MARGIN_CLASSES = (MAP_FIRST, SAME_STRENGTH, MAP_AFTER, MAP_ONLY, FLIP_ONLY, NEITHER)
#: The class of an image with a missing value at some strength (not counted).
INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class NoiseThreshold:
    """The per-image rule "moved beyond noise": a change above :attr:`threshold` (by more than ``atol``).

    :param threshold: The ``k``-th smallest noise-floor change, ``k = min(m, ceil((m + 1) (1 - alpha)))``; 0 for a
        deterministic method; NaN without noise-floor values.
    :param level: The chance that an unmoved image reads "moved", at most (``(m - k + 1) / (m + 1)``; 0 for a
        deterministic method; NaN without noise-floor values). Above ``alpha`` when ``m < 1 / alpha - 1``.
    :param n_noise: ``m``, the finite noise-floor changes used.
    :param alpha: The level asked for.
    :param atol: Tolerance: a change must exceed the threshold by more than this.
    """

    threshold: float
    level: float
    n_noise: int
    alpha: float
    atol: float

    def moved(self, changes: Any) -> np.ndarray:
        """Whether each change is beyond the noise: 1.0 (moved), 0.0 (not), NaN (the change is missing, or there is
        no threshold).

        :param changes: Perturbed changes of any shape (e.g. images x strengths); NaN where missing.
        :return: A float64 array of the same shape, ready for :func:`warning_margin`.
        """
        values = np.asarray(changes)
        if values.dtype == np.bool_ or not np.issubdtype(values.dtype, np.number) or np.iscomplexobj(values):
            raise TypeError(f"changes must be real numbers, got dtype {values.dtype}")
        values = values.astype(np.float64)
        known = np.isfinite(values) & np.isfinite(self.threshold)
        with np.errstate(invalid="ignore"):
            return np.where(known, (values - self.threshold > self.atol).astype(np.float64), np.nan)


def noise_threshold(noise_changes: Any, *, alpha: float = ALPHA, atol: float = ATOL) -> NoiseThreshold:
    """The split-conformal threshold of "moved beyond noise" for one image, from the noise-floor changes of a study.

    :param noise_changes: Per image, the change between two independent draws of the method on the reference image
        (0 for a deterministic method); NaN where missing. 1-D.
    :param alpha: Per-image level in ``(0, 0.5)``.
    :param atol: Noise-floor changes within ``atol`` of 0 everywhere make the method deterministic; a change must
        exceed the threshold by more than ``atol`` (``>= 0``).
    :return: A :class:`NoiseThreshold`; apply it with :meth:`NoiseThreshold.moved`.
    :raises TypeError: Non-numeric values or parameters.
    :raises ValueError: Values not 1-D, parameters out of range.
    """
    noise = check_samples(noise_changes, "noise_changes")
    alpha = check_float("alpha", alpha, 0.0, 0.5)
    atol = check_float("atol", atol, 0.0, strict=False)
    noise = np.sort(noise[np.isfinite(noise)])
    m = int(noise.size)
    if m == 0:
        return NoiseThreshold(float("nan"), float("nan"), 0, alpha, atol)
    if np.all(np.abs(noise) <= atol):
        return NoiseThreshold(0.0, 0.0, m, alpha, atol)
    k = min(m, math.ceil((m + 1) * (1.0 - alpha) - 1e-9))
    return NoiseThreshold(float(noise[k - 1]), (m - k + 1) / (m + 1), m, alpha, atol)


@dataclass(frozen=True, eq=False)
class WarningMargin:
    """Per image, the weakest strengths at which the prediction flipped and the map moved, and their order.

    :param strengths: The sweep's strengths, weakest first (the column labels).
    :param first_flip: Per image, the first strength at which the prediction flipped; NaN if never or incomplete.
    :param first_move: Per image, the first strength at which the map moved beyond its noise; NaN if never or
        incomplete.
    :param lead_steps: Per image where both happen, ``index(first_flip) - index(first_move)``: positive = the map
        moved that many strengths earlier; NaN otherwise.
    :param classes: Per image, one of :data:`MARGIN_CLASSES`, or :data:`INCOMPLETE`.
    :param counts: Images per class of :data:`MARGIN_CLASSES`, in that order (complete images only).
    :param n_images: Complete images (the sum of ``counts``).
    :param n_incomplete: Images left out for a missing value.
    :param sustained: Whether "first" meant "from which it holds at every stronger strength".
    """

    strengths: tuple[float, ...]
    first_flip: np.ndarray
    first_move: np.ndarray
    lead_steps: np.ndarray
    classes: tuple[str, ...]
    counts: dict[str, int]
    n_images: int
    n_incomplete: int
    sustained: bool


def warning_margin(
    flipped: Any,
    moved: Any,
    strengths: Sequence[float] | None = None,
    *,
    sustained: bool = False,
) -> WarningMargin:
    """Classify each image by whether its map moved beyond its noise before, with or after its prediction flipped.

    :param flipped: ``N x K``: per image and strength (weakest first), whether the prediction flipped: bools or 0/1,
        NaN where missing.
    :param moved: ``N x K``, same layout: whether the map moved beyond its noise (e.g. from
        :meth:`NoiseThreshold.moved`): bools or 0/1, NaN where missing.
    :param strengths: The ``K`` strengths, strictly monotonic (increasing or decreasing: a sweep whose parameter falls
        as the perturbation grows, such as a JPEG quality, is listed in its own order, weakest first); ``None``:
        ``0, 1, ..., K - 1``.
    :param sustained: ``False``: the first strength at which the event is observed; ``True``: the first strength
        from which it holds at every stronger strength.
    :return: A :class:`WarningMargin`.
    :raises TypeError: Non-numeric values or strengths, a ``sustained`` that is not a bool.
    :raises ValueError: Arrays not ``N x K`` alike, values other than 0/1/NaN, strengths of the wrong length or not
        strictly monotonic.
    """
    flips = _events(flipped, "flipped")
    moves = _events(moved, "moved")
    if flips.shape != moves.shape:
        raise ValueError(
            f"flipped and moved must both be images x strengths alike, got {flips.shape} and {moves.shape}"
        )
    n, k = flips.shape
    levels = _strengths(strengths, k)
    if not isinstance(sustained, bool):
        raise TypeError(f"sustained must be a bool, got {sustained!r}")
    complete = ~(np.isnan(flips).any(axis=1) | np.isnan(moves).any(axis=1))
    flip_at = _first(flips == 1.0, sustained)
    move_at = _first(moves == 1.0, sustained)
    flip_at[~complete] = -1
    move_at[~complete] = -1
    classes = []
    for i in range(n):
        f, m = int(flip_at[i]), int(move_at[i])
        if not complete[i]:
            classes.append(INCOMPLETE)
        elif f >= 0 and m >= 0:
            classes.append(MAP_FIRST if m < f else SAME_STRENGTH if m == f else MAP_AFTER)
        else:
            classes.append(MAP_ONLY if m >= 0 else FLIP_ONLY if f >= 0 else NEITHER)
    values = np.asarray(levels, dtype=np.float64)
    both = (flip_at >= 0) & (move_at >= 0)
    return WarningMargin(
        strengths=levels,
        first_flip=np.where(flip_at >= 0, values[np.maximum(flip_at, 0)], np.nan),
        first_move=np.where(move_at >= 0, values[np.maximum(move_at, 0)], np.nan),
        lead_steps=np.where(both, (flip_at - move_at).astype(np.float64), np.nan),
        classes=tuple(classes),
        counts={name: classes.count(name) for name in MARGIN_CLASSES},
        n_images=int(complete.sum()),
        n_incomplete=int(n - complete.sum()),
        sustained=sustained,
    )


def _events(values: Any, name: str) -> np.ndarray:
    array = check_samples(values, name, ndim=2)
    known = array[~np.isnan(array)]
    if not np.isin(known, (0.0, 1.0)).all():
        raise ValueError(f"{name} must be bools or 0/1 (NaN where missing), got values {np.unique(known)[:5].tolist()}")
    return array


def _strengths(strengths: Sequence[float] | None, k: int) -> tuple[float, ...]:
    if strengths is None:
        return tuple(float(i) for i in range(k))
    levels = check_samples(strengths, "strengths")
    if levels.size != k:
        raise ValueError(f"strengths must have one value per column of flipped and moved ({k}), got {levels.size}")
    steps = np.diff(levels)
    if not np.isfinite(levels).all() or not (np.all(steps > 0) or np.all(steps < 0)):
        raise ValueError(f"strengths must be finite and strictly monotonic (weakest first), got {levels.tolist()}")
    return tuple(float(v) for v in levels)


def _first(events: np.ndarray, sustained: bool) -> np.ndarray:
    """Per row, the index of the first event (or of the first from which every later column is an event); -1 if
    none."""
    if sustained:
        events = np.flip(np.logical_and.accumulate(np.flip(events, axis=1), axis=1), axis=1)
    return np.where(events.any(axis=1), np.argmax(events, axis=1), -1)
