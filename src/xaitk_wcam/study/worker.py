"""One process's share of a study: a :class:`StudyWorker`, built once per process, and the per-item loop it runs.

The unit of dispatch is one *image* (:class:`~xaitk_wcam.study.items.ImageUnit`): its reference item first, then
each perturbation, then the noise floor, each item committed to the :class:`~xaitk_wcam.study.store.ResultsStore`
before the next starts (:meth:`StudyWorker.run_unit`), or returned to the study's process, which commits it
(:meth:`StudyWorker.compute_unit`). The reference maps of each method are computed once per image
and reused by every comparison; when a resumed study finds the reference item already committed, its targets and
maps are read back from the store (stored losslessly) by the study's process and travel with the unit
(:func:`~xaitk_wcam.study.items.attach_reference`), so the comparisons are the same numbers as in an uninterrupted
run and no worker reads ``OUT_DIR``.

The loop knows nothing of the kind of model: the study's :class:`~xaitk_wcam.study.tasks.ModelTask` gives an item's
targets and the model's outcome on it (a class and its confidence, or detections and their survival). Every method
is called through its :class:`~xaitk_wcam.interfaces.explainer.Explainer` (one map per target), and each metric
through its :class:`~xaitk_wcam.study.scorers.Scorer`, in a map space it accepts. Rows: one per method and reference
target (a target the item lost gets a row that says so).

**Independent draws.** A seeded method explains every item with a seed of its own, derived from the method's seed
and the pixels it explains (:meth:`~xaitk_wcam.interfaces.explainer.Explainer.drawn_for`): a perturbed map and the
reference map are two independent draws of the method, and so are the two maps of the noise floor (the last item of
an image: each seeded method explains the reference image again, as draw 1, and the comparison metrics score it
against the reference map). The noise floor is then exactly the comparison of a perturbed item when the
perturbation does nothing, which is what the study's verdict (:mod:`xaitk_wcam.study.verdicts`) relies on; and a
perturbation that returns the very same pixels gets the very same map (a change of 0), never a false movement.
Seeds depend only on the method's seed and the pixels, so a resumed or distributed study draws the same maps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from xaitk_wcam.interfaces.explainer import Explainer, as_explainer
from xaitk_wcam.study.config import build_plugin
from xaitk_wcam.study.errors import StudyConfigError
from xaitk_wcam.study.items import OK, ImageUnit, Item, Reference, commit_item, failed_item
from xaitk_wcam.study.plan import NOISE_FLOOR, SCALE_SHARE, MetricColumn, StudyPlan, build_metrics
from xaitk_wcam.study.scorers import MapScoring, Scorer, as_scorer
from xaitk_wcam.study.store import ItemArrays, ResultsStore
from xaitk_wcam.study.tasks import ModelTask, Targets
from xaitk_wcam.utils.checks import check_image
from xaitk_wcam.utils.errors import error_text


@dataclass(frozen=True)
class Metric:
    """One configured metric as a method's maps meet it: its scorer, its columns and the map space it reads."""

    scorer: Scorer
    columns: tuple[MetricColumn, ...]
    space: str


class StudyWorker:
    """What a process builds once per study, from its plan: the model inside the study's task, the scorers, and
    which metric reads which space of each method's maps. Perturbers and explainers are built afresh for every item
    (:meth:`perturber`, :meth:`explainer`): one that keeps random state between calls then gives the same result
    whatever the order in which items run, which a resumed or distributed study relies on. Metrics hold no state
    between calls (their random choices are drawn from their seed on each call), so they are built once.

    :param plan: The study plan.
    :param model: An already built model (as the plan's) to reuse, or ``None`` to build it from the config.
    :raises StudyConfigError: A saliency method cannot use the model (a white-box method and a classifier without
        ``model``/``preprocess``).
    """

    def __init__(self, plan: StudyPlan, model: Any | None = None) -> None:
        self.plan = plan
        kind = plan.task
        if model is None:
            model = build_plugin(kind.section, plan.resolved[kind.section], kind.section)
        #: The study's task, around its model.
        self.task: ModelTask = kind(model, plan.settings)
        for method in plan.methods:
            try:
                self.explainer(method.name).check_model(model)
            except TypeError as err:
                raise StudyConfigError(f"saliency[{method.name!r}]: {err}") from err
        scorers = [as_scorer(metric) for metric in build_metrics(plan.resolved)]
        #: Method -> the metrics that read its maps, with the space each reads.
        self.metrics: dict[str, list[Metric]] = {
            method.name: self._metrics_of(method.name, scorers) for method in plan.methods
        }
        #: The representations each item records during its own forward pass, for the metrics that read them.
        self.task.representation_layers = tuple(
            {getattr(scorer, "layer", None) for scorer in scorers if "representations" in scorer.needs}
        )
        if self.task.representation_layers:
            check_records_representations(model)

    def _metrics_of(self, method: str, scorers: list[Scorer]) -> list[Metric]:
        by_metric: dict[int, list[MetricColumn]] = {}
        for column in self.plan.columns:
            by_metric.setdefault(column.metric, []).append(column)
        out = []
        for index, columns in by_metric.items():
            space = self.plan.metric_space(method, columns[0])
            if space is not None:  # a metric that accepts none of the method's maps: the report lists the pair
                out.append(Metric(scorers[index], tuple(columns), space))
        return out

    @property
    def model(self) -> Any:
        """The study's model."""
        return self.task.model

    def explainer(self, name: str) -> Explainer:
        """A fresh explainer of method ``name``."""
        return as_explainer(build_plugin("saliency", self.plan.method(name).entry, f"saliency[{name!r}]"))

    def perturber(self, index: int) -> Any:
        """A fresh instance of perturbation ``index`` (``1 ... P``)."""
        p = self.plan.perturbations[index - 1]
        obj = build_plugin("perturbers", self.plan.resolved["perturbers"][p.entry], f"perturbers[{p.entry}]")
        return obj if p.member is None else obj[p.member]

    # -- one image ------------------------------------------------------------------------------------
    def run_unit(
        self, store: ResultsStore, unit: ImageUnit, on_commit: Callable[[str], None] | None = None
    ) -> list[str]:
        """Compute and commit the items ``unit.todo`` of one image, reference first, each committed before the next
        starts (:meth:`compute_unit`; the executors that commit in the worker).

        :param store: Output folder.
        :param unit: The image and the perturbation indices to do.
        :param on_commit: Called with each committed key (progress).
        :return: Committed keys, in order.
        """
        committed: list[str] = []
        for p_index, item in self.compute_unit(unit):
            committed.append(commit_item(store, self.plan, unit, p_index, item))
            if on_commit is not None:
                on_commit(committed[-1])
        return committed

    def compute_unit(self, unit: ImageUnit) -> Iterator[tuple[int, Item]]:
        """The items ``unit.todo`` of one image, reference first, each yielded as ``(perturbation index, item)`` as
        soon as it is computed (the executors whose workers return items: the study's process commits them). Reads
        nothing from the output folder: the reference of a unit that starts after it is
        :attr:`~xaitk_wcam.study.items.ImageUnit.reference_item`.

        Errors of the image (unreadable, wrong shape), of the perturber or of the model are recorded in the
        ``status`` of the item's rows, and the study goes on; a perturbed item of an image whose reference failed
        records ``reference failed: ...``.
        """
        image, image_error = _checked_image(unit)
        reference: Reference | None = None
        for p_index in unit.todo:
            if image_error is None and p_index > 0 and reference is None:
                reference = Reference.committed(self.plan.task, unit)
            status = image_error
            if status is None and p_index > 0 and reference.status != OK:  # type: ignore[union-attr]
                status = f"reference failed: {reference.status}"  # type: ignore[union-attr]
            if status is None:
                try:
                    item = self.compute_item(unit, p_index, image, reference)  # type: ignore[arg-type]
                except Exception as err:
                    status = error_text(err)
            if status is not None:
                item = failed_item(self.plan, unit, p_index, status)
            if p_index == 0:
                reference = Reference.of(self.plan.task, item.body, item.arrays)
            yield p_index, item

    def compute_item(self, unit: ImageUnit, p_index: int, image: np.ndarray, reference: Reference | None) -> Item:
        """Item ``p_index`` of the image: the reference, a perturbation or the noise floor."""
        if p_index == 0:
            return self.explained_item(unit, 0, image, self.task.reference(image, unit.label), None)
        assert reference is not None and reference.targets is not None
        if p_index == self.plan.noise_floor_index:
            return self.noise_floor_item(unit, image, reference)
        perturbed, targets = self.task.follow(self.perturber(p_index), image, reference.targets, unit.label)
        return self.explained_item(unit, p_index, perturbed, targets, reference)

    def explained_item(
        self, unit: ImageUnit, p_index: int, image: np.ndarray, targets: Targets, reference: Reference | None
    ) -> Item:
        """The reference or a perturbed item: every method's maps of ``targets`` and a row per reference target."""
        described = targets if reference is None else reference.targets
        assert described is not None
        rows, maps = [], {}
        for m, method in enumerate(self.plan.methods):
            explainer = self.explainer(method.name).drawn_for(image)
            fields, maps[method.name] = self.explain(
                explainer, image, targets, reference, method.name, self.metrics[method.name], shares=True
            )
            for position in described.positions:  # every reference target, one the item lost included
                row = {"_method_index": m, "image_id": unit.image_id, "perturbation": self.plan.item_label(p_index),
                       "method": method.name, **described.describe(position), **targets.outcome(position)}  # fmt: skip
                found = np.flatnonzero(targets.positions == position)
                if found.size:
                    row.update(fields[found[0]])
                rows.append(row)
        body = {"rows": rows, **targets.record(), "item_status": OK}
        return Item(body, ItemArrays(image, self._stored(maps)))

    def noise_floor_item(self, unit: ImageUnit, image: np.ndarray, reference: Reference) -> Item:
        """Each seeded method explains the reference targets on the reference image again, as a second independent
        draw; the comparison metrics score each map against the reference map of the same target."""
        targets = reference.targets
        assert targets is not None
        rows, maps = [], {}
        for m, method in enumerate(self.plan.methods):
            if not method.seeded:
                continue
            comparisons = [metric for metric in self.metrics[method.name] if metric.scorer.has_verdict]
            fields, maps[method.name] = self.explain(
                self.explainer(method.name).drawn_for(image, draw=1),
                image,
                targets,
                reference,
                method.name,
                comparisons,
                shares=False,
            )
            for position, values in zip(targets.positions, fields, strict=True):
                rows.append({"_method_index": m, "image_id": unit.image_id, "perturbation": NOISE_FLOOR,
                             "method": method.name, **targets.describe(position), **values})  # fmt: skip
        body = {"rows": rows, **targets.record(), "item_status": OK}
        return Item(body, ItemArrays(None, self._stored(maps)))

    def _stored(self, maps: Mapping[str, Mapping[str, np.ndarray]]) -> dict[str, dict[str, np.ndarray]]:
        """Method -> space -> the stored form of each method's stack of maps (methods that gave none left out)."""
        store = self.plan.task.stored_map
        return {name: {space: store(stack) for space, stack in found.items()} for name, found in maps.items() if found}

    # -- one method on one item -----------------------------------------------------------------------
    def explain(
        self,
        explainer: Explainer,
        image: np.ndarray,
        targets: Targets,
        reference: Reference | None,
        method: str,
        metrics: list[Metric],
        *,
        shares: bool,
    ) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
        """One method on one item: its maps of every target (space -> ``T x H x W``) and, per target, the row's
        fields: ``metrics``' values, the kind's map columns and the scale shares (with ``shares``), ``status``
        (``ok``, or what failed) and ``seconds`` (the method's time on the item, its metrics included).

        :param reference: The image's reference item (its image, targets and maps), or ``None`` on the reference item.
        :param method: The method's name (its reference maps).
        """
        start = time.perf_counter()
        n = len(targets.positions)
        if not n:
            return [], {}
        try:
            explainer.check_memory(image.shape, self.plan.memory_budget_mb)
            explanation = explainer.explain(image, self.model, targets.explained)
            maps = {space: np.asarray(explanation.maps_in(space)) for space in explanation.spaces}
            level_shares = explanation.level_shares() if shares else None
        except Exception as err:
            return [{"status": error_text(err), "seconds": time.perf_counter() - start}] * n, {}
        out = []
        for t in range(n):
            one = {space: stack[t] for space, stack in maps.items()}
            fields: dict[str, Any] = {}
            errors = score_map(metrics, self.scoring(explainer, image, targets, t, one, reference, method), fields)
            if shares:
                fields.update(targets.map_fields(t, one))
                if level_shares is not None:
                    fields.update({f"{SCALE_SHARE}{level}": float(v) for level, v in enumerate(level_shares[t])})
            fields["status"] = OK if not errors else "; ".join(errors)
            out.append(fields)
        seconds = time.perf_counter() - start
        return [{**fields, "seconds": seconds} for fields in out], maps

    def scoring(
        self,
        explainer: Explainer,
        image: np.ndarray,
        targets: Targets,
        t: int,
        maps: dict[str, np.ndarray],
        reference: Reference | None,
        method: str,
    ) -> MapScoring:
        """What the metrics read about target ``t`` of an item: its maps, and the reference's maps, image, outputs
        and representations of the same target (none on the reference item itself)."""

        def explain(images: np.ndarray, space: str) -> np.ndarray:
            single = targets.single(t)
            return np.stack([np.asarray(explainer.explain(x, self.model, single).maps_in(space))[0] for x in images])

        base = MapScoring(maps, None, image, self.model, targets.class_index(t), outputs=targets.outputs(),
                          representations=targets.representations(), explain=explain)  # fmt: skip
        if reference is None:
            return base
        assert reference.targets is not None
        position = int(targets.positions[t])
        stacks = reference.maps.get(method, {})
        return replace(
            base,
            reference_maps={space: stack[position] for space, stack in stacks.items()},
            reference_image=reference.image,
            reference_outputs=reference.targets.outputs(),
            reference_representations=reference.targets.representations(),
        )


def score_map(metrics: list[Metric], scoring: MapScoring, values: dict[str, Any]) -> list[str]:
    """Write every metric's columns for one target's map into ``values`` (``None`` where the metric does not apply
    to the item, e.g. a comparison on the reference item, or where it failed); return the errors as
    ``"column: Error: message"``. One metric's failure leaves the others' values."""
    errors = []
    for metric in metrics:
        for column in metric.columns:
            values[column.column] = None
        if not metric.scorer.applies(scoring):
            continue
        if metric.scorer.compares and metric.space not in scoring.reference_maps:  # type: ignore[operator]
            errors.append(f"{metric.columns[0].column}: no reference map")
            continue
        try:
            result = metric.scorer.score(metric.space, scoring)
        except Exception as err:
            errors.append(f"{metric.columns[0].column}: {error_text(err)}")
            continue
        for column in metric.columns:
            values[column.column] = result[column.score]
    return errors


def check_records_representations(model: Any) -> None:
    """Refuse, before any item, a model whose internal representations a study cannot record during its own forward
    passes: a black box, or a white-box classifier running on another backend than torch.

    :raises StudyConfigError: Naming what is needed.
    """
    from xaitk_wcam.interfaces.whitebox import WhiteboxClassifier

    backend = getattr(model, "backend", "torch")
    if not isinstance(model, WhiteboxClassifier) or backend != "torch":
        raise StudyConfigError(
            "a metric of this study reads the model's internal representations (RelativeRepresentationStability): "
            f"the classifier must be white-box and run on torch (e.g. HuggingFaceImageClassifier(backend='torch')), "
            f"got {type(model).__name__}" + (f" with backend={backend!r}" if backend != "torch" else "")
        )


def _checked_image(unit: ImageUnit) -> tuple[np.ndarray | None, str | None]:
    if unit.error is not None:
        return None, unit.error
    try:
        return check_image(unit.image), None
    except (TypeError, ValueError) as err:
        return None, error_text(err)
