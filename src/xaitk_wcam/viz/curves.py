"""Metric-versus-strength curves of a perturbation sweep, with a confidence band over images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def mean_and_band(values: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over rows and a normal-approximation confidence band ``mean +/- z * sem``, per column.

    :param values: ``n_images x n_strengths`` (``nan`` entries ignored; an infinite entry, such as the SSD of an
        empty map, makes its column's mean infinite: no point is drawn there rather than a mean that leaves it out).
    :param z: Normal quantile (1.96 for 95 %).
    :return: ``(mean, low, high)``, each ``n_strengths``; the band is the mean where fewer than two
        values exist or the mean is not finite.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"values must be n_images x n_strengths, got shape {values.shape}")
    present = ~np.isnan(values)
    n = present.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mean = np.where(n > 0, np.nansum(values, axis=0) / np.maximum(n, 1), np.nan)
        centred = np.where(present, values - mean, 0.0)
        var = (centred**2).sum(axis=0) / np.maximum(n - 1, 1)
        sem = np.where((n > 1) & np.isfinite(mean), np.sqrt(var / np.maximum(n, 1)), 0.0)
        return mean, mean - z * sem, mean + z * sem


def plot_metric_curve(
    ax: Any,
    strengths: Sequence[float],
    values: np.ndarray,
    *,
    label: str,
    reference: float | None = None,
    noise_floor: tuple[float, float] | None = None,
) -> None:
    """One metric against perturbation strength: mean over images with its 95 % band.

    :param ax: Matplotlib axes.
    :param strengths: ``n_strengths`` values of the swept parameter.
    :param values: ``n_images x n_strengths`` metric values.
    :param label: Legend label (e.g. the saliency method).
    :param reference: Mean value on the unperturbed images, drawn as a dashed line, or ``None``.
    :param noise_floor: ``(low, high)`` of the same comparison between two seeds of the unperturbed image,
        drawn as a hatched horizontal band: a perturbation inside it changes the map no more than the seed does.

    A mean that is infinite (an image's value is, as the SSD of an empty map) has no place on the y-axis: it is drawn
    as a triangle on the panel's top (``+inf``) or bottom (``-inf``) edge, at its strength.
    """
    x = np.asarray(strengths, dtype=np.float64)
    mean, low, high = mean_and_band(values)
    if mean.shape != x.shape:
        raise ValueError(f"values has {mean.size} strengths, strengths has {x.size}")
    (line,) = ax.plot(x, mean, marker="o", label=label)
    for sign, marker, edge in ((1, "^", 1.0), (-1, "v", 0.0)):
        infinite = np.isinf(mean) & (np.sign(mean) == sign)
        if infinite.any():  # x in data, y in axes fractions: on the edge, whatever the y-limits
            ax.plot(x[infinite], np.full(int(infinite.sum()), edge), linestyle="none", marker=marker,
                    color=line.get_color(), transform=ax.get_xaxis_transform(), clip_on=False)  # fmt: skip
    ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    if reference is not None and np.isfinite(reference):
        ax.axhline(reference, color=line.get_color(), linestyle="--", linewidth=0.8)
    if noise_floor is not None and np.isfinite(noise_floor).all():
        ax.axhspan(*noise_floor, facecolor="none", edgecolor=line.get_color(), hatch="///", linewidth=0.0, alpha=0.5)
