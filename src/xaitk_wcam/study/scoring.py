"""Every metric column of one method's maps on one item.

Each metric scores the map in a space it accepts (:meth:`~xaitk_wcam.study.plan.StudyPlan.metric_space`); a
metric that accepts none of the method's spaces gets no value and no error (the report lists the pair once). A
metric's failure is recorded in the row's status and the other metrics go on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from xaitk_wcam.study.plan import SCALE_SHARE, MetricColumn, StudyPlan
from xaitk_wcam.utils.errors import error_text


def score_maps(
    plan: StudyPlan,
    metrics: list[Any],
    classifier: Any,
    method: str,
    columns: Iterable[MetricColumn],
    maps: Mapping[str, np.ndarray],
    ref_maps: Mapping[str, np.ndarray] | None,
    image: np.ndarray,
    target: int,
) -> tuple[dict[str, float | None], list[str]]:
    """Values of ``columns`` for ``method``'s ``maps`` (space -> map) of one item.

    :param metrics: The study's metrics, in config order (``MetricColumn.metric`` indexes them).
    :param ref_maps: The method's maps of the reference image (space -> map), or ``None`` on the reference item,
        where comparisons are left empty.
    :param image: The item's image (faithfulness metrics perturb it).
    :param target: The explained class index (faithfulness metrics watch its confidence).
    :return: Column -> value (``None`` where the metric does not apply or failed), and the errors as
        ``"column: Error: message"``.
    """
    values: dict[str, float | None] = {}
    errors: list[str] = []
    by_metric: dict[int, list[MetricColumn]] = {}
    for col in columns:
        by_metric.setdefault(col.metric, []).append(col)
        values[col.column] = None
    for index, cols in by_metric.items():
        metric, kind = metrics[index], cols[0].kind
        space = plan.metric_space(method, cols[0])
        if space is None or (kind == "comparison" and ref_maps is None):
            continue
        try:
            if kind == "metric":
                values[cols[0].column] = float(metric.compute(maps[space]))
            elif kind == "comparison":
                if space not in ref_maps:
                    errors.append(f"{cols[0].column}: no reference map")
                else:
                    values[cols[0].column] = float(metric.compute(maps[space], ref_maps[space]))
            else:
                result = metric.compute(image, maps[space], classifier, target)
                for col in cols:
                    values[col.column] = float(result.scores[col.score])
        except Exception as err:
            errors.append(f"{cols[0].column}: {error_text(err)}")
    return values, errors


def scale_shares(shares: np.ndarray | None) -> dict[str, float]:
    """``scale_share_<level>`` columns of one map's level shares (none without a wavelet map)."""
    return {} if shares is None else {f"{SCALE_SHARE}{level}": float(v) for level, v in enumerate(shares)}


__all__ = ["scale_shares", "score_maps"]
