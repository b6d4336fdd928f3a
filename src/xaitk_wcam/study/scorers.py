"""One way to score a map with any kind of metric: :func:`as_scorer` and the :class:`Scorer` adapters.

A study's ``metrics`` section names metrics of several kinds: xaitk-saliency's ``SaliencyMetric`` (one number of a
map), this package's ``SaliencyComparison`` (a map against the reference map of the same image and method) and
``FaithfulnessMetric`` (the map's order tested on the classifier). They differ in what they read, not in what the
study does with them. A :class:`Scorer` wraps one metric and says, before anything runs:

- what it writes: :meth:`Scorer.scores`, one value or one per named score (each a results column);
- what it reads: the map spaces (:func:`~xaitk_wcam.interfaces.explanation.accepted_spaces`), whether it needs the
  reference map (:attr:`Scorer.compares`: such a column is empty on the reference item and is what the noise floor
  measures), whether it watches a classifier's confidence of the explained class (:attr:`Scorer.reads_classes`:
  refused in a study whose model kind has no class);

and :meth:`Scorer.score` scores one target's map from a :class:`MapScoring`. Each kind registers its adapter
against the interface its metrics implement (:func:`register_scorer`); a new kind of metric is one registration,
and a study config's ``metrics`` section accepts the implementations of every registered kind
(:func:`scorer_kinds`).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from xaitk_saliency.interfaces.saliency_metric import SaliencyMetric

from xaitk_wcam.interfaces.faithfulness import FaithfulnessMetric
from xaitk_wcam.interfaces.saliency_comparison import SaliencyComparison


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
    """

    maps: Mapping[str, np.ndarray]
    reference_maps: Mapping[str, np.ndarray] | None
    image: np.ndarray
    model: Any
    class_index: int | None = None


class Scorer(abc.ABC):
    """A metric of any registered kind behind one interface (see the module doc).

    :param metric: The wrapped metric (a configured smqtk plugin).
    """

    #: Whether it compares the map with the reference map.
    compares: ClassVar[bool] = False
    #: Whether it reads a classifier's confidence of the explained class.
    reads_classes: ClassVar[bool] = False

    def __init__(self, metric: Any) -> None:
        self.metric = metric

    def scores(self) -> tuple[str | None, ...]:
        """The names of its values, one results column each (``(None,)``: one unnamed value)."""
        return (None,)

    @property
    def direction(self) -> str | None:
        """For a metric that :attr:`compares`: ``"similarity"`` (higher = closer to the reference) or ``"distance"``
        (higher = further), read from the metric's ``direction``; ``None`` otherwise."""
        return str(self.metric.direction) if self.compares else None

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

    def score(self, space: str, scoring: MapScoring) -> dict[str | None, float]:
        assert scoring.reference_maps is not None, "a comparison is scored against a reference map"
        return {None: float(self.metric.compute(scoring.maps[space], scoring.reference_maps[space]))}


class FaithfulnessScorer(Scorer):
    """``FaithfulnessMetric``: ``compute(image, map, classifier, class_index)``, one column per score."""

    reads_classes = True

    def scores(self) -> tuple[str | None, ...]:
        return tuple(str(name) for name in self.metric.score_names)

    def score(self, space: str, scoring: MapScoring) -> dict[str | None, float]:
        result = self.metric.compute(scoring.image, scoring.maps[space], scoring.model, scoring.class_index)
        return {name: float(result.scores[name]) for name in self.scores()}


_SCORERS: dict[type, type[Scorer]] = {}


def register_scorer(kind: type, scorer: type[Scorer]) -> None:
    """Make :func:`as_scorer` wrap the implementations of ``kind`` (an interface class) in ``scorer``.

    :raises TypeError: ``kind`` is not a class, or ``scorer`` not a :class:`Scorer` subclass.
    """
    if not isinstance(kind, type):
        raise TypeError(f"kind must be an interface class, got {kind!r}")
    if not (isinstance(scorer, type) and issubclass(scorer, Scorer)):
        raise TypeError(f"scorer must be a subclass of Scorer, got {scorer!r}")
    _SCORERS[kind] = scorer


def scorer_kinds() -> tuple[type, ...]:
    """Every registered kind of metric (interface class), in registration order."""
    return tuple(_SCORERS)


def scorer_class(metric_class: type) -> type[Scorer] | None:
    """The adapter of the most specific registered class in ``metric_class``'s MRO, or ``None``."""
    return next((_SCORERS[cls] for cls in metric_class.__mro__ if cls in _SCORERS), None)


def as_scorer(metric: Any) -> Scorer:
    """``metric`` behind the adapter of its kind (:func:`scorer_class`).

    :raises TypeError: No registered kind fits (the message lists the kinds).
    """
    if isinstance(metric, Scorer):
        return metric
    adapter = scorer_class(type(metric))
    if adapter is None:
        kinds = ", ".join(kind.__name__ for kind in _SCORERS)
        raise TypeError(f"{type(metric).__name__} is no metric of a known kind; accepted: {kinds}")
    return adapter(metric)


register_scorer(SaliencyMetric, MapMetricScorer)
register_scorer(SaliencyComparison, ComparisonScorer)
register_scorer(FaithfulnessMetric, FaithfulnessScorer)
