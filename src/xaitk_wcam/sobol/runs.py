"""Designs that grow: evaluate, estimate total indices, measure their stability, double when asked.

A run owns a design and the model outputs at its rows; it never evaluates a row twice. The model is reached
through an ``evaluate(n_rows, rows)`` callback (``rows(start, stop)`` gives the ``[start, stop)`` design rows,
``(stop - start) x d`` in ``[0, 1]``; the callback returns ``n_rows x K`` outputs), so this module stays pure
numpy and is tested on closed-form functions.

- :class:`ClassicRun`: Saltelli's ``A, B, C_i`` design and the Jansen / Homma / Janon estimators. Growing
  from ``N`` to ``2N`` evaluates only the rows of the ``N`` new Sobol points (the first ``N`` points of a
  scrambled Sobol sequence are the same whatever its length), and gives exactly the fixed ``2N`` design.
- :class:`ImportanceRun`: the importance-sampled design of :mod:`.importance`, as blocks drawn from
  consecutive Sobol points: a design of size ``N`` is the blocks ``[8, 8, 16, ..., N / 2]`` (one block when
  ``N <= 8``), so a doubled run is the fixed run of the doubled size.

**Stability.** Two estimates from disjoint halves of the evaluations (a classic design's first and second
``N / 2`` Sobol points; an importance design's last block and the blocks before it, or the alternate draws
of a single block) are rank-correlated over the cells (Spearman) for each class, and the Spearman-Brown
formula ``2 r / (1 + r)`` extrapolates to the full design: the expected rank correlation between this map
and the map of another seed at the same cost. :attr:`Estimate.stability` is its median over the classes
whose output varies. Per-cell standard errors come from the spread of the per-row terms (Jansen, importance)
or of the two halves (Homma, Janon). Both reuse the outputs: their cost is a few estimator evaluations.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from xaitk_wcam.sobol.design import SobolDesign, sobol_points
from xaitk_wcam.sobol.estimators import ESTIMATORS, constant_outputs, jansen_terms, output_scale, safe_divide
from xaitk_wcam.sobol.importance import (
    Allocation,
    ImportanceBlock,
    combine_blocks,
    estimate_block,
    inclusion_probabilities,
    pool_statistics,
    sensitivity_weights,
    systematic_sample,
)

#: ``evaluate(n_rows, rows)``: model outputs (``n_rows x K``) at design rows given by ``rows(start, stop)``.
Evaluate = Callable[[int, Callable[[int, int], np.ndarray]], np.ndarray]

#: Classes per block of the classic estimators (bounds their temporaries to ``d x N x 64`` floats).
CLASS_BLOCK = 64

#: Largest first block of an importance design (and the size ``nb_design="auto"`` starts from).
BASE_BLOCK = 8


@dataclass
class Estimate:
    """Total indices of a run.

    :param indices: ``d x K`` total Sobol indices.
    :param index_std: ``d x K`` standard errors of ``indices``.
    :param stability: Split-half reliability of the cell ranking (see the module doc), or ``None`` when no
        class varies or the design is too small to split.
    :param class_stability: ``K`` per-class reliabilities (``nan`` for a class that does not vary).
    :param n_evaluations: Model evaluations spent.
    :param variance: ``K`` total variance of each output.
    :param constant: ``K`` booleans: the outputs that do not vary (within rounding of their scale,
        :func:`~xaitk_wcam.sobol.estimators.constant_outputs`); their indices and errors are 0.
    """

    indices: np.ndarray
    index_std: np.ndarray
    stability: float | None
    class_stability: np.ndarray
    n_evaluations: int
    variance: np.ndarray
    constant: np.ndarray


def split_half_reliability(half_a: np.ndarray, half_b: np.ndarray, varying: np.ndarray) -> np.ndarray:
    """Per-class Spearman-Brown reliability ``2 r / (1 + r)`` of two ``d x K`` half estimates, ``r`` their Spearman
    correlation over the cells (Pearson of average ranks, all classes at once); ``nan`` where the output does not
    vary or a half is constant or not finite."""
    ranks_a, ranks_b = rankdata(half_a, axis=0), rankdata(half_b, axis=0)
    ranks_a -= ranks_a.mean(axis=0)
    ranks_b -= ranks_b.mean(axis=0)
    norm = np.sqrt((ranks_a**2).sum(axis=0) * (ranks_b**2).sum(axis=0))
    usable = varying & (norm > 0) & np.isfinite(half_a).all(axis=0) & np.isfinite(half_b).all(axis=0)
    r = np.divide((ranks_a * ranks_b).sum(axis=0), norm, out=np.full(len(norm), np.nan), where=usable)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(2 * r / (1 + r), -1.0, 1.0)  # r = -1 gives -inf: clipped to -1


class Run(abc.ABC):
    """A design that grows; subclasses define the rows, the estimate and the halves."""

    def __init__(self, nb_dim: int, seed: int, evaluate: Evaluate) -> None:
        self.nb_dim, self.seed, self.evaluate = nb_dim, seed, evaluate
        self.nb_design = 0

    @abc.abstractmethod
    def grow_to(self, nb_design: int) -> None:
        """Evaluate what a design of ``nb_design`` needs beyond what is evaluated already."""

    @abc.abstractmethod
    def cost_of(self, nb_design: int) -> int:
        """Evaluations of a design of ``nb_design`` (from scratch)."""

    @abc.abstractmethod
    def estimate(self) -> Estimate:
        """Total indices, errors and stability of what is evaluated."""


class ClassicRun(Run):
    """Saltelli's design with a classic estimator (``"jansen"``, ``"homma"``, ``"janon"``)."""

    def __init__(self, nb_dim: int, seed: int, evaluate: Evaluate, estimator: str) -> None:
        super().__init__(nb_dim, seed, evaluate)
        self.estimator = estimator
        self.outputs: np.ndarray | None = None  # N (d + 2) x K, in the design's row order

    def cost_of(self, nb_design: int) -> int:
        return nb_design * (self.nb_dim + 2)

    def grow_to(self, nb_design: int) -> None:
        design = SobolDesign(self.nb_dim, nb_design, self.seed)
        if self.outputs is None:
            self.outputs = self.evaluate(len(design), design.rows)
        else:  # keep the rows of the first N points, evaluate those of the new ones
            old = self.nb_design
            index = np.arange(len(design))
            group, sample = index // nb_design, index % nb_design
            new = index[sample >= old]
            outputs = np.empty((len(design), self.outputs.shape[1]), dtype=self.outputs.dtype)
            kept = index[sample < old]
            outputs[kept] = self.outputs[group[kept] * old + sample[kept]]
            outputs[new] = self.evaluate(len(new), lambda start, stop: design.rows_at(new[start:stop]))
            self.outputs = outputs
        self.nb_design = nb_design

    def _indices(self, outputs: np.ndarray, nb_design: int) -> np.ndarray:
        estimator = ESTIMATORS[self.estimator]
        k = outputs.shape[1]
        return np.concatenate(
            [estimator(outputs[:, c : c + CLASS_BLOCK], nb_design) for c in range(0, k, CLASS_BLOCK)], axis=1
        )

    def _half(self, which: int) -> np.ndarray:
        n, half = self.nb_design, self.nb_design // 2
        grouped = self.outputs.reshape(self.nb_dim + 2, n, -1)
        part = grouped[:, :half] if which == 0 else grouped[:, half:]
        return part.reshape((self.nb_dim + 2) * half, -1)

    def estimate(self) -> Estimate:
        outputs, n = self.outputs, self.nb_design
        indices = self._indices(outputs, n)
        variance = np.var(np.concatenate([outputs[:n], outputs[n : 2 * n]]), axis=0, ddof=1)
        scale = output_scale(outputs)
        constant = constant_outputs(variance, scale)
        varying = ~constant
        if n >= 2:
            half_a, half_b = self._indices(self._half(0), n // 2), self._indices(self._half(1), n // 2)
            reliability = split_half_reliability(half_a, half_b, varying)
        else:
            half_a = half_b = indices
            reliability = np.full(len(variance), np.nan)
        if self.estimator == "jansen" and n >= 2:
            index_std = safe_divide(_jansen_std(outputs, n) / np.sqrt(n), variance, scale)
        else:  # the spread of the two half estimates: var(mean) ~ (a - b)**2 / 4
            index_std = np.abs(half_a - half_b) / 2
        return Estimate(indices, index_std, _median(reliability), reliability, len(outputs), variance, constant)


def _jansen_std(outputs: np.ndarray, nb_design: int) -> np.ndarray:
    """``d x K`` standard deviation over the ``N`` rows of Jansen's terms ``(f(A) - f(C_i))**2 / 2``."""
    k = outputs.shape[1]
    return np.concatenate(
        [
            jansen_terms(outputs[:, c : c + CLASS_BLOCK], nb_design).std(axis=1, ddof=1)
            for c in range(0, k, CLASS_BLOCK)
        ],
        axis=1,
    )


def _median(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else None


def importance_schedule(nb_design: int) -> list[int]:
    """Block sizes of an importance design of ``nb_design`` (a power of two): ``[N]`` up to
    :data:`BASE_BLOCK`, else ``[8, 8, 16, ..., N / 2]``."""
    if nb_design <= BASE_BLOCK:
        return [nb_design]
    blocks = [BASE_BLOCK]
    while sum(blocks) < nb_design:
        blocks.append(sum(blocks))
    return blocks


class ImportanceRun(Run):
    """The importance-sampled design of :mod:`.importance`, block by block.

    :param dense: ``d`` booleans: the cells estimated on plain rows (see :mod:`.importance`).
    """

    def __init__(self, nb_dim: int, seed: int, evaluate: Evaluate, dense: np.ndarray | None = None) -> None:
        super().__init__(nb_dim, seed, evaluate)
        self.dense = np.zeros(nb_dim, dtype=bool) if dense is None else np.asarray(dense, dtype=bool)
        self.blocks: list[ImportanceBlock] = []
        self.n_evaluations = 0
        self._next_point = 0

    def _allocation(self, block_size: int) -> Allocation:
        return Allocation.for_budget(block_size, int(self.dense.sum()), int((~self.dense).sum()))

    def cost_of(self, nb_design: int) -> int:
        n_dense, n_sparse = int(self.dense.sum()), int((~self.dense).sum())
        return sum(self._allocation(size).n_evaluations(n_dense, n_sparse) for size in importance_schedule(nb_design))

    def grow_to(self, nb_design: int) -> None:
        for size in importance_schedule(nb_design)[len(self.blocks) :]:
            self._add_block(size)
        self.nb_design = nb_design

    def _add_block(self, size: int) -> None:
        allocation = self._allocation(size)
        start = self._next_point
        a, b = sobol_points(self.nb_dim, start, start + allocation.pool, self.seed)
        self._next_point += allocation.pool
        pool_outputs = self.evaluate(allocation.pool, lambda lo, hi: a[lo:hi])
        pi_all = None
        if allocation.sparse_rows:
            pi_all = inclusion_probabilities(sensitivity_weights(pool_outputs), allocation.sparse_rows)
        u = np.random.default_rng([self.seed, len(self.blocks)]).random()
        selected = systematic_sample(pi_all, u) if pi_all is not None else np.empty(0, dtype=np.int64)
        dense_cells, sparse_cells = np.flatnonzero(self.dense), np.flatnonzero(~self.dense)
        # (base point, cell) of every C row: the dense cells on the first pool points, the sparse on the draws
        points = np.concatenate(
            [np.repeat(np.arange(allocation.dense_rows), len(dense_cells)), np.repeat(selected, len(sparse_cells))]
        )
        cells = np.concatenate([np.tile(dense_cells, allocation.dense_rows), np.tile(sparse_cells, len(selected))])

        def c_rows(lo: int, hi: int) -> np.ndarray:
            rows = a[points[lo:hi]].copy()
            rows[np.arange(hi - lo), cells[lo:hi]] = b[points[lo:hi], cells[lo:hi]]
            return rows

        outputs = self.evaluate(len(points), c_rows)
        n_dense_rows = allocation.dense_rows * len(dense_cells)
        k = outputs.shape[1]
        dense_out = outputs[:n_dense_rows].reshape(allocation.dense_rows, len(dense_cells), k).transpose(1, 0, 2)
        sparse_out = outputs[n_dense_rows:].reshape(len(selected), len(sparse_cells), k).transpose(1, 0, 2)
        pi = pi_all[selected] if pi_all is not None else np.empty(0)
        self.blocks.append(
            estimate_block(pool_outputs, dense_out, sparse_out, selected, pi, self.dense, weight=float(size))
        )
        self.n_evaluations += allocation.pool + len(points)

    def estimate(self) -> Estimate:
        indices, index_std, variance = combine_blocks(self.blocks)
        _, scale = pool_statistics(self.blocks)
        constant = constant_outputs(variance, scale)
        varying = ~constant
        if len(self.blocks) > 1:
            half_a, _, _ = combine_blocks(self.blocks[:-1])
            half_b, _, _ = combine_blocks(self.blocks[-1:])
        else:
            block = self.blocks[0]
            half_a, half_b = (safe_divide(h, variance, scale) for h in block.halves)
        reliability = split_half_reliability(half_a, half_b, varying)
        return Estimate(indices, index_std, _median(reliability), reliability, self.n_evaluations, variance, constant)
