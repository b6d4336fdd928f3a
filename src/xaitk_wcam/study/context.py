"""What a worker builds once per study, from the plan: the model (a classifier, or a detection study's detector),
the metrics, and fresh perturbers and explainers for each item.

Perturbers and saliency generators are built afresh for every item (:meth:`StudyContext.perturber`,
:meth:`StudyContext.explainer`): one that keeps random state between calls then gives the same result whatever
the order in which items run, which a resumed or distributed study relies on. Metrics hold no state between
calls (their random choices, e.g. MuFidelity's subsets, are drawn from their seed on each call), so they are
built once.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np

from xaitk_wcam.interfaces.explainer import Explainer, as_explainer
from xaitk_wcam.study.config import build_plugin
from xaitk_wcam.study.errors import StudyConfigError
from xaitk_wcam.study.plan import StudyPlan, build_metrics
from xaitk_wcam.utils.confidences import classify, label_index
from xaitk_wcam.utils.detections import detection_labels


class StudyContext:
    """A worker's view of one study.

    :param plan: The study plan.
    :param classifier: An already built model (classifier or detector, as the plan's) to reuse, or ``None`` to
        build it from the config.
    :raises StudyConfigError: A saliency method cannot use the model (a white-box method and a classifier
        without ``model``/``preprocess``).
    """

    def __init__(self, plan: StudyPlan, classifier: Any | None = None) -> None:
        self.plan = plan
        kind = plan.model_kind
        #: The study's model: its classifier, or its detector (a detection study).
        self.classifier = classifier if classifier is not None else build_plugin(kind, plan.resolved[kind], kind)
        for method in plan.methods:
            try:
                self.explainer(method.name).check_model(self.classifier)
            except TypeError as err:
                raise StudyConfigError(f"saliency[{method.name!r}]: {err}") from err
        #: The model's labels (``None`` for a detector without ``get_labels``: read off its score dicts).
        self.labels: list[Hashable] = detection_labels(self.classifier)  # type: ignore[assignment]
        self.metrics: list[Any] = build_metrics(plan.resolved)

    def explainer(self, name: str, seed: int | None = None) -> Explainer:
        """A fresh explainer of method ``name`` (with ``seed`` instead of its own, when given)."""
        explainer = as_explainer(build_plugin("saliency", self.plan.method(name).entry, f"saliency[{name!r}]"))
        return explainer if seed is None else explainer.with_seed(seed)

    def perturber(self, index: int) -> Any:
        """A fresh instance of perturbation ``index`` (``1 ... P``)."""
        p = self.plan.perturbations[index - 1]
        obj = build_plugin("perturbers", self.plan.resolved["perturbers"][p.entry], f"perturbers[{p.entry}]")
        return obj if p.member is None else obj[p.member]

    def confidences(self, image: np.ndarray) -> np.ndarray:
        """The classifier's confidence of every label on ``image``."""
        return classify(self.classifier, [[image]], self.labels)[0]

    def target_index(self, confidences: np.ndarray, label: Any, reference_target: int | None) -> int:
        """The class an item explains, by the study's ``target`` rule: the source's ``label`` (``ground_truth``),
        this item's prediction (``prediction``, and the reference item of ``reference_prediction``), or the
        reference item's target (``reference_target``, perturbed items of ``reference_prediction``).

        :raises ValueError: ``ground_truth`` without a label, or with one the classifier does not have.
        """
        if self.plan.target == "ground_truth":
            if label is None:
                raise ValueError("target 'ground_truth' needs a label from the image source; this image has none")
            return label_index(self.labels, label, "ground-truth label")
        if self.plan.target == "prediction" or reference_target is None:
            return int(np.argmax(confidences))
        return int(reference_target)
