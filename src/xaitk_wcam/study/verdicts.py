"""What a study answers, from its results table: does each explanation move beyond its own noise under each
perturbation (``verdicts.csv``), and does that movement go with the model breaking (``robustness.csv``)?

**Verdicts** (:func:`verdict_table`). For every method, comparison and perturbation, over the samples (images; in a
detection study, image x detection) that have both values: each comparison is read as a *change* from the reference
map (:func:`~xaitk_wcam.statistics.change.as_change`: 0 for identical maps, positive = further), the perturbed
item's change is paired with the same sample's noise-floor change (two independent draws of the method on the
reference image; 0 for a deterministic method), and :func:`~xaitk_wcam.statistics.paired.paired_verdict` tests
whether the mean difference is above 0: ``moves``, ``within noise`` or ``too few images``, with its ``n_images``, its
one-sided 95 % lower bound (``ci_low``, the two-sided 90 % interval's lower end; ``ci_high`` its upper end) and its
p-value. A metric that does not read a method's maps gives no verdict for it.

**Robustness link** (:func:`robustness_table`). Per method and perturbation, over the samples: how each feature of
the map goes with the model's outcome (the task's :meth:`~xaitk_wcam.study.tasks.ModelTask.outcome_change`: a
classifier's confidence drop and whether its prediction flipped; a detection's survival drop and whether it was
lost). Features: every comparison's change, every relative stability (Agarwal et al. 2022: how far the map moved
for how far the image, output or representation moved), and for wavelet methods the reference map's scale shares
(the approximation share ``scale_share_0`` and the fine share ``1 - scale_share_0``) and their shift under the
perturbation. Statistics: Spearman's correlation with the drop and the AUROC of the feature for predicting the break,
each with a seeded bootstrap interval (:mod:`xaitk_wcam.statistics.association`; ``n/a`` where only one outcome
occurs). And per sweep, the **warning margin** (:func:`~xaitk_wcam.statistics.margin.warning_margin`): per sample,
the weakest strength at which the model broke and the weakest at which the map moved beyond its noise (its change
above the study's noise-floor threshold, :func:`~xaitk_wcam.statistics.margin.noise_threshold`); the rows count the
samples whose map moved first, at the same strength, after, only the map, only the model, neither.

Every number is over the samples that have the values it needs (complete cases), and says how many.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from xaitk_wcam.statistics.association import auroc_association, spearman_association
from xaitk_wcam.statistics.change import as_change
from xaitk_wcam.statistics.margin import MARGIN_CLASSES, noise_threshold, warning_margin
from xaitk_wcam.statistics.paired import paired_verdict
from xaitk_wcam.study.plan import NOISE_FLOOR, REFERENCE, SCALE_SHARE, MetricColumn, Perturbation, StudyPlan

#: The columns of ``verdicts.csv``.
VERDICT_COLUMNS = ("method", "metric", "perturbation", "n_images", "change", "ci_low", "ci_high", "p_value", "verdict")
#: The columns of ``robustness.csv``.
ROBUSTNESS_COLUMNS = (
    "method",
    "perturbation",
    "feature",
    "outcome",
    "n_images",
    "statistic",
    "value",
    "ci_low",
    "ci_high",
)
#: The ``statistic`` of a warning-margin row: its ``value`` counts the samples of one class.
MARGIN = "warning margin: {}"
#: Bootstrap resamples of the robustness intervals (the statistics' own default, 1999, costs twice the time).
N_RESAMPLES = 999


def comparisons(plan: StudyPlan, method: str) -> list[MetricColumn]:
    """The comparison columns that read ``method``'s maps and get a verdict (:attr:`MetricColumn.has_verdict`)."""
    skipped = {column for name, column, _ in plan.not_applicable() if name == method}
    return [c for c in plan.columns if c.has_verdict and c.column not in skipped]


def stabilities(plan: StudyPlan, method: str) -> list[MetricColumn]:
    """The other columns read against the reference that apply to ``method``'s maps (relative stability: a distance,
    0 when the map did not move): features of the robustness link, without a verdict."""
    skipped = {column for name, column, _ in plan.not_applicable() if name == method}
    return [c for c in plan.columns if c.compares and not c.has_verdict and c.direction and c.column not in skipped]


def item_table(samples: Any, method: str, column: str) -> Any:
    """``column`` of ``method``'s rows as a samples x items table (``perturbation`` labels as columns; NaN where a
    row or its value is missing)."""
    rows = samples[samples["method"] == method]
    return rows.set_index(["image_id", "perturbation"])[column].astype(float).unstack("perturbation")


def noise_changes(plan: StudyPlan, method: str, changes: Any) -> Any:
    """Per sample, the noise-floor change of ``method``: its ``noise_floor`` column, 0 for a deterministic method
    (NaN for a seeded method without one: the config turned the noise floor off)."""
    import pandas as pd

    if not plan.method(method).seeded:
        return pd.Series(0.0, index=changes.index)
    return changes[NOISE_FLOOR] if NOISE_FLOOR in changes else pd.Series(np.nan, index=changes.index)


def change_table(samples: Any, plan: StudyPlan, method: str, column: MetricColumn) -> Any:
    """``column``'s values of ``method`` as changes from the reference map, samples x items."""
    import pandas as pd

    values = item_table(samples, method, column.column)
    changes = as_change(values.to_numpy(), str(column.direction))
    return pd.DataFrame(changes, index=values.index, columns=values.columns)


def verdict_table(frame: Any, plan: StudyPlan) -> Any:
    """The study's verdicts (see the module doc): one row per method x comparison x perturbation.

    :param frame: The results table.
    :return: A ``pandas.DataFrame`` with :data:`VERDICT_COLUMNS`.
    """
    import pandas as pd

    samples = plan.task.sample_ids(frame)
    rows = []
    for method in plan.method_names:
        for column in comparisons(plan, method):
            changes = change_table(samples, plan, method, column)
            noise = noise_changes(plan, method, changes)
            for p in plan.perturbations:
                perturbed = changes[p.id] if p.id in changes else noise * np.nan  # no row of it: no value
                verdict = paired_verdict(perturbed.to_numpy(), noise.to_numpy())
                rows.append({"method": method, "metric": column.column, "perturbation": p.id, **verdict.as_row()})
    return pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))


def moved_counts(frame: Any, plan: StudyPlan) -> dict[tuple[str, str, str], tuple[int, int]]:
    """``(method, metric, perturbation) -> (samples whose map moved beyond its noise, samples with a value)``, by the
    per-sample rule of the warning margin (:func:`~xaitk_wcam.statistics.margin.noise_threshold`)."""
    samples = plan.task.sample_ids(frame)
    out = {}
    for method in plan.method_names:
        for column in comparisons(plan, method):
            changes = change_table(samples, plan, method, column)
            threshold = noise_threshold(noise_changes(plan, method, changes).to_numpy())
            for p in plan.perturbations:
                if p.id in changes:
                    moved = threshold.moved(changes[p.id].to_numpy())
                    out[method, column.column, p.id] = (int(np.nansum(moved)), int(np.isfinite(moved).sum()))
    return out


def sweeps(plan: StudyPlan) -> dict[str, list[Perturbation]]:
    """The perturbations of each sweep (group), weakest first."""
    groups: dict[str, list[Perturbation]] = defaultdict(list)
    for p in plan.perturbations:
        groups[p.group].append(p)
    return {g: sorted(ps, key=lambda p: (p.strength, p.index)) for g, ps in groups.items()}


def outcomes(samples: Any, plan: StudyPlan, method: str) -> dict[str, tuple[Any, Any]]:
    """Perturbation id -> (drop, break) of the model per sample (:meth:`~xaitk_wcam.study.tasks.ModelTask.
    outcome_change`), read off ``method``'s rows (the model's outcome is the same on every method's rows)."""
    rows = samples[samples["method"] == method].set_index("image_id")
    reference = rows[rows["perturbation"] == REFERENCE]
    out = {}
    for p in plan.perturbations:
        perturbed = rows[rows["perturbation"] == p.id].reindex(reference.index)
        out[p.id] = plan.task.outcome_change(reference, perturbed)
    return out


def features(samples: Any, plan: StudyPlan, method: str) -> dict[str, Any]:
    """Feature name -> samples x items table of ``method``'s map features: each comparison's change, and for a
    wavelet method the reference's scale shares (the same on every item) and their shift."""
    import pandas as pd

    out = {f"{c.column} change": change_table(samples, plan, method, c) for c in comparisons(plan, method)}
    out.update({c.column: change_table(samples, plan, method, c) for c in stabilities(plan, method)})
    if method in plan.wavelet_levels:
        approximation = item_table(samples, method, f"{SCALE_SHARE}0")
        if REFERENCE in approximation:
            for name, share in (("approximation share", approximation), ("fine share", 1.0 - approximation)):
                reference = share[REFERENCE]
                out[f"reference {name}"] = pd.DataFrame({item: reference for item in share.columns})
                out[f"{name} shift"] = share.sub(reference, axis=0)
    return out


def robustness_table(frame: Any, plan: StudyPlan, *, n_resamples: int = N_RESAMPLES) -> Any:
    """The robustness link (see the module doc): per method and perturbation, each feature's Spearman correlation
    with the model's drop and AUROC for its break; per method, comparison and sweep, the warning-margin counts.

    :param frame: The results table.
    :param n_resamples: Bootstrap resamples of each interval.
    :return: A ``pandas.DataFrame`` with :data:`ROBUSTNESS_COLUMNS`.
    """
    import pandas as pd

    samples = plan.task.sample_ids(frame)
    drop_name, break_name = plan.task.outcome_names
    rows: list[dict[str, Any]] = []
    for method in plan.method_names:
        outcome = outcomes(samples, plan, method)
        found = features(samples, plan, method)
        for p in plan.perturbations:
            drop, broken = outcome[p.id]
            for name, table in found.items():
                if p.id not in table:
                    continue
                value = table[p.id].reindex(drop.index).to_numpy()
                for outcome_name, association in (
                    (drop_name, spearman_association(value, drop.to_numpy(), n_resamples=n_resamples)),
                    (break_name, auroc_association(value, broken.to_numpy(), n_resamples=n_resamples)),
                ):
                    rows.append(
                        {"method": method, "perturbation": p.id, "feature": name, "outcome": outcome_name,
                         **association.as_row()}
                    )  # fmt: skip
        rows += margin_rows(samples, plan, method, outcome, break_name)
    return pd.DataFrame(rows, columns=list(ROBUSTNESS_COLUMNS))


def margin_rows(
    samples: Any, plan: StudyPlan, method: str, outcome: dict[str, tuple[Any, Any]], break_name: str
) -> list[dict[str, Any]]:
    """Warning-margin rows of ``method``: per comparison and sweep (its strengths strictly ordered), the samples of
    each class of :data:`~xaitk_wcam.statistics.margin.MARGIN_CLASSES`."""
    rows = []
    for column in comparisons(plan, method):
        changes = change_table(samples, plan, method, column)
        threshold = noise_threshold(noise_changes(plan, method, changes).to_numpy())
        for group, members in sweeps(plan).items():
            strengths = [p.strength for p in members]
            if len(set(strengths)) != len(strengths) or not all(p.id in changes for p in members):
                continue
            index = changes.index
            flipped = np.stack([outcome[p.id][1].reindex(index).to_numpy() for p in members], axis=1)
            moved = threshold.moved(np.stack([changes[p.id].to_numpy() for p in members], axis=1))
            margin = warning_margin(flipped, moved, strengths)
            for name in MARGIN_CLASSES:
                rows.append(
                    {"method": method, "perturbation": group, "feature": f"{column.column} change",
                     "outcome": break_name, "n_images": margin.n_images, "statistic": MARGIN.format(name),
                     "value": float(margin.counts[name]), "ci_low": np.nan, "ci_high": np.nan}
                )  # fmt: skip
    return rows


def write_tables(store: Any, frame: Any, plan: StudyPlan) -> tuple[Any, Any]:
    """Write ``verdicts.csv`` and ``robustness.csv`` into the study's folder (atomically); return both tables."""
    verdicts, robustness = verdict_table(frame, plan), robustness_table(frame, plan)
    store.write_table("verdicts.csv", verdicts)
    store.write_table("robustness.csv", robustness)
    return verdicts, robustness
