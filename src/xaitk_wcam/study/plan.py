"""The plan of a study: what it will compute, resolved once from its config and handed to every worker.

:class:`StudyPlan` is data: the perturbations (each a sweep member with its strength), the saliency methods (what
each declares about its maps, through its :class:`~xaitk_wcam.interfaces.explainer.Explainer`), the metric
columns and the study's settings. Building it instantiates every perturber, generator and metric once, to check
that they accept their parameters and to read what they declare; nothing heavy (no model) is loaded. Workers
receive the plan as it is and build the objects they run from it (:mod:`.context`).

Results columns live in two namespaces: the package's own (:data:`KEY_COLUMNS`, :data:`TAIL_COLUMNS`, the model
kinds' columns, ``scale_share_<level>``) and the metrics' (:class:`MetricColumn`); a metric whose column would take a
package name is refused here.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from xaitk_wcam.interfaces.explainer import CLASSIFIER, as_explainer
from xaitk_wcam.interfaces.explanation import MAP_SPACES, WAVELET, accepted_levels, accepted_spaces, choose_space
from xaitk_wcam.study.config import MAX_PERTURBATIONS, MEMORY_BUDGET_MB, build_plugin
from xaitk_wcam.study.errors import StudyConfigError
from xaitk_wcam.study.plugins import implementations, role_of
from xaitk_wcam.study.scorers import as_scorer
from xaitk_wcam.study.tasks import ModelTask, model_tasks

REFERENCE = "reference"
#: The ``perturbation`` of the rows that compare two seeds of the reference image (the noise floor).
NOISE_FLOOR = "noise_floor"

#: The columns that key every row of ``results.csv``: the image, the item (``perturbation``), the method, and
#: ``status`` (``ok``, or what failed). The model kind's columns follow (:attr:`ModelTask.columns`), then the metrics'.
KEY_COLUMNS = ("image_id", "perturbation", "method", "status")
#: The last columns of ``results.csv``.
TAIL_COLUMNS = ("seconds",)
SCALE_SHARE = "scale_share_"


def _compact(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def perturbation_id(perturber: Any) -> str:
    """Readable id of a perturber and its parameters, e.g. ``AverageBlurPerturber(ksize=3)``."""
    try:
        cfg = perturber.get_config()
    except Exception:
        cfg = {}
    params = ", ".join(f"{k}={_compact(v)}" for k, v in sorted(cfg.items()))
    return f"{type(perturber).__name__}({params})"


@dataclass(frozen=True)
class Perturbation:
    """One perturbation of the study.

    :param index: Position in the study, ``1 ... P`` (``0`` is the reference).
    :param id: Readable id (the ``perturbation`` column).
    :param group: Sweep this perturbation belongs to (one factory, or one perturber type of the list);
        its figures plot the metrics against :attr:`strength`.
    :param axis: Name of the swept parameter (``theta_key``), or ``"index"`` where none is found.
    :param strength: Value of the swept parameter, or the position in the group.
    :param entry: Index of the ``perturbers`` entry that makes it.
    :param member: Position inside that entry's factory, or ``None`` for a single perturber.
    """

    index: int
    id: str
    group: str
    axis: str
    strength: float
    entry: int
    member: int | None


@dataclass(frozen=True)
class MetricColumn:
    """One results column made by one metric.

    :param column: Column name.
    :param metric: Index of the metric in the config's ``metrics`` list.
    :param score: The name of the metric's value in this column (:meth:`~xaitk_wcam.study.scorers.Scorer.scores`),
        ``None`` for a metric of one value.
    :param spaces: Map spaces the metric accepts (:func:`~xaitk_wcam.interfaces.explanation.accepted_spaces`).
    :param levels: Levels of the wavelet maps it reads (:func:`~xaitk_wcam.interfaces.explanation.accepted_levels`),
        or ``None`` for any.
    :param compares: Whether the metric reads the reference map (:attr:`~xaitk_wcam.study.scorers.Scorer.compares`).
    :param needs: What else it needs from the model and the study (:attr:`~xaitk_wcam.study.scorers.Scorer.needs`).
    :param direction: For a value read against the reference: ``"similarity"`` or ``"distance"`` (:attr:`Scorer.
        direction <xaitk_wcam.study.scorers.Scorer.direction>`), so that the study reads every comparison as a change.
    :param has_verdict: Whether the study tests its change beyond the noise floor (a map comparison).
    :param reference_only: Whether it is scored on the reference items only.
    """

    column: str
    metric: int
    score: str | None = None
    spaces: tuple[str, ...] = MAP_SPACES
    levels: int | None = None
    compares: bool = False
    needs: tuple[str, ...] = ()
    direction: str | None = None
    has_verdict: bool = False
    reference_only: bool = False

    @property
    def reads_classes(self) -> bool:
        """Whether it reads a classifier's confidence of the explained class."""
        return "classes" in self.needs


@dataclass(frozen=True)
class Method:
    """One saliency method of the study, as its explainer declares it before anything runs.

    :param name: The config's name for it (the ``method`` column).
    :param entry: Its resolved config entry (workers build it from this).
    :param spaces: Spaces of its maps, the space of its main map first.
    :param levels: Decomposition levels of its wavelet maps, or ``None``.
    :param seeded: Whether its maps depend on a random seed.
    :param model_kind: The model it explains, by its config section (``"classifier"``, ``"detector"``).
    """

    name: str
    entry: dict[str, Any]
    spaces: tuple[str, ...]
    levels: int | None
    seeded: bool
    model_kind: str = CLASSIFIER


def count_perturbations(entry: dict[str, Any]) -> int:
    """Perturbations a resolved ``perturbers`` entry makes, from its parameters, without building anything: a
    single perturber makes one; a factory is counted by the rule of its nrtk class, current or deprecated
    (:mod:`.factory_counts`).

    :raises StudyConfigError: A factory that no rule counts (it is not built to be counted), or parameters that
        cannot be counted.
    """
    from xaitk_wcam.study.factory_counts import COUNTERS, factory_counter

    cls = implementations("perturbers")[entry["type"]]
    params = entry[entry["type"]]
    if role_of(cls, "perturbers") != "factory":
        return 1
    count = factory_counter(cls)
    if count is None:
        raise StudyConfigError(
            f"perturbers: factory {entry['type']} cannot be counted from its parameters (counted: nrtk's "
            f"{', '.join(COUNTERS)} and their subclasses), and it is not built to be counted; list its perturbers "
            "one by one instead"
        )
    try:
        return count(params)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, OverflowError) as err:
        raise StudyConfigError(f"perturbers: factory {entry['type']} has unusable parameters {params}: {err}") from err


def describe_method(name: str, entry: dict[str, Any]) -> Method:
    """What the generator of ``entry`` declares about its maps, through its explainer adapter.

    :raises StudyConfigError: The generator rejects its parameters, or is of no registered kind.
    """
    generator = build_plugin("saliency", entry, f"saliency[{name!r}]")
    try:
        explainer = as_explainer(generator)
    except TypeError as err:
        raise StudyConfigError(f"saliency[{name!r}]: {err}") from err
    return Method(name, entry, explainer.map_spaces, explainer.wavelet_levels, explainer.seeded, explainer.model_kind)


def _differing_params(configs: list[dict[str, Any]]) -> list[str]:
    keys = sorted(set().union(*configs))
    return [k for k in keys if len({_compact(c.get(k)) for c in configs}) > 1]


def metric_entries(resolved_metrics: list[dict[str, Any]] | dict[str, dict[str, Any]]) -> list[tuple[str | None, Any]]:
    """``(name or None, resolved entry)`` of the configured metrics, in config order."""
    if isinstance(resolved_metrics, dict):
        return list(resolved_metrics.items())
    return [(None, entry) for entry in resolved_metrics]


def _columns_of(metric: Any, index: int, name: str | None) -> list[MetricColumn]:
    """The columns of configured metric ``index``: one per value its scorer names (``name``, or ``name_<score>`` for a
    metric of several values; unnamed: the metric's ``name``, or each score's name)."""
    scorer = as_scorer(metric)
    spaces, levels = accepted_spaces(metric), accepted_levels(metric)
    out = []
    for score in scorer.scores():
        if name is not None:
            column = str(name) if score is None else f"{name}_{score}"
        else:
            column = str(metric.name) if score is None else str(score)
        out.append(
            MetricColumn(
                column,
                index,
                score,
                spaces,
                levels,
                compares=scorer.compares,
                needs=tuple(sorted(scorer.needs)),
                direction=scorer.direction,
                has_verdict=scorer.has_verdict,
                reference_only=scorer.reference_only,
            )
        )
    return out


def metric_columns(
    resolved_metrics: list[dict[str, Any]] | dict[str, dict[str, Any]], instances: list[Any]
) -> list[MetricColumn]:
    """Results columns of the configured metrics, with unique names.

    Named metrics (a mapping in the config) give their name to their column, or ``name_score`` to each score
    of a metric of several values (``{"deletion": Deletion()}``: ``deletion_dauc``, ``deletion_dc``).

    Unnamed metrics (a list, as in 0.1): a metric of one value makes one column named by its ``name``; a metric of
    several values (a ``FaithfulnessMetric``) makes one column per score name. When several configured metrics
    would make the same column name, each of those columns gets a suffix ``[...]`` listing what tells them
    apart: the class name when their classes differ, then ``param=value`` for every constructor parameter whose
    value differs among them, e.g. ``Entropy[clip_range=[0,1]]``. Configuring the same metric twice is an error.

    :raises StudyConfigError: Two metrics configured identically, or two named columns that collide.
    """
    entries = metric_entries(resolved_metrics)
    base = [
        column
        for i, ((name, _), metric) in enumerate(zip(entries, instances, strict=True))
        for column in _columns_of(metric, i, name)
    ]
    if isinstance(resolved_metrics, dict):
        seen = [c.column for c in base]
        clash = sorted({c for c in seen if seen.count(c) > 1})
        if clash:
            raise StudyConfigError(f"metric names make the same column twice: {clash}; rename the metrics")
        return _refuse_reserved(base)
    resolved_metrics = [entry for _, entry in entries]
    groups: dict[str, list[int]] = defaultdict(list)
    for j, col in enumerate(base):
        groups[col.column].append(j)
    out = list(base)
    for name, members in groups.items():
        if len(members) == 1:
            continue
        metric_ids = [base[j].metric for j in members]
        types = [resolved_metrics[m]["type"] for m in metric_ids]
        params = [resolved_metrics[m][resolved_metrics[m]["type"]] for m in metric_ids]
        differing = _differing_params(params)
        for j, m, t, p in zip(members, metric_ids, types, params, strict=True):
            parts = [t.rsplit(".", 1)[-1]] if len(set(types)) > 1 else []
            parts += [f"{k}={_compact(p.get(k))}" for k in differing]
            if not parts:
                raise StudyConfigError(
                    f"metrics[{m}] repeats another metric's config ({t} {p}); configure each metric once"
                )
            out[j] = replace(base[j], column=f"{name}[{','.join(parts)}]")
    return _refuse_reserved(out)


def own_columns() -> tuple[str, ...]:
    """The package's own columns of any study: :data:`KEY_COLUMNS`, every model kind's columns, :data:`TAIL_COLUMNS`."""
    kinds = [column for task in model_tasks().values() for column in (*task.columns, *task.map_columns)]
    return (*KEY_COLUMNS, *dict.fromkeys(kinds), *TAIL_COLUMNS)


def is_reserved(column: str) -> bool:
    """Whether ``column`` is one of the package's own results columns (:func:`own_columns`, ``scale_share_*``)."""
    own = column in own_columns()
    return own or (column.startswith(SCALE_SHARE) and column[len(SCALE_SHARE) :].isdigit())


def _refuse_reserved(columns: list[MetricColumn]) -> list[MetricColumn]:
    taken = [c.column for c in columns if is_reserved(c.column)]
    if taken:
        raise StudyConfigError(
            f"metric column {taken[0]!r} is one of the study's own columns ({', '.join(own_columns())}, "
            f"{SCALE_SHARE}<level>); name the metric otherwise"
        )
    return columns


@dataclass(frozen=True)
class StudyPlan:
    """What a study computes, from its resolved config (:func:`xaitk_wcam.study.config.resolve_config`).

    :param resolved: The resolved config.
    :param digest: Its config hash.
    :param perturbations: The perturbations, in order (item indices ``1 ... P``).
    :param methods: The saliency methods, in config order.
    :param columns: The metric columns.
    """

    resolved: dict[str, Any]
    digest: str
    perturbations: tuple[Perturbation, ...]
    methods: tuple[Method, ...]
    columns: tuple[MetricColumn, ...]

    @classmethod
    def from_resolved(cls, resolved: dict[str, Any], digest: str) -> StudyPlan:
        """Plan the study, instantiating every cheap plugin once to check its parameters and read its declarations.

        :raises StudyConfigError: A perturber, saliency generator or metric rejected its parameters, a metric
            would take one of the study's own column names, there are too many perturbations, or a method or
            metric needs the other kind of model (a classifier's method or faithfulness metric in a detection study,
            a detector's method in a classification study).
        """
        task = task_of(resolved)
        methods = tuple(describe_method(name, entry) for name, entry in resolved["saliency"].items())
        for method in methods:
            if method.model_kind != task.section:
                raise StudyConfigError(
                    f"saliency[{method.name!r}] explains a {method.model_kind}, but this study's model is a "
                    f"{task.section}; choose a method of a {task.section} (`xaitk-wcam plugins` lists them)"
                )
        columns = tuple(metric_columns(resolved["metrics"], build_metrics(resolved)))
        for column in columns:
            missing = sorted(set(column.needs) - task.provides)
            if missing:
                what = {"classes": "a classifier's confidence of the explained class", "outputs": "the model's "
                        "outputs", "representations": "the model's internal representations", "explainer": "a "
                        "re-explaining method"}  # fmt: skip
                raise StudyConfigError(
                    f"metric {column.column!r} reads {what.get(missing[0], missing[0])}, and this is a "
                    f"{task.study_name} study, whose model provides {sorted(task.provides)}; keep map metrics and "
                    f"comparisons (the rows hold the model's outcome: {task.outcome_column})"
                )
        return cls(resolved, digest, tuple(plan_perturbations(resolved)), methods, columns)

    # -- settings -------------------------------------------------------------------------------------
    @property
    def task(self) -> type[ModelTask]:
        """The study's kind of model (:mod:`xaitk_wcam.study.tasks`), by the model section of its config."""
        return task_of(self.resolved)

    @property
    def model_kind(self) -> str:
        """The config section of the study's model: ``"classifier"``, ``"detector"`` (a detection study), ..."""
        return self.task.section

    @property
    def settings(self) -> dict[str, Any]:
        """The model kind's settings (``target``, ``detections``...), as resolved."""
        return {key: self.resolved[key] for key in self.task.setting_keys}

    @property
    def memory_budget_mb(self) -> float:
        """Largest estimated working memory of one explanation, in MB."""
        return float(self.resolved.get("memory_budget_mb", MEMORY_BUDGET_MB))

    # -- methods --------------------------------------------------------------------------------------
    @property
    def method_names(self) -> list[str]:
        """Saliency method names, in config order."""
        return [m.name for m in self.methods]

    def method(self, name: str) -> Method:
        """The method called ``name``."""
        return next(m for m in self.methods if m.name == name)

    @property
    def seeded(self) -> list[str]:
        """Names of the methods whose maps depend on a seed."""
        return [m.name for m in self.methods if m.seeded]

    @property
    def wavelet_levels(self) -> dict[str, int]:
        """Method name -> decomposition levels, for the methods with wavelet maps."""
        return {m.name: m.levels for m in self.methods if m.levels is not None}

    @property
    def max_levels(self) -> int:
        """Most wavelet levels of any method (``-1`` when there is none): the ``scale_share_*`` columns."""
        return max(self.wavelet_levels.values(), default=-1)

    def metric_space(self, method: str, column: MetricColumn) -> str | None:
        """Which of ``method``'s map spaces ``column``'s metric scores, or ``None`` when it accepts none of them (a
        wavelet metric of other levels than the method's wavelet maps does not accept them)."""
        found = self.method(method)
        spaces = [s for s in found.spaces if s != WAVELET or column.levels in (None, found.levels)]
        return choose_space(spaces, column.spaces)

    def not_applicable(self) -> list[tuple[str, str, str]]:
        """``(method, column, reason)`` for every metric column that does not apply to a method's maps."""
        out = []
        for method in self.methods:
            for column in self.columns:
                if self.metric_space(method.name, column) is None:
                    levels = "" if column.levels is None else f" of {column.levels} levels"
                    given = "/".join(s if s != WAVELET else f"{s} ({method.levels} levels)" for s in method.spaces)
                    accepts = f"{column.column} accepts {'/'.join(column.spaces)} maps{levels}"
                    reason = f"{accepts}; {method.name} gives {given} maps"
                    out.append((method.name, column.column, reason))
        return out

    # -- items ----------------------------------------------------------------------------------------
    @property
    def noise_floor_index(self) -> int | None:
        """Item index of the noise floor (after the perturbations), or ``None`` when the config turns it off or
        no method is seeded."""
        if not self.resolved.get("noise_floor", True) or not self.seeded:
            return None
        return len(self.perturbations) + 1

    @property
    def n_items(self) -> int:
        """Items per image: the reference, the perturbations, and the noise floor when there is one."""
        return len(self.perturbations) + 1 + (self.noise_floor_index is not None)

    def item_label(self, index: int) -> str:
        """The ``perturbation`` column of item ``index``: ``reference``, a perturbation id, or ``noise_floor``."""
        if index == 0:
            return REFERENCE
        if index == self.noise_floor_index:
            return NOISE_FLOOR
        return self.perturbations[index - 1].id

    def row_columns(self) -> list[str]:
        """Every column of ``results.csv``, in order: the keys, the model kind's columns, the metrics', the kind's
        map columns, the scale shares, the tail."""
        shares = [f"{SCALE_SHARE}{i}" for i in range(self.max_levels + 1)]
        metrics = [c.column for c in self.columns]
        task = self.task
        return [*KEY_COLUMNS, *task.columns, *metrics, *task.map_columns, *shares, *TAIL_COLUMNS]

    @property
    def text_columns(self) -> tuple[str, ...]:
        """The columns of ``results.csv`` that hold text (every other one is float64)."""
        return (*KEY_COLUMNS, *self.task.text_columns)


def task_of(resolved: dict[str, Any]) -> type[ModelTask]:
    """The model kind whose section a resolved config names."""
    return next(task for section, task in model_tasks().items() if section in resolved)


def build_metrics(resolved: dict[str, Any]) -> list[Any]:
    """The configured metrics, built from their resolved entries, in config order."""
    return [
        build_plugin("metrics", entry, f"metrics[{i if name is None else repr(name)}]")
        for i, (name, entry) in enumerate(metric_entries(resolved["metrics"]))
    ]


def plan_perturbations(resolved: dict[str, Any]) -> list[Perturbation]:
    """Every perturbation of the study, in order, each with its sweep (group, axis, strength).

    :raises StudyConfigError: More perturbations than ``max_perturbations`` (counted before anything is built), or
        a factory that cannot make one of its perturbers.
    """
    perturbations: list[Perturbation] = []
    raw: list[tuple[int, int | None, Any, str | None, Any]] = []
    limit = int(resolved.get("max_perturbations", MAX_PERTURBATIONS))
    counts = [count_perturbations(entry) for entry in resolved["perturbers"]]
    if sum(counts) > limit:
        raise StudyConfigError(
            f"the perturbers make {sum(counts):,} perturbations, more than max_perturbations={limit:,}; "
            "narrow the factories or raise max_perturbations in the config"
        )
    for e, entry in enumerate(resolved["perturbers"]):
        obj = build_plugin("perturbers", entry, f"perturbers[{e}]")
        if role_of(type(obj), "perturbers") == "factory":
            theta_key = obj.get_config().get("theta_key")
            n = counts[e]
            thetas = list(obj.thetas) if len(obj.thetas) == n else list(range(1, n + 1))  # once: O(n)
            for k, theta in enumerate(thetas):
                try:
                    perturber = obj[k]
                except (TypeError, ValueError) as err:
                    raise StudyConfigError(
                        f"perturbers[{e}]: factory {entry['type']} cannot make its perturber "
                        f"{theta_key}={theta!r}: {err}"
                    ) from err
                raw.append((e, k, perturber, theta_key, theta))
        else:
            raw.append((e, None, obj, None, None))
    # Sweeps: one per factory; single perturbers grouped by type, strength = the one parameter that varies.
    singles: dict[str, list[int]] = defaultdict(list)
    for j, (_, member, perturber, _, _) in enumerate(raw):
        if member is None:
            singles[type(perturber).__name__].append(j)
    single_axis: dict[int, tuple[str, str, float]] = {}
    for type_name, members in singles.items():
        configs = [raw[j][2].get_config() for j in members]
        differing = _differing_params(configs) if len(configs) > 1 else []
        numeric = len(differing) == 1 and all(
            isinstance(c.get(differing[0]), (int, float)) and not isinstance(c.get(differing[0]), bool) for c in configs
        )
        for pos, (j, c) in enumerate(zip(members, configs, strict=True)):
            if numeric:
                single_axis[j] = (type_name, differing[0], float(c[differing[0]]))
            else:
                single_axis[j] = (type_name, "index", float(pos + 1))
    seen: dict[str, int] = defaultdict(int)
    for j, (e, member, perturber, theta_key, theta) in enumerate(raw):
        pid = perturbation_id(perturber)
        seen[pid] += 1
        if seen[pid] > 1:
            pid = f"{pid}#{seen[pid]}"
        if member is not None:
            group = f"perturbers[{e}] {type(perturber).__name__}"
            try:
                strength = float(theta)
                axis = str(theta_key)
            except (TypeError, ValueError):
                strength, axis = float(member + 1), "index"
        else:
            type_name, axis, strength = single_axis[j]
            group = type_name
        if not math.isfinite(strength):
            strength = float(j + 1)
        perturbations.append(Perturbation(j + 1, pid, group, axis, strength, e, member))
    return perturbations
