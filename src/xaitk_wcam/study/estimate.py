"""What a study will cost, before it runs: ``xaitk-wcam study CONFIG OUT_DIR --dry-run``
(:meth:`SaliencyRobustnessStudy.estimate <xaitk_wcam.study.runner.SaliencyRobustnessStudy.estimate>`).

**Counted** from the config and the images alone, before any forward pass: the units (images), their items
(reference, perturbations, noise floor; on ``--resume``, those still to do), and per item the model evaluations of
every method (:meth:`Explainer.evaluations <xaitk_wcam.interfaces.explainer.Explainer.evaluations>`, for the image's
size and the item's targets), of the faithfulness metrics that score its maps (their ``evaluations(image_shape)``)
and the item's own classification (or detection); the memory of one explanation of the largest image
(:meth:`Explainer.memory_estimate_mb <xaitk_wcam.interfaces.explainer.Explainer.memory_estimate_mb>`).

**Calibrated** then: the model is built as a worker builds it (timed), and classifies (or detects on) batches of copies
of the first image, of the methods' batch size, for :data:`CALIBRATION_SECONDS` after a warm-up batch: its seconds per
image, averaged (on a shared machine the run meets the same varying load). A gradient evaluation counts as
:data:`GRADIENT_COST` forward ones. Each black-box method then explains the first image once with a stand-in for the
model that answers at once (:meth:`ModelTask.stand_in <xaitk_wcam.study.tasks.ModelTask.stand_in>`): its own work per
evaluation (masks, inverse wavelet transforms, estimators), scaled by each image's pixels. The time estimate is the
model's build plus the evaluations' and the methods' time divided among the workers, times :data:`OVERHEAD` for the
rest (the metrics' own work, perturbations, commits, the report, the process's start). Measured error on the example
configs: see ``docs/how_to/budget.md``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xaitk_wcam.interfaces.explainer import Explainer, as_explainer
from xaitk_wcam.study.config import build_plugin
from xaitk_wcam.study.plan import StudyPlan, build_metrics
from xaitk_wcam.study.tasks import ModelTask

#: Seconds of timed calibration batches (at least two batches, after a warm-up batch that is not timed).
CALIBRATION_SECONDS = 2.0
#: Images per calibration batch at most (the methods' ``batch_size`` otherwise).
CALIBRATION_BATCH_MAX = 64
#: A forward and a backward pass, in forward passes.
GRADIENT_COST = 3.0
#: Wall time per second of model evaluations and methods' own work: the metrics' own work, perturbations, commits,
#: the report, the process's start (measured on the example configs: docs/how_to/budget.md).
OVERHEAD = 1.2


@dataclass
class MethodCost:
    """A method's model evaluations in the study.

    :param name: The method's name.
    :param kind: ``"forward"`` or ``"gradient"`` (:attr:`Explainer.evaluation_kind`).
    :param per_item: Evaluations of one explanation of the first readable image (``None``: the method does not say).
    :param total: Evaluations of every item to do (the items whose method does not say left out).
    :param unknown: Explanations whose evaluations the method does not say.
    :param memory_mb: Working memory of one explanation of the largest image, in MB.
    :param pixel_total: ``total``, each evaluation weighted by its image's pixels over the first image's.
    :param own_seconds: The method's own seconds per evaluation on the first image (calibration; 0 when unknown).
    """

    name: str
    kind: str
    per_item: int | None = None
    total: int = 0
    unknown: int = 0
    memory_mb: float = 0.0
    pixel_total: float = 0.0
    own_seconds: float = 0.0


@dataclass
class StudyEstimate:
    """What :meth:`SaliencyRobustnessStudy.estimate` found: counts, memory and (when calibrated) time.

    :param units: Images of the source (units of work).
    :param unreadable: Of those, the images the source could not read (their items cost nothing).
    :param items_per_unit: Items of an image: reference, perturbations, noise floor.
    :param items: Items of the study.
    :param to_do: Items still to do (all but the committed ones on ``resume``).
    :param methods: Each method's evaluations.
    :param classifications: The items' own classifications (or detections) of their image.
    :param metric_evaluations: Forward passes of the faithfulness metrics.
    :param uncounted_metrics: Metrics that call the model but do not say how often (not counted).
    :param memory_budget_mb: The study's ``memory_budget_mb``.
    :param workers: Workers of the executor (``None``: a cluster whose size is known only when it runs).
    :param model_seconds: Seconds to build the model (calibration).
    :param seconds_per_evaluation: Seconds per forward evaluation of one image (calibration).
    :param calibration: What the calibration ran.
    """

    units: int = 0
    unreadable: int = 0
    items_per_unit: int = 0
    items: int = 0
    to_do: int = 0
    methods: list[MethodCost] = field(default_factory=list)
    classifications: int = 0
    metric_evaluations: int = 0
    uncounted_metrics: list[str] = field(default_factory=list)
    memory_budget_mb: float = 0.0
    workers: int | None = 1
    model_seconds: float | None = None
    seconds_per_evaluation: float | None = None
    calibration: str = ""
    #: The first readable image (what the calibration evaluates).
    sample: np.ndarray | None = field(default=None, repr=False)

    @property
    def forward_evaluations(self) -> int:
        """Forward evaluations of every item to do: the methods', the metrics', the items' own."""
        own = sum(m.total for m in self.methods if m.kind != "gradient")
        return own + self.metric_evaluations + self.classifications

    @property
    def gradient_evaluations(self) -> int:
        """Forward-and-backward evaluations of every item to do."""
        return sum(m.total for m in self.methods if m.kind == "gradient")

    @property
    def compute_seconds(self) -> float | None:
        """Seconds of model evaluations of one worker doing every item (``None`` before calibration)."""
        if self.seconds_per_evaluation is None:
            return None
        weighted = self.forward_evaluations + GRADIENT_COST * self.gradient_evaluations
        own = sum(m.pixel_total * m.own_seconds for m in self.methods)
        return weighted * self.seconds_per_evaluation + own

    @property
    def wall_seconds(self) -> float | None:
        """Estimated wall time: the model's build, then the evaluations shared by the workers, times
        :data:`OVERHEAD` (``None`` before calibration; with an unknown number of workers, for one)."""
        if self.compute_seconds is None:
            return None
        return ((self.model_seconds or 0.0) + self.compute_seconds / (self.workers or 1)) * OVERHEAD

    def report(self) -> str:
        """The dry run's text: :meth:`counts_text`, then :meth:`time_text` once calibrated."""
        return "\n".join(filter(None, [self.counts_text(), self.time_text()]))

    def counts_text(self) -> str:
        """Units, items, evaluations and memory."""
        width = max([len(m.name) for m in self.methods] + [6])
        lines = [
            f"units: {self.units} images ({self.unreadable} unreadable); items: {self.items} ({self.items_per_unit} "
            f"per image: reference, perturbations, noise floor); to do: {self.to_do}",
            "model evaluations (images the model sees; a gradient one is a forward and a backward pass):",
            f"  {'method':<{width}}  {'kind':<8}  {'per item':>10}  {'total':>12}  memory per explanation",
        ]
        for m in self.methods:
            per = "unknown" if m.per_item is None else f"{m.per_item:,}"
            unknown = f" (+{m.unknown} explanations it does not count)" if m.unknown else ""
            lines.append(f"  {m.name:<{width}}  {m.kind:<8}  {per:>10}  {m.total:>12,}  {m.memory_mb:,.0f} MB{unknown}")
        lines.append(f"  {'faithfulness metrics':<{width + 22}}  {self.metric_evaluations:>12,}")
        lines.append(f"  {'items classified':<{width + 22}}  {self.classifications:>12,}")
        lines.append(
            f"  total: {self.forward_evaluations:,} forward + {self.gradient_evaluations:,} gradient evaluations"
        )
        if self.uncounted_metrics:
            lines.append(f"  not counted (they do not say): {', '.join(self.uncounted_metrics)}")
        largest = max((m.memory_mb for m in self.methods), default=0.0)
        over = " (over: those explanations will fail)" if largest > self.memory_budget_mb else ""
        lines.append(f"memory: {largest:,.0f} MB per worker at most, budget {self.memory_budget_mb:,.0f} MB{over}")
        return "\n".join(lines)

    def time_text(self) -> str:
        """The calibration and the time estimate (``""`` before calibration)."""
        if self.wall_seconds is None:
            return ""
        workers = f"{self.workers} worker{'s' * (self.workers != 1)}" if self.workers else "1 worker (divide the "
        workers += "" if self.workers else "computation by the cluster's workers)"
        return (
            f"calibration: model built in {self.model_seconds:.1f} s; {self.calibration}\n"
            f"estimated time: {_duration(self.wall_seconds)} with {workers}"
        )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def n_targets(plan: StudyPlan) -> int:
    """Targets an item explains at most (:meth:`~xaitk_wcam.study.tasks.ModelTask.max_targets`)."""
    return plan.task.max_targets(plan.settings)


def count(plan: StudyPlan, units: Iterable[Any], workers: int | None) -> StudyEstimate:
    """Count the evaluations and memory of ``units`` (:class:`~xaitk_wcam.study.items.ImageUnit` with the items to do).

    :param workers: The executor's workers (``None``: unknown).
    """
    explainers: dict[str, Explainer] = {
        m.name: as_explainer(build_plugin("saliency", m.entry, f"saliency[{m.name!r}]")) for m in plan.methods
    }
    metrics = build_metrics(plan.resolved)
    scored: dict[str, list[Any]] = {m.name: [] for m in plan.methods}  # method -> metrics that call the model
    uncounted: set[str] = set()
    for index, metric in enumerate(metrics):
        columns = [c for c in plan.columns if c.metric == index]
        if not any(c.reads_classes for c in columns):
            continue
        if not callable(getattr(metric, "evaluations", None)):
            uncounted.add(type(metric).__name__)
            continue
        for m in plan.methods:
            if any(plan.metric_space(m.name, c) is not None for c in columns):
                scored[m.name].append(metric)
    costs = {m.name: MethodCost(m.name, explainers[m.name].evaluation_kind) for m in plan.methods}
    targets = n_targets(plan)
    estimate = StudyEstimate(items_per_unit=plan.n_items, memory_budget_mb=plan.memory_budget_mb, workers=workers)
    estimate.uncounted_metrics = sorted(uncounted)
    for unit in units:
        estimate.units += 1
        estimate.items += plan.n_items
        estimate.to_do += len(unit.todo)
        image = unit.image if unit.error is None else None
        if image is None or np.ndim(image) < 2:
            estimate.unreadable += 1
            continue
        if estimate.sample is None:
            estimate.sample = np.asarray(image)
        shape = tuple(np.shape(image))
        scale = (shape[0] * shape[1]) / (estimate.sample.shape[0] * estimate.sample.shape[1])
        for method in plan.methods:
            cost, explainer = costs[method.name], explainers[method.name]
            each = explainer.evaluations(shape, targets)
            if cost.per_item is None and each is not None:
                cost.per_item = each
            cost.memory_mb = max(cost.memory_mb, explainer.memory_estimate_mb(shape))
            for p_index in unit.todo:
                noise_floor = p_index == plan.noise_floor_index
                if noise_floor and not method.seeded:
                    continue
                if each is None:
                    cost.unknown += 1
                else:
                    cost.total += each
                    cost.pixel_total += each * scale
                if not noise_floor:
                    estimate.metric_evaluations += targets * sum(m.evaluations(shape) for m in scored[method.name])
        estimate.classifications += sum(p != plan.noise_floor_index for p in unit.todo)
    estimate.methods = list(costs.values())
    return estimate


def calibrate(plan: StudyPlan, estimate: StudyEstimate, threads: int | None) -> None:
    """Build the model and time its evaluations of the estimate's first image (see the module doc); fill
    ``estimate``'s timing (nothing when no image could be read)."""
    from xaitk_wcam.study.executors import set_torch_threads

    image = estimate.sample
    if image is None:
        return
    previous = set_torch_threads(threads)
    try:
        section = plan.task.section
        start = time.perf_counter()
        model = build_plugin(section, plan.resolved[section], section)
        set_torch_threads(threads)  # building may import packages that reset it
        estimate.model_seconds = time.perf_counter() - start
        sizes = [as_explainer(build_plugin("saliency", m.entry, m.name)).images_at_once() for m in plan.methods]
        batch = max(1, min(max(sizes, default=1), CALIBRATION_BATCH_MAX))
        images = [np.copy(image) for _ in range(batch)]
        task = plan.task(model, plan.settings)
        task.run_model(images)  # warm-up
        batches, start = 0, time.perf_counter()
        while batches < 2 or time.perf_counter() - start < CALIBRATION_SECONDS:
            task.run_model(images)
            batches += 1
        estimate.seconds_per_evaluation = (time.perf_counter() - start) / (batches * batch)
        shape = " x ".join(map(str, image.shape))
        estimate.calibration = (
            f"the model: {1000 * estimate.seconds_per_evaluation:.2f} ms per image ({batches} batches of {batch} "
            f"copies of a {shape} image in {CALIBRATION_SECONDS:g} s)"
        )
        own = _own_work(plan, task, image, estimate)
        if own:
            estimate.calibration += f"; the methods' own work per evaluation: {own}"
    finally:
        set_torch_threads(previous)


def _own_work(plan: StudyPlan, task: ModelTask, image: np.ndarray, estimate: StudyEstimate) -> str:
    """Time each black-box method on ``image`` with the task's stand-in model (its ``stand_in``); set its
    ``own_seconds``; describe what ran."""
    found = task.stand_in(image)
    if found is None:
        return ""
    stand_in, targets = found
    timed = []
    for cost, method in zip(estimate.methods, plan.methods, strict=True):
        explainer = as_explainer(build_plugin("saliency", method.entry, method.name)).drawn_for(image)
        evaluations = explainer.evaluations(image.shape, n_targets(plan))
        if cost.kind == "gradient" or not evaluations:
            continue
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a stand-in's answers may not vary: the method says so
                explainer.explain(image, stand_in, targets)
        except Exception:  # the method needs more than a stand-in: its own work is not counted
            continue
        cost.own_seconds = (time.perf_counter() - start) / evaluations
        timed.append(f"{method.name} {1000 * cost.own_seconds:.2f} ms")
    return ", ".join(timed)
