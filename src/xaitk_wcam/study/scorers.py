"""One way to score a map with any kind of metric: :func:`as_scorer` and the :class:`Scorer` adapters.

A study's ``metrics`` section names metrics of several kinds: xaitk-saliency's ``SaliencyMetric`` (one number of a
map), this package's ``SaliencyComparison`` (a map against the reference map of the same image and method),
``FaithfulnessMetric`` (the map's order tested on the classifier), ``RelativeStabilityMetric`` (how far the map moved
for how far the image, the output or a representation moved) and ``LocalStabilityMetric`` (the method re-explaining
the image under its own noise). They differ in what they read, not in what the study does with them. A
:class:`Scorer` wraps one metric and says, before anything runs:

- what it writes: :meth:`Scorer.scores`, one value or one per named score (each a results column), and for a value
  read against the reference, its :attr:`Scorer.direction`;
- what it reads: the map spaces (:func:`~xaitk_wcam.interfaces.explanation.accepted_spaces`), whether it needs the
  reference map (:attr:`Scorer.compares`: such a column is empty on the reference item), whether the study gives it
  a verdict against the noise floor (:attr:`Scorer.has_verdict`: the map comparisons), and what else it needs from
  the model (:attr:`Scorer.needs`: ``"classes"``, ``"outputs"``, ``"representations"``, ``"explainer"``; refused in a
  study whose model kind does not provide it);

and :meth:`Scorer.score` scores one target's map from a :class:`MapScoring`. Each kind registers its adapter
against the interface its metrics implement (:func:`register_scorer`); a new kind of metric is one registration,
and a study config's ``metrics`` section accepts the implementations of every registered kind
(:func:`scorer_kinds`).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from xaitk_saliency.interfaces.saliency_metric import SaliencyMetric

from xaitk_wcam.interfaces.faithfulness import FaithfulnessMetric
from xaitk_wcam.interfaces.saliency_comparison import SaliencyComparison
from xaitk_wcam.interfaces.stability import LocalStabilityMetric, RelativeStabilityMetric
from xaitk_wcam.utils.adapters import AdapterRegistry


@dataclass(frozen=True)
class MapScoring:
    """What one target's map on one item is scored with.

    :param maps: Space -> the target's ``H x W`` map on the item.
    :param reference_maps: Space -> the same target's map on the reference image (same method), or ``None`` on the
        reference item itself.
    :param image: The item's image.
    :param model: The study's model.
    :param class_index: The explained class (an index into the classifier's labels), or ``None`` where the model
        kind has no class.
    :param reference_image: The reference image (``None`` on the reference item).
    :param outputs: The model's outputs on the item (a classifier's confidence of every label), or ``None``.
    :param reference_outputs: The same on the reference image.
    :param representations: Layer (``None``: the classification head's input) -> the model's internal representation
        of the item's image, recorded during the item's own forward pass; empty when no metric asked for one.
    :param reference_representations: The same on the reference image.
    :param explain: Re-explains this target on a batch of images (``N x H x W [x C]``, the item's dtype) in a space:
        ``explain(images, space) -> N x H' x W'`` (a local stability metric's explainer), or ``None``.
    """

    maps: Mapping[str, np.ndarray]
    reference_maps: Mapping[str, np.ndarray] | None
    image: np.ndarray
    model: Any
    class_index: int | None = None
    reference_image: np.ndarray | None = None
    outputs: np.ndarray | None = None
    reference_outputs: np.ndarray | None = None
    representations: Mapping[str | None, np.ndarray] | None = None
    reference_representations: Mapping[str | None, np.ndarray] | None = None
    explain: Callable[[np.ndarray, str], np.ndarray] | None = None


class Scorer(abc.ABC):
    """A metric of any registered kind behind one interface (see the module doc).

    :param metric: The wrapped metric (a configured smqtk plugin).
    """

    #: Whether it reads the reference map (its column is empty on the reference item itself).
    compares: ClassVar[bool] = False
    #: Whether the study tests its change beyond the noise floor (a verdict): map comparisons; it is then also scored
    #: on the noise floor's second draw.
    has_verdict: ClassVar[bool] = False
    #: Whether it is scored on the reference item only (a property of the image's neighbourhood, not of a change).
    reference_only: ClassVar[bool] = False

    def __init__(self, metric: Any) -> None:
        self.metric = metric

    @property
    def needs(self) -> frozenset[str]:
        """What it needs from the model and the study besides the maps and images: ``"classes"`` (the explained class,
        and the model as a classifier), ``"outputs"``, ``"representations"``, ``"explainer"``."""
        return frozenset()

    @property
    def reads_classes(self) -> bool:
        """Whether it reads a classifier's confidence of the explained class."""
        return "classes" in self.needs

    def applies(self, scoring: MapScoring) -> bool:
        """Whether it gives a value on this item: a comparison needs a reference map; a reference-only metric none."""
        if self.reference_only:
            return scoring.reference_maps is None
        return not self.compares or scoring.reference_maps is not None

    @property
    def cost(self) -> tuple[int, int]:
        """``(explanations, forward passes)`` one :meth:`score` call costs (``(0, 0)``: nothing beyond the item)."""
        return 0, 0

    def scores(self) -> tuple[str | None, ...]:
        """The names of its values, one results column each (``(None,)``: one unnamed value)."""
        return (None,)

    @property
    def direction(self) -> str | None:
        """For a metric that :attr:`compares`: ``"similarity"`` (higher = closer to the reference) or ``"distance"``
        (higher = further), read from the metric's ``direction``; ``None`` otherwise."""
        direction = getattr(self.metric, "direction", None)
        return str(direction) if self.compares and direction is not None else None

    @abc.abstractmethod
    def score(self, space: str, scoring: MapScoring) -> dict[str | None, float]:
        """Its values (by :meth:`scores` name) for the map of ``space`` in ``scoring``."""


class MapMetricScorer(Scorer):
    """xaitk-saliency's ``SaliencyMetric``: ``compute(map)``."""

    def score(self, space: str, scoring: MapScoring) -> dict[str | None, float]:
        return {None: float(self.metric.compute(scoring.maps[space]))}


class ComparisonScorer(Scorer):
    """``SaliencyComparison``: ``compute(map, reference map)``."""

    compares = True
    has_verdict = True

    def score(self, space: str, scoring: MapScoring) -> dict[str | None, float]:
        assert scoring.reference_maps is not None, "a comparison is scored against a reference map"
        return {None: float(self.metric.compute(scoring.maps[space], scoring.reference_maps[space]))}


class FaithfulnessScorer(Scorer):
    """``FaithfulnessMetric``: ``compute(image, map, classifier, class_index)``, one column per score."""

    @property
    def needs(self) -> frozenset[str]:
        return frozenset({"classes"})

    def scores(self) -> tuple[str | None, ...]:
        return tuple(str(name) for name in self.metric.score_names)

    def score(self, space: str, scoring: MapScoring) -> dict[str | None, float]:
        result = self.metric.compute(scoring.image, scoring.maps[space], scoring.model, scoring.class_index)
        return {name: float(result.scores[name]) for name in self.scores()}


class RelativeStabilityScorer(Scorer):
    """``RelativeStabilityMetric`` (Agarwal et al. 2022): the perturbed map against the reference map, for how far
    the image, the outputs or a representation moved; no explanation and no forward pass beyond the item's own."""

    compares = True

    @property
    def needs(self) -> frozenset[str]:
        return frozenset(need for need in self.metric.needs if need != "images")

    @property
    def layer(self) -> str | None:
        """The representation's layer (``None``: the classification head's input)."""
        return getattr(self.metric, "layer", None)

    def score(self, space: str, scoring: MapScoring) -> dict[str | None, float]:
        assert scoring.reference_maps is not None, "a relative stability is scored against a reference map"
        representations, references = scoring.representations or {}, scoring.reference_representations or {}
        value = self.metric.compute(
            scoring.maps[space],
            scoring.reference_maps[space],
            image=scoring.image,
            reference_image=scoring.reference_image,
            output=scoring.outputs,
            reference_output=scoring.reference_outputs,
            representation=representations.get(self.layer),
            reference_representation=references.get(self.layer),
        )
        return {None: float(value)}


class LocalStabilityScorer(Scorer):
    """``LocalStabilityMetric`` (Yeh et al. 2019; Alvarez-Melis & Jaakkola 2018): the method re-explains the reference
    image under the metric's own seeded noise. Scored on the reference items only, where it costs the metric's
    ``n_explanations`` explanations and ``n_forward_passes`` forward passes (:attr:`cost`)."""

    reference_only = True

    @property
    def needs(self) -> frozenset[str]:
        wanted = {"explainer"} if "explain" in self.metric.needs else set()
        return frozenset(wanted | ({"classes"} if self.metric.needs & {"predict", "target"} else set()))

    @property
    def cost(self) -> tuple[int, int]:
        return int(self.metric.n_explanations), int(self.metric.n_forward_passes)

    def score(self, space: str, scoring: MapScoring) -> dict[str | None, float]:
        from xaitk_wcam.utils.confidences import classify

        image, dtype = scoring.image, scoring.image.dtype

        def as_item(batch: np.ndarray) -> np.ndarray:
            """Float images in ``[0, 1]`` back in the item's dtype and range (what the model and explainer take)."""
            if np.issubdtype(dtype, np.integer):
                top = float(np.iinfo(dtype).max)
                return np.clip(np.round(np.asarray(batch) * top), 0, top).astype(dtype)
            return np.asarray(batch, dtype=dtype)

        explain = None
        if scoring.explain is not None:
            explain = lambda batch: scoring.explain(as_item(batch), space)  # noqa: E731
        predict = None
        if "classes" in self.needs:
            predict = lambda batch: classify(scoring.model, [list(as_item(batch))])  # noqa: E731
        value = self.metric.compute(
            image, explain=explain, predict=predict, target=scoring.class_index, reference_map=scoring.maps[space]
        )
        return {None: float(value)}


#: The registered kinds of metric and their scorers.
SCORERS: AdapterRegistry[Scorer] = AdapterRegistry(Scorer, "metric")


def register_scorer(kind: type, scorer: type[Scorer]) -> None:
    """Make :func:`as_scorer` wrap the implementations of ``kind`` (an interface class) in ``scorer``.

    :raises TypeError: ``kind`` is not a class, or ``scorer`` not a :class:`Scorer` subclass.
    """
    SCORERS.register(kind, scorer)


def scorer_kinds() -> tuple[type, ...]:
    """Every registered kind of metric (interface class), in registration order."""
    return SCORERS.kinds()


def as_scorer(metric: Any) -> Scorer:
    """``metric`` behind the scorer of its kind: the most specific registered class in its MRO.

    :raises TypeError: No registered kind fits (the message lists the kinds).
    """
    return SCORERS.wrap(metric)


register_scorer(SaliencyMetric, MapMetricScorer)
register_scorer(SaliencyComparison, ComparisonScorer)
register_scorer(FaithfulnessMetric, FaithfulnessScorer)
register_scorer(RelativeStabilityMetric, RelativeStabilityScorer)
register_scorer(LocalStabilityMetric, LocalStabilityScorer)
