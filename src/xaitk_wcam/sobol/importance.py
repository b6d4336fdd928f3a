"""Importance-sampled Jansen estimator: spend each cell's evaluations on the base points where the model reacts.

Jansen's total index of cell ``i`` averages ``(f(A_j) - f(C_ij))**2 / 2`` over base points ``A_j``
(``C_ij``: ``A_j`` with coordinate ``i`` redrawn). For a classifier's probability most base points are
*saturated*: the masked image is classified with a confidence near 0 or 1 whatever one cell does, and the
average is decided by the few base points near the decision boundary. Measured on the ScaleShapes models,
``p (1 - p)`` of the base point's own confidence ranks the base points by their detail-cell sensitivity with a
Spearman correlation of 0.98, and the top quarter holds almost all of it (``benchmarks/sample_efficiency.py``).

So the design is two-phase (Horvitz & Thompson 1952; defensive mixture: Hesterberg 1995):

1. a *pool* of ``M`` base points (scrambled Sobol points, the ``A`` half of each point), one evaluation each;
2. ``n`` of them drawn with inclusion probabilities ``pi_j`` proportional to a mixture of uniform
   (share :data:`DEFENSIVE`) and ``(p_j (1 - p_j))**2`` (the expected size of ``(f(A_j) - f(C_ij))**2``
   for a logistic output), by systematic sampling; each drawn base point costs one evaluation per cell;
3. the Horvitz-Thompson estimate of the pool's mean, ``sum_j (f(A_j) - f(C_ij))**2 / (2 M pi_j)``, which is
   unbiased for the numerator of Jansen's estimator whatever the inclusion probabilities.

*Dense* cells (for WCAM, the approximation band: masking it changes the image so much that even saturated base
points react) are few, and measured on the same images they lose accuracy under this sampling; they keep
Jansen's plain estimator on the first base points of the pool. The total variance is the pool's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xaitk_wcam.sobol.estimators import output_scale, safe_divide

#: Share of the uniform component in the inclusion probabilities (bounds the weights ``1 / pi`` by ``M / (n D)``).
DEFENSIVE = 0.2

#: Rows of every dense cell, per unit of ``nb_design``.
DENSE_ROWS_PER_DESIGN = 4


@dataclass(frozen=True)
class Allocation:
    """How one design of ``nb_design * (d + 2)`` evaluations is spent.

    :param pool: Base points ``M`` evaluated once each.
    :param dense_rows: Base points (the first of the pool) on which every dense cell is evaluated.
    :param sparse_rows: Base points drawn from the pool on which every sparse cell is evaluated.
    """

    pool: int
    dense_rows: int
    sparse_rows: int

    @classmethod
    def for_budget(cls, nb_design: int, n_dense: int, n_sparse: int) -> Allocation:
        """Spend the budget of a classic design of ``nb_design``: ``nb_design - 1`` drawn base points for the
        sparse cells, ``4 nb_design`` for the dense ones, and every evaluation left over on the pool.

        :param nb_design: The classic design size ``N``.
        :param n_dense: Number of dense cells.
        :param n_sparse: Number of sparse cells.
        """
        budget = nb_design * (n_dense + n_sparse + 2)
        sparse = max(1, nb_design - 1) if n_sparse else 0
        dense = DENSE_ROWS_PER_DESIGN * nb_design if n_dense else 0
        while dense > 1 and budget - sparse * n_sparse - dense * n_dense < max(dense, 2 * sparse, 2):
            dense //= 2
        pool = budget - sparse * n_sparse - dense * n_dense
        return cls(pool=pool, dense_rows=dense, sparse_rows=sparse)

    def n_evaluations(self, n_dense: int, n_sparse: int) -> int:
        """Evaluations of the design: pool + dense cells x dense rows + sparse cells x sparse rows."""
        return self.pool + self.dense_rows * n_dense + self.sparse_rows * n_sparse


def sensitivity_weights(pool_outputs: np.ndarray) -> np.ndarray:
    """Expected size of a base point's squared differences, ``(p (1 - p))**2``, averaged over the classes after
    normalising each class's weights to sum 1.

    Outputs outside ``[0, 1]`` (not probabilities) are first rescaled to ``[0, 1]`` by their range over the pool.

    :param pool_outputs: ``M x K`` outputs at the pool's base points.
    :return: ``M`` non-negative weights summing to 1 (uniform when no class varies).
    """
    p = np.asarray(pool_outputs, dtype=np.float64)
    if p.min() < 0.0 or p.max() > 1.0:
        low, high = p.min(axis=0), p.max(axis=0)
        p = (p - low) / np.where(high > low, high - low, 1.0)
    size = (p * (1.0 - p)) ** 2
    total = size.sum(axis=0)
    varying = total > 0
    if not varying.any():
        return np.full(len(p), 1.0 / len(p))
    weights = (size[:, varying] / total[varying]).mean(axis=1)
    return weights / weights.sum()


def inclusion_probabilities(weights: np.ndarray, n: int, defensive: float = DEFENSIVE) -> np.ndarray:
    """Inclusion probabilities of ``n`` draws among ``M`` base points: ``n`` times the mixture
    ``defensive / M + (1 - defensive) * weights``, capped at 1 (the excess of capped points is shared among
    the others in proportion), summing to ``n``.

    :param weights: ``M`` non-negative weights summing to 1.
    :param n: Number of draws, ``1 <= n <= M``.
    """
    m = len(weights)
    if not 1 <= n <= m:
        raise ValueError(f"n must be in [1, {m}], got {n}")
    pi = n * (defensive / m + (1.0 - defensive) * np.asarray(weights, dtype=np.float64))
    capped = np.zeros(m, dtype=bool)
    while (pi > 1.0 + 1e-12).any():
        capped |= pi >= 1.0
        free = n - capped.sum()
        rest = pi[~capped]
        pi = np.where(capped, 1.0, 0.0)
        pi[~capped] = rest * (free / rest.sum()) if rest.sum() > 0 else free / max((~capped).sum(), 1)
    return np.minimum(pi, 1.0)


def systematic_sample(pi: np.ndarray, u: float) -> np.ndarray:
    """Madow's systematic sampling: the indices ``j`` whose cumulative interval of ``pi`` holds ``u + k``,
    ``k = 0 .. n - 1`` (``n = sum(pi)``, ``u`` in ``[0, 1)``). Each index is drawn with probability ``pi_j``."""
    edges = np.concatenate([[0.0], np.cumsum(pi)])
    n = round(float(edges[-1]))
    return np.searchsorted(edges, u + np.arange(n), side="right") - 1


@dataclass
class ImportanceBlock:
    """The estimate of one block of an importance design.

    :param numerator: ``d x K`` estimate of ``E[(f(A) - f(C_i))**2] / 2`` per cell and class.
    :param numerator_var: ``d x K`` variance of that estimate.
    :param halves: Two ``d x K`` estimates from disjoint halves of the block's rows (split-half stability).
    :param pool_outputs: ``M x K`` outputs at the pool (the total variance).
    :param weight: Budget of the block (blocks are combined in proportion).
    """

    numerator: np.ndarray
    numerator_var: np.ndarray
    halves: tuple[np.ndarray, np.ndarray]
    pool_outputs: np.ndarray
    weight: float


def estimate_block(
    pool_outputs: np.ndarray,
    dense_outputs: np.ndarray,
    sparse_outputs: np.ndarray,
    selected: np.ndarray,
    pi: np.ndarray,
    dense: np.ndarray,
    weight: float,
) -> ImportanceBlock:
    """Jansen numerators of one block: plain on the dense cells, Horvitz-Thompson on the sparse ones.

    :param pool_outputs: ``M x K`` outputs at the pool's base points.
    :param dense_outputs: ``n_dense x R x K`` outputs of the dense cells at the first ``R`` pool points.
    :param sparse_outputs: ``n_sparse x n x K`` outputs of the sparse cells at the drawn points.
    :param selected: ``n`` drawn pool indices (in the systematic sample's order).
    :param pi: ``n`` inclusion probabilities of the drawn points.
    :param dense: ``d`` booleans, the dense cells (in cell order; the rest are sparse).
    :param weight: The block's budget.
    """
    m, k = pool_outputs.shape
    numerator = np.empty((len(dense), k))
    variance = np.empty((len(dense), k))
    half_a, half_b = np.empty((len(dense), k)), np.empty((len(dense), k))
    rows = dense_outputs.shape[1]
    if rows:
        terms = (dense_outputs - pool_outputs[None, :rows]) ** 2 / 2  # n_dense x R x K
        numerator[dense] = terms.mean(axis=1)
        variance[dense] = terms.var(axis=1, ddof=1) / rows if rows > 1 else np.inf
        first = max(1, rows // 2)
        half_a[dense] = terms[:, :first].mean(axis=1)
        half_b[dense] = terms[:, first:].mean(axis=1) if rows > 1 else np.nan  # one row: no halves
    n = len(selected)
    if n:
        terms = (sparse_outputs - pool_outputs[None, selected]) ** 2 / 2  # n_sparse x n x K
        z = terms * (n / (m * pi))[None, :, None]  # sum_j z_j / n is the Horvitz-Thompson estimate
        numerator[~dense] = z.mean(axis=1)
        variance[~dense] = z.var(axis=1, ddof=1) / n if n > 1 else np.inf
        # Alternate draws of a systematic sample are two systematic samples of half the size.
        half_a[~dense] = z[:, 0::2].mean(axis=1)
        half_b[~dense] = z[:, 1::2].mean(axis=1) if n > 1 else np.nan  # one draw: no halves
    return ImportanceBlock(numerator, variance, (half_a, half_b), pool_outputs, weight)


def pool_statistics(blocks: list[ImportanceBlock]) -> tuple[np.ndarray, np.ndarray]:
    """Total variance (unbiased, over the blocks' pools together) and scale (largest magnitude) of each output."""
    pool = np.concatenate([b.pool_outputs for b in blocks])
    return np.var(pool, axis=0, ddof=1), output_scale(pool)


def combine_blocks(blocks: list[ImportanceBlock]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Total indices, their standard errors and the pooled total variance of several blocks (indices and errors
    are 0 for an output that does not vary: :func:`~xaitk_wcam.sobol.estimators.constant_outputs`).

    :return: ``(indices d x K, index_std d x K, variance K)``.
    """
    weights = np.array([b.weight for b in blocks], dtype=np.float64)
    weights /= weights.sum()
    numerator = sum(w * b.numerator for w, b in zip(weights, blocks, strict=True))
    numerator_var = sum(w**2 * b.numerator_var for w, b in zip(weights, blocks, strict=True))
    variance, scale = pool_statistics(blocks)
    return safe_divide(numerator, variance, scale), safe_divide(np.sqrt(numerator_var), variance, scale), variance
