"""The verdict of a sweep in one panel: how far each comparison moved beyond the method's noise, strength by strength,
beside how often the model broke."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def plot_change_beyond_noise(
    ax: Any,
    strengths: Sequence[float],
    change: Sequence[float],
    low: Sequence[float],
    high: Sequence[float],
    moves: Sequence[bool],
    *,
    label: str,
) -> None:
    """One comparison's mean change beyond the noise floor against strength, with its interval (error bars); a
    filled marker where the verdict is "moves", a hollow one elsewhere; a dotted line at 0 (no movement beyond the
    noise).

    :param strengths: The sweep's strengths.
    :param change: Mean change beyond the noise per strength (NaN where there is no value).
    :param low: Lower ends of the intervals; ``high``: upper ends.
    :param moves: Per strength, whether the verdict is "moves".
    :param label: Legend label (the comparison).
    """
    x = np.asarray(strengths, dtype=np.float64)
    y = np.asarray(change, dtype=np.float64)
    if not (x.shape == y.shape == np.shape(low) == np.shape(high) == np.shape(moves)):
        raise ValueError("strengths, change, low, high and moves must have one value per strength")
    error = np.abs(np.vstack([y - np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64) - y]))
    (line,) = ax.plot(x, y, label=label, linewidth=1)
    ax.errorbar(x, y, yerr=np.nan_to_num(error), fmt="none", ecolor=line.get_color(), capsize=3, linewidth=1)
    filled = np.asarray(moves, dtype=bool)
    ax.plot(x[filled], y[filled], "o", color=line.get_color())
    ax.plot(x[~filled], y[~filled], "o", markerfacecolor="white", color=line.get_color())
    ax.axhline(0.0, color="grey", linestyle=":", linewidth=0.8)


def plot_break_rate(ax: Any, strengths: Sequence[float], rate: Sequence[float], *, label: str) -> Any:
    """The share of samples on which the model broke, per strength, on a twin axis in ``[0, 1]`` (grey, dashed).

    :return: The twin axes.
    """
    twin = ax.twinx()
    twin.plot(np.asarray(strengths, dtype=np.float64), np.asarray(rate, dtype=np.float64), "s--", color="0.45",
              markersize=4, linewidth=1, label=label)  # fmt: skip
    twin.set_ylim(-0.05, 1.05)
    twin.set_ylabel(label, fontsize=7, color="0.35")
    twin.tick_params(labelsize=6, colors="0.35")
    return twin
