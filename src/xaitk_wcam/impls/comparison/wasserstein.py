"""2-D earth mover's (Wasserstein-1) distance between two maps, computed exactly with POT.

As the WCAM authors compare WCAMs (Kasmi et al. 2023), each map's non-negative part is normalised to
mass 1 and the distance is the cheapest transport of one onto the other, with the Euclidean distance
between pixel centres as ground cost. Maps larger than ``grid_size`` on a side are first summed over
blocks (mass-preserving pooling) to at most ``grid_size x grid_size`` cells placed at the blocks'
centres, so that the exact solver (``ot.emd2``, network simplex, ``O(n**3)`` for ``n`` cells) stays
fast: 32 x 32 = 1024 cells takes well under a second. Distances are in units of the map's diagonal.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from xaitk_wcam.interfaces.saliency_comparison import SaliencyComparison
from xaitk_wcam.statistics.change import DISTANCE
from xaitk_wcam.utils.extras import has_extra, require_extra


def pooled_mass(values: np.ndarray, grid_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Mass per cell (``values`` summed over blocks) and the cells' centres in pixel coordinates.

    :param values: ``H x W`` non-negative map.
    :param grid_size: At most this many cells per side.
    :return: ``mass`` (``n``) and ``centres`` (``n x 2``, row and column of each block's centre).
    """
    axes = []
    for n in values.shape:
        step = -(-n // grid_size)
        starts = np.arange(0, n, step)
        stops = np.append(starts[1:], n)
        axes.append((starts, (starts + stops - 1) / 2.0))
    (row_starts, row_centres), (col_starts, col_centres) = axes
    mass = np.add.reduceat(np.add.reduceat(values, row_starts, axis=0), col_starts, axis=1)
    centres = np.stack(np.meshgrid(row_centres, col_centres, indexing="ij"), axis=-1).reshape(-1, 2)
    return mass.ravel(), centres


class Wasserstein(SaliencyComparison):
    """Earth mover's distance between two maps normalised to mass 1, over the map's diagonal; lower is closer.

    0 for maps with the same normalised non-negative part; moving all the mass by ``d`` pixels gives
    ``d / sqrt(H**2 + W**2)`` (exact when the map fits in ``grid_size``, else up to the pooling).
    A map without positive mass gives ``nan`` with a ``RuntimeWarning``. Needs POT
    (``pip install "xaitk-wcam[wasserstein]"``).
    """

    direction = DISTANCE

    def __init__(self, grid_size: int = 32) -> None:
        """:param grid_size: Maximum cells per side after pooling (>= 1); cost grows as ``grid_size**6``."""
        if isinstance(grid_size, bool) or not isinstance(grid_size, int):
            raise TypeError(f"grid_size must be an int >= 1, got {grid_size!r}")
        if grid_size < 1:
            raise ValueError(f"grid_size must be an int >= 1, got {grid_size}")
        self.grid_size = grid_size
        require_extra("wasserstein", "Wasserstein")

    @classmethod
    def is_usable(cls) -> bool:
        """Usable when POT (``ot``, the ``wasserstein`` extra) is installed."""
        return has_extra("wasserstein")

    def _compute(self, sal_map: np.ndarray, ref_sal_map: np.ndarray) -> float:
        a = np.maximum(sal_map, 0.0)
        b = np.maximum(ref_sal_map, 0.0)
        if a.sum() <= 0 or b.sum() <= 0:
            warnings.warn("Wasserstein: a map has no positive mass; returning nan", RuntimeWarning, stacklevel=3)
            return float("nan")
        mass_a, centres = pooled_mass(a, self.grid_size)
        mass_b, _ = pooled_mass(b, self.grid_size)
        import ot  # POT: imported where it is used (plugin discovery imports this module)

        cost = ot.dist(centres, centres, metric="euclidean")
        distance = ot.emd2(mass_a / mass_a.sum(), mass_b / mass_b.sum(), cost, numItermax=10_000_000)
        return float(distance) / float(np.hypot(*sal_map.shape))

    def get_config(self) -> dict[str, Any]:
        return {"grid_size": self.grid_size}
