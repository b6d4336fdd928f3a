"""Replicated quasi-Monte-Carlo design for total-order Sobol indices (Saltelli's scheme).

Fel et al., "Look at the Variance! Efficient Black-box Explanations with Sobol-based Sensitivity
Analysis", NeurIPS 2021, estimate the total Sobol index of each of ``d`` mask variables from
``N * (d + 2)`` model evaluations: two independent ``N x d`` matrices ``A`` and ``B`` and, for each
variable ``i``, the matrix ``C_i`` equal to ``A`` with column ``i`` taken from ``B``. ``A`` and ``B``
are the two halves of one scrambled Sobol sequence of dimension ``2d`` (scipy.stats.qmc).

Rows are ordered ``A`` (N rows), ``B`` (N rows), then ``C_1 ... C_d`` (N rows each). They are built
on demand, a slice at a time, so memory never holds the ``N * (d + 2) x d`` design. ``A`` and ``B`` themselves
(``2 N d`` float32) are drawn from the sequence in blocks of at most :data:`BLOCK_BYTES` of float64, never as one
``N x 2d`` float64 sample (three times their size): the points are the same, bit for bit, as scipy draws them
in one call. ``N`` is at most :data:`MAX_NB_DESIGN`.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import qmc

#: Largest design size: 2**20 base points, ``2**20 * (g**2 + 2)`` forward passes (824 million at ``g = 28``).
MAX_NB_DESIGN = 2**20

#: Most bytes of the float64 Sobol sample drawn at once (scipy allocates as much again while drawing it).
BLOCK_BYTES = 1 << 18


def check_nb_design(nb_design: int) -> None:
    """``nb_design`` must be a power of two (a balanced Sobol sample), at most :data:`MAX_NB_DESIGN`."""
    if isinstance(nb_design, bool) or not isinstance(nb_design, (int, np.integer)):
        raise TypeError(f"nb_design must be an int (a power of two), got {type(nb_design).__name__}")
    if nb_design < 1 or nb_design & (nb_design - 1) or nb_design > MAX_NB_DESIGN:
        raise ValueError(
            f"nb_design must be a power of two (1, 2, 4, 8, ...) <= {MAX_NB_DESIGN:,} (MAX_NB_DESIGN), got {nb_design}"
        )


class SobolDesign:
    """The ``A``, ``B``, ``C_i`` design for ``nb_dim`` variables in ``[0, 1]``.

    :param nb_dim: Number of variables ``d`` (``grid_size**2`` for WCAM).
    :param nb_design: ``N``, a power of two.
    :param seed: Seed of the Sobol scrambling; the same seed gives the same design.
    """

    def __init__(self, nb_dim: int, nb_design: int, seed: int) -> None:
        check_nb_design(nb_design)
        if nb_dim < 1:
            raise ValueError(f"nb_dim must be >= 1, got {nb_dim}")
        self.nb_dim, self.nb_design = nb_dim, nb_design
        self.a, self.b = sobol_points(nb_dim, 0, nb_design, seed)

    def __len__(self) -> int:
        """Number of design rows, ``N * (d + 2)``: the number of model evaluations."""
        return self.nb_design * (self.nb_dim + 2)

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Design rows ``[start, stop)`` as a ``(stop - start) x d`` float32 array."""
        return self.rows_at(np.arange(start, min(stop, len(self))))

    def rows_at(self, index: np.ndarray) -> np.ndarray:
        """Design rows at the given row indices, as a ``len(index) x d`` float32 array."""
        n, index = self.nb_design, np.asarray(index, dtype=np.int64)
        out = np.where((index < n)[:, None], self.a[index % n], self.b[index % n])
        in_c = index >= 2 * n
        variable = (index[in_c] - 2 * n) // n
        sample = index[in_c] % n
        out[in_c] = self.a[sample]
        out[in_c, variable] = self.b[sample, variable]
        return out


def sobol_points(nb_dim: int, start: int, stop: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points ``[start, stop)`` of the scrambled Sobol sequence of :class:`SobolDesign` (same seed, same points),
    split into their ``A`` and ``B`` halves: two ``(stop - start) x nb_dim`` float32 arrays.

    A design that grows block by block draws its blocks from consecutive ranges of one sequence. The points are
    drawn :data:`BLOCK_BYTES` of float64 at a time into the float32 halves (scipy's sequence continues from one
    call to the next, so the points equal those of one call).
    """
    engine = qmc.Sobol(d=2 * nb_dim, scramble=True, seed=seed)
    if start:
        engine.fast_forward(start)
    n = stop - start
    a, b = np.empty((n, nb_dim), dtype=np.float32), np.empty((n, nb_dim), dtype=np.float32)
    block = max(1, BLOCK_BYTES // (16 * nb_dim))
    with warnings.catch_warnings():  # blocks need not be powers of two; their union keeps the balance
        warnings.simplefilter("ignore", UserWarning)
        for lo in range(0, n, block):
            sample = engine.random(min(block, n - lo))
            a[lo : lo + len(sample)] = sample[:, :nb_dim]
            b[lo : lo + len(sample)] = sample[:, nb_dim:]
    return a, b
