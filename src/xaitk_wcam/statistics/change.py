"""A map comparison oriented as a *change*: 0 for identical maps, positive = further from the reference.

Map comparisons point two ways. A **similarity** (``XCorr``, ``SpearmanRank``, ``TopKIntersection``) is highest
for identical maps (1); a **distance** (``SSD``, ``Wasserstein``) is lowest (0). Each ``SaliencyComparison``
plugin declares which in its class attribute ``direction`` (one of :data:`DIRECTIONS`), and
:func:`as_change` turns its values into changes that point the same way for every comparison:

- similarity ``s``: ``change = identical - s`` (``1 - s`` for the package's similarities: ``[0, 2]`` for the
  correlations, ``[0, 1]`` for the top-k overlap);
- distance ``d``: ``change = d - identical`` (``d`` itself for the package's distances).

Why ``identical - s`` and not ``-s``: the study's verdict reads the change *beyond the noise floor* of each
image, ``perturbed change - noise-floor change`` (:mod:`xaitk_wcam.statistics.paired`), and a constant offset
cancels in that difference, so ``-s`` and ``1 - s`` give the same verdicts, intervals and p-values. The offset
only decides what a single change reads as; with ``identical - s`` a change of 0 means "as close as a map can
be to its reference" for every comparison, which is what a reader of a table of changes (or of the robustness
link's features) expects. Rank statistics of changes (Spearman, AUROC) are unchanged by either choice.

The scale is not changed: a change is in the comparison's own units (a correlation's ``1 - r``, a fraction of
the map's diagonal for ``Wasserstein``), so changes of two different comparisons are not comparable with each
other; only their signs and their comparison with the same comparison's noise floor are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xaitk_wcam.utils.checks import check_choice, check_float

#: Higher values mean more similar maps; a map compared with itself gives the highest value.
SIMILARITY = "similarity"
#: Higher values mean more different maps; a map compared with itself gives the lowest value.
DISTANCE = "distance"
#: The accepted values of a comparison's ``direction``.
DIRECTIONS = (SIMILARITY, DISTANCE)
#: The value a comparison gives for a map compared with itself, by direction (the package's comparisons:
#: ``XCorr``, ``SpearmanRank``, ``TopKIntersection`` give 1; ``SSD``, ``Wasserstein`` give 0).
IDENTICAL = {SIMILARITY: 1.0, DISTANCE: 0.0}


def as_change(values: Any, direction: str, *, identical: float | None = None) -> np.ndarray | float:
    """Orient comparison values as changes: 0 for identical maps, positive = further from the reference.

    :param values: A comparison's values (a number or an array-like of numbers; NaN and infinite values pass
        through, negated for a similarity).
    :param direction: The comparison's ``direction``: ``"similarity"`` or ``"distance"``.
    :param identical: The comparison's value for a map compared with itself; ``None`` (the default) takes
        :data:`IDENTICAL`'s (1 for a similarity, 0 for a distance).
    :return: ``identical - values`` for a similarity, ``values - identical`` for a distance: a float for a
        number, else a float64 array of the input's shape.
    :raises ValueError: An unknown ``direction``, or an ``identical`` that is not finite.
    :raises TypeError: Non-numeric ``values`` or ``identical``.
    """
    check_choice("direction", direction, DIRECTIONS)
    base = IDENTICAL[direction] if identical is None else check_float("identical", identical)
    array = np.asarray(values)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise TypeError(f"values must be real numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    change = base - array if direction == SIMILARITY else array - base
    return float(change) if change.ndim == 0 else change
