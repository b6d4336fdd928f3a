"""Total-order Sobol index estimators, vectorised over model outputs (classes).

All take the outputs of a :class:`~xaitk_wcam.sobol.design.SobolDesign` in its row order,
``f(A)`` (N rows), ``f(B)`` (N rows), ``f(C_1) ... f(C_d)`` (N rows each), as an
``N * (d + 2) x K`` array, and return the ``d x K`` total indices. The total variance is the
unbiased variance of ``f(A)`` and ``f(B)`` pooled. Where the output is constant the indices are zero: constant
within rounding of its scale (:func:`constant_outputs`), since the variance of a constant computed in floating
point is not exactly zero (a constant 0.7 in float32: 1.5e-14).

- Jansen (1999): ``ST_i = E[(f(A) - f(C_i))**2] / (2 V)``.
- Homma & Saltelli (1996): ``ST_i = 1 - (E[f(A) f(C_i)] - f0**2) / V``, ``f0 = E[f(A)]``.
- Janon et al. (2014): like Homma, with mean and variance estimated from ``f(A)`` and ``f(C_i)``
  together, ``ST_i = 1 - (E[f(A) f(C_i)] - m_i**2) / (E[(f(A)**2 + f(C_i)**2) / 2] - m_i**2)``,
  ``m_i = E[(f(A) + f(C_i)) / 2]``.

References: Jansen, "Analysis of variance designs for model output", Comput. Phys. Commun. 1999;
Homma & Saltelli, Reliab. Eng. Syst. Saf. 1996; Janon et al., ESAIM: PS 2014; Saltelli et al.,
Comput. Phys. Commun. 2010 (the estimator comparison); Fel et al., NeurIPS 2021 (use for attribution).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _split(outputs: np.ndarray, nb_design: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.ndim == 1:
        outputs = outputs[:, None]
    if outputs.shape[0] % nb_design or outputs.shape[0] < 3 * nb_design:
        raise ValueError(f"outputs has {outputs.shape[0]} rows, expected N * (d + 2) with N = {nb_design}, d >= 1")
    f_a, f_b = outputs[:nb_design], outputs[nb_design : 2 * nb_design]
    f_c = outputs[2 * nb_design :].reshape(-1, nb_design, outputs.shape[1])  # d x N x K
    return f_a, f_b, f_c


#: An output is constant when its standard deviation is at most this fraction of its largest magnitude. Model
#: outputs are stored as float32 (about 6e-8 of their scale per step), so a spread below 1e-6 of the scale is
#: rounding, not a response to the mask.
CONSTANT_RTOL = 1e-6


def output_scale(outputs: np.ndarray) -> np.ndarray:
    """Largest magnitude of each output column (``K``), without an ``|outputs|`` temporary."""
    return np.maximum(outputs.max(axis=0), -outputs.min(axis=0))


def constant_outputs(variance: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Which outputs do not vary: ``sqrt(variance) <= CONSTANT_RTOL * scale`` (an all-zero output included).

    :param variance: Variance of each output (``K``, or ``d x K``).
    :param scale: Largest magnitude of each output (``K``), e.g. :func:`output_scale`.
    """
    return np.sqrt(np.maximum(variance, 0.0)) <= CONSTANT_RTOL * np.asarray(scale)


def safe_divide(numerator: np.ndarray, variance: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``numerator / variance`` per output, 0 where the output is constant (:func:`constant_outputs`)."""
    varying = ~constant_outputs(variance, scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(varying, numerator / np.where(varying, variance, 1.0), 0.0)


def _scale(outputs: np.ndarray) -> np.ndarray:
    values = np.asarray(outputs)
    return output_scale(values[:, None] if values.ndim == 1 else values)


def jansen_terms(outputs: np.ndarray, nb_design: int) -> np.ndarray:
    """Jansen's per-row terms ``(f(A_j) - f(C_ij))**2 / 2``: ``d x N x K`` (their mean over rows over the total
    variance is :func:`jansen`)."""
    f_a, _, f_c = _split(outputs, nb_design)
    return (f_c - f_a[None]) ** 2 / 2


def jansen(outputs: np.ndarray, nb_design: int) -> np.ndarray:
    """Jansen's total-order estimator; ``outputs`` is ``N * (d + 2) x K``, result ``d x K``."""
    f_a, f_b, f_c = _split(outputs, nb_design)
    variance = np.var(np.concatenate([f_a, f_b]), axis=0, ddof=1)
    squared = np.subtract(f_c, f_a[None])  # one d x N x K temporary, squared in place
    np.square(squared, out=squared)
    return safe_divide(squared.mean(axis=1) / 2, variance, _scale(outputs))


def homma(outputs: np.ndarray, nb_design: int) -> np.ndarray:
    """Homma-Saltelli total-order estimator; ``outputs`` is ``N * (d + 2) x K``, result ``d x K``."""
    f_a, f_b, f_c = _split(outputs, nb_design)
    variance = np.var(np.concatenate([f_a, f_b]), axis=0, ddof=1)
    f0 = f_a.mean(axis=0)
    closed = np.mean(f_a[None] * f_c, axis=1) - f0**2  # variance explained by all but i
    return safe_divide(variance - closed, variance, _scale(outputs))


def janon(outputs: np.ndarray, nb_design: int) -> np.ndarray:
    """Janon's total-order estimator; ``outputs`` is ``N * (d + 2) x K``, result ``d x K``."""
    f_a, _, f_c = _split(outputs, nb_design)
    mean = np.mean((f_a[None] + f_c) / 2, axis=1)
    variance = np.mean((f_a[None] ** 2 + f_c**2) / 2, axis=1) - mean**2
    closed = np.mean(f_a[None] * f_c, axis=1) - mean**2
    return safe_divide(variance - closed, variance, _scale(outputs))


ESTIMATORS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "jansen": jansen,
    "homma": homma,
    "janon": janon,
}
