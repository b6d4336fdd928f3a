"""Scale profiles: the share of WCAM importance carried by each wavelet level.

Index 0 is the approximation (coarsest), index ``L`` the finest details (Kasmi et al., 2023, Sec. 3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from xaitk_wcam.viz.maps import LABEL_SIZE, TITLE_SIZE
from xaitk_wcam.viz.text import PLAIN, plain_legend


def level_names(n_levels: int) -> list[str]:
    """Axis names of a profile with ``n_levels`` entries: ``approx``, then ``L1`` (coarse) ... (fine)."""
    return ["approx"] + [f"L{i}" for i in range(1, n_levels)]


def plot_scale_profile(ax: Any, profile: Sequence[float] | np.ndarray, *, label: str | None = None) -> None:
    """Bar chart of one scale profile.

    :param ax: Matplotlib axes.
    :param profile: ``levels + 1`` shares (coarse to fine), usually summing to 1.
    """
    values = np.asarray(profile, dtype=np.float64)
    if values.ndim != 1 or values.size < 1:
        raise ValueError(f"profile must be a 1-D sequence of shares, got shape {values.shape}")
    ax.bar(np.arange(values.size), values, color="tab:blue", label=label)
    ax.set_xticks(np.arange(values.size), level_names(values.size), fontsize=LABEL_SIZE)
    ax.set_xlabel("level: approximation, then coarse to fine", fontsize=LABEL_SIZE - 1)
    ax.set_ylabel("share of importance", fontsize=LABEL_SIZE)
    ax.set_ylim(0, max(1.0, float(np.nanmax(values)) if np.isfinite(values).any() else 1.0))


def plot_grouped_profiles(ax: Any, profiles: Mapping[str, Sequence[float]], *, title: str | None = None) -> None:
    """Grouped bars: one group per level, one bar per profile (e.g. one per perturbation strength).

    :param ax: Matplotlib axes.
    :param profiles: Legend label -> ``levels + 1`` shares; all of the same length.
    """
    if not profiles:
        raise ValueError("profiles must hold at least one profile")
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in profiles.items()}
    sizes = {a.size for a in arrays.values()}
    if len(sizes) != 1:
        raise ValueError(f"profiles must all have the same length, got lengths {sorted(sizes)}")
    n_levels = sizes.pop()
    width = 0.8 / len(arrays)
    x = np.arange(n_levels)
    for i, (name, values) in enumerate(arrays.items()):
        ax.bar(x + (i - (len(arrays) - 1) / 2) * width, values, width=width, label=name)
    ax.set_xticks(x, level_names(n_levels), fontsize=LABEL_SIZE)
    ax.set_ylabel("mean share of importance", fontsize=LABEL_SIZE)
    plain_legend(ax, fontsize=LABEL_SIZE - 2)
    if title:
        ax.set_title(title, fontsize=TITLE_SIZE, **PLAIN)
