"""What a worker builds once per study, from the plan: the classifier, the metrics, and fresh perturbers and
explainers for each item.

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
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.interfaces.explainer import Explainer, as_explainer
from xaitk_wcam.study.config import build_plugin
from xaitk_wcam.study.errors import StudyConfigError
from xaitk_wcam.study.plan import StudyPlan, build_metrics
from xaitk_wcam.utils.confidences import classify, label_index


class StudyContext:
    """A worker's view of one study.

    :param plan: The study plan.
    :param classifier: An already built classifier to reuse, or ``None`` to build it from the config.
    :raises StudyConfigError: A saliency method cannot use the classifier (a white-box method and a classifier
        without ``model``/``preprocess``).
    """

    def __init__(self, plan: StudyPlan, classifier: ClassifyImage | None = None) -> None:
        self.plan = plan
        self.classifier = (
            classifier
            if classifier is not None
            else build_plugin("classifier", plan.resolved["classifier"], "classifier")
        )
        for method in plan.methods:
            try:
                self.explainer(method.name).check_model(self.classifier)
            except TypeError as err:
                raise StudyConfigError(f"saliency[{method.name!r}]: {err}") from err
        self.labels: list[Hashable] = list(self.classifier.get_labels())
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
