"""The answer of a study in words (the report's first screen): which explanations move beyond their noise, under
which perturbations, and whether that movement goes with the model breaking.

Every sentence is read off the study's tables (:mod:`xaitk_wcam.study.verdicts`) and says over how many samples it
holds: a verdict is a paired one-sided test with its ``n`` and interval, a link a correlation or AUROC with its
interval, a warning margin a count of samples.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from xaitk_wcam.statistics.margin import FLIP_ONLY, MAP_AFTER, MAP_FIRST, MAP_ONLY, NEITHER, SAME_STRENGTH
from xaitk_wcam.statistics.paired import MIN_IMAGES, MOVES, TOO_FEW_IMAGES
from xaitk_wcam.study.plan import Perturbation, StudyPlan
from xaitk_wcam.study.verdicts import MARGIN, comparisons, outcomes, sweeps


def sweep_name(members: list[Perturbation]) -> str:
    """A sweep as a reader names it: its perturber's type (``AverageBlurPerturber``)."""
    return members[0].group.split()[-1]


def _at(p: Perturbation) -> str:
    return f"{p.axis} = {p.strength:g}" if p.axis != "index" else p.id


def verdict_matrix(frame: Any, plan: StudyPlan, verdicts: Any, moved: dict) -> Any:
    """The first screen's table: one column per perturbation (sweeps in order, weakest first), a first row with how
    often the model broke, then one row per method and comparison whose cells read ``moves k/n`` (the verdict, and on
    how many of the ``n`` images the map moved beyond its own noise), ``within noise k/n`` or ``too few images``."""
    import pandas as pd

    members = [p for group in sweeps(plan).values() for p in group]
    columns = [p.id for p in members]
    samples = plan.task.sample_ids(frame)
    found = outcomes(samples, plan, plan.method_names[0])
    broke = plan.task.outcome_names[1]
    rows = {("model", broke): [_count(found[p.id][1].to_numpy(dtype=float)) for p in members]}
    table = verdicts.set_index(["method", "metric", "perturbation"])
    for method in plan.method_names:
        for column in comparisons(plan, method):
            cells = []
            for p in members:
                verdict = table.loc[(method, column.column, p.id), "verdict"]
                k, n = moved.get((method, column.column, p.id), (0, 0))
                cells.append(verdict if verdict == TOO_FEW_IMAGES else f"{verdict} {k}/{n}")
            rows[method, column.column] = cells
    index = pd.MultiIndex.from_tuples(list(rows), names=["method", "metric"])
    return pd.DataFrame(list(rows.values()), index=index, columns=columns)


def _count(events: np.ndarray) -> str:
    known = np.isfinite(events)
    return f"{int(np.nansum(events))}/{int(known.sum())}"


def verdict_sentence(method: str, members: list[Perturbation], verdicts: Any, metrics: list[str]) -> str:
    """One method and sweep: on which comparisons, and from which strength, the map moves beyond its noise."""
    name = sweep_name(members)
    rows = verdicts[verdicts["method"] == method].set_index(["metric", "perturbation"])
    moving, still, few = [], [], []
    for metric in metrics:
        found = [rows.loc[(metric, p.id)] for p in members]
        moves = [p for p, row in zip(members, found, strict=True) if row["verdict"] == MOVES]
        if all(row["verdict"] == TOO_FEW_IMAGES for row in found):
            few.append(metric)
        elif not moves:
            still.append(metric)
        else:
            strongest = rows.loc[(metric, moves[-1].id)]
            where = "" if len(members) == 1 else f" from {_at(moves[0])}" if moves == members[-len(moves):] else (
                " at " + ", ".join(_at(p) for p in moves))  # fmt: skip
            moving.append(
                f"{metric}{where} (change beyond the noise {strongest['change']:.3g}, 90 % CI "
                f"[{strongest['ci_low']:.3g}, {strongest['ci_high']:.3g}] at {_at(moves[-1])})"
            )
    n = int(rows["n_images"].max()) if len(rows) else 0
    parts = []
    if moving:
        parts.append("moves beyond its noise on " + "; ".join(moving))
    if still:
        parts.append("stays within its noise on " + ", ".join(still))
    if few:
        parts.append(f"has too few images for a verdict on {', '.join(few)} (a verdict needs {MIN_IMAGES})")
    return f"Under {name}: " + "; ".join(parts) + f" (n = {n})."


def link_sentence(method: str, members: list[Perturbation], robustness: Any, plan: StudyPlan, metric: str) -> str:
    """At the strongest strength of a sweep: how a comparison's change goes with the model's drop and break (the
    statistics that exist; ``n/a`` ones are in the robustness table with the reason in the docs)."""
    drop_name, break_name = plan.task.outcome_names
    strongest = members[-1]
    rows = robustness[
        (robustness["method"] == method)
        & (robustness["perturbation"] == strongest.id)
        & (robustness["feature"] == f"{metric} change")
    ].set_index("outcome")
    parts = []
    for outcome, label in ((drop_name, "Spearman with the"), (break_name, "AUROC for the")):
        if outcome in rows.index and np.isfinite(rows.loc[outcome, "value"]):
            row = rows.loc[outcome]
            parts.append(f"{label} {outcome} {row['value']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}]")
    n = int(rows["n_images"].max()) if len(rows) else 0
    if not parts:
        return (
            f"At {_at(strongest)}: no link can be measured between the {metric} change and the model's {drop_name} or "
            f"{break_name} (too few images, or no variation in one of them; n = {n})."
        )
    return f"At {_at(strongest)}, its {metric} change: " + "; ".join(parts) + f" (n = {n}, 95 % CI)."


def margin_sentence(method: str, metric: str, group: str, robustness: Any, plan: StudyPlan) -> str | None:
    """Over one sweep: on how many samples the map moved before, with or after the model broke."""
    rows = robustness[
        (robustness["method"] == method) & (robustness["perturbation"] == group)
        & (robustness["feature"] == f"{metric} change")
    ].set_index("statistic")  # fmt: skip
    if rows.empty:
        return None
    count = {name: int(rows.loc[MARGIN.format(name), "value"]) for name in (MAP_FIRST, SAME_STRENGTH, MAP_AFTER,
                                                                           MAP_ONLY, FLIP_ONLY, NEITHER)}  # fmt: skip
    n = int(rows["n_images"].max())
    broke = plan.task.outcome_names[1]
    return (
        f"Warning margin ({metric}), over {n} images: the map moved beyond its noise at a weaker strength than the "
        f"model's {broke} on {count[MAP_FIRST]}, at the same strength on {count[SAME_STRENGTH]}, at a stronger one on "
        f"{count[MAP_AFTER]}; only the map moved on {count[MAP_ONLY]}, only the model broke on {count[FLIP_ONLY]}, "
        f"neither on {count[NEITHER]}."
    )


def matrix_html(frame: Any, plan: StudyPlan, verdicts: Any, moved: dict) -> str:
    """The first thing the report shows: :func:`verdict_matrix` with what its cells mean."""
    matrix = verdict_matrix(frame, plan, verdicts, moved)
    return (
        "<p>Each cell: the verdict of the paired test over the images (<code>moves</code>: beyond the method's own "
        "noise, <code>within noise</code>: not shown to), and on how many images the map moved beyond its own noise "
        "individually; first row: on how many images the model broke.</p>"
        f"<div class='scroll'>{matrix.to_html(escape=True)}</div>"
    )


def findings_html(plan: StudyPlan, verdicts: Any, robustness: Any) -> str:
    """Per method, its verdicts, robustness link and warning margins in words."""
    parts = []
    for method in plan.method_names:
        metrics = [c.column for c in comparisons(plan, method)]
        if not metrics:
            continue
        items = []
        for group, members in sweeps(plan).items():
            items.append(verdict_sentence(method, members, verdicts, metrics))
            items.append(link_sentence(method, members, robustness, plan, metrics[0]))
            if len(members) > 1:
                margin = margin_sentence(method, metrics[0], group, robustness, plan)
                if margin is not None:
                    items.append(margin)
        noise = "a second draw on the reference image" if plan.method(method).seeded else "0 (a deterministic method)"
        parts.append(
            f"<h3>{html.escape(method)}</h3><p>Noise floor: {noise}.</p><ul>"
            + "".join(f"<li>{html.escape(s)}</li>" for s in items)
            + "</ul>"
        )
    return "".join(parts)
