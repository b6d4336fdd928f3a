"""What a model kind brings to a study: :class:`ModelTask` and the :class:`Targets` of an item.

A classification study and a detection study run the same loop (:mod:`xaitk_wcam.study.worker`): the reference
item of each image, then its perturbations, then its noise floor, every method explained and scored on each, one
row per method and reference target. What differs is the *task*:

- which config section names the model, the interface it implements and the kind's own settings
  (``target`` for a classifier, ``detections`` for a detector): :attr:`ModelTask.section`,
  :attr:`ModelTask.model_interface`, :meth:`ModelTask.resolve_settings`;
- what an image's reference item explains, how a perturbation carries it (a label, boxes) and what the model does
  on each item (its *outcome*: confidences, a detection's survival): :meth:`ModelTask.reference` and
  :meth:`ModelTask.follow`, which return :class:`Targets`;
- the columns its rows add and what the report follows and draws for it (class attributes and classmethods, read
  without a model).

A new kind of model is one :class:`ModelTask` subclass (and its :class:`Targets`), registered with
:func:`register_task`; the loop, the store and the report's skeleton do not change.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np


class Targets(abc.ABC):
    """What one item explains: some of its reference item's targets, each at its position among them, with the
    model's outcome on the item's image.

    A perturbed item may have lost targets (a box a geometric perturber moved out of the image): its
    :attr:`positions` are those it kept; the rows of the others say why they are gone (:meth:`outcome`).
    """

    #: Positions of the item's targets among the reference item's targets (``0 ... R-1``), in explanation order.
    positions: np.ndarray

    @property
    @abc.abstractmethod
    def explained(self) -> Any:
        """What :meth:`~xaitk_wcam.interfaces.explainer.Explainer.explain` receives as its ``targets``."""

    @abc.abstractmethod
    def record(self) -> dict[str, Any]:
        """The item record's fields from which :meth:`ModelTask.targets_from_record` rebuilds them (JSON)."""

    def describe(self, position: int) -> dict[str, Any]:
        """Columns naming reference target ``position`` on every row about it (called on the reference's targets;
        none by default)."""
        return {}

    @abc.abstractmethod
    def outcome(self, position: int) -> dict[str, Any]:
        """Columns of the model's outcome on this item for reference target ``position``; for a target this item
        lost, those columns and its ``status`` (the row then has no method values)."""

    def class_index(self, index: int) -> int | None:
        """The class index that a metric reading a classifier's confidence watches for the item's target ``index``
        (``None``: the kind provides no ``"classes"``)."""
        return None

    def single(self, index: int) -> Any:
        """What :meth:`~xaitk_wcam.interfaces.explainer.Explainer.explain` receives to explain the item's target
        ``index`` alone."""
        raise NotImplementedError(f"{type(self).__name__} cannot explain one of its targets alone")

    def outputs(self) -> np.ndarray | None:
        """The model's outputs on the item's image (``None``: the kind provides no ``"outputs"``)."""
        return None

    def representations(self) -> dict[str | None, np.ndarray]:
        """Layer -> the model's representation of the item's image (empty: none recorded)."""
        return {}

    def map_fields(self, index: int, maps: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """Columns the kind computes from the maps of the item's target ``index`` (none by default)."""
        return {}


class ModelTask(abc.ABC):
    """A kind of model in a study (see the module doc). Class attributes describe the kind for the plan and the
    report; an instance, built by a worker around the loaded model, computes the targets of items.

    :param model: The study's model (built from its config section).
    :param settings: The kind's settings, as :meth:`resolve_settings` returned them.
    """

    #: The config section that names the model; also the :attr:`~xaitk_wcam.interfaces.explainer.Explainer.model_kind`
    #: of the explainers of this kind.
    section: ClassVar[str]
    #: What a study of this kind is called in messages (``"classification"``).
    study_name: ClassVar[str]
    #: The interface the model implements: the class, or its public name (``module.Class``), imported on use.
    model_interface: ClassVar[type | str]
    #: Config keys of the kind's own settings (:meth:`resolve_settings`); refused in another kind's study.
    setting_keys: ClassVar[tuple[str, ...]] = ()
    #: Columns of every row about the target and the model's outcome, in ``results.csv`` order (after ``status``).
    columns: ClassVar[tuple[str, ...]]
    #: Those of :attr:`columns` that hold text.
    text_columns: ClassVar[tuple[str, ...]] = ()
    #: Those of :attr:`columns` that describe rather than measure (left out of the report's means).
    label_columns: ClassVar[tuple[str, ...]] = ()
    #: Columns computed from the maps (:meth:`Targets.map_fields`), after the metrics' columns.
    map_columns: ClassVar[tuple[str, ...]] = ()
    #: The outcome column the report's curves follow beside the metrics (the model breaking).
    outcome_column: ClassVar[str]
    #: What the kind's targets give a metric beside the maps and images (:attr:`~xaitk_wcam.study.scorers.Scorer.
    #: needs`): ``"classes"`` (a class whose confidence a faithfulness metric can watch), ``"outputs"`` (the model's
    #: outputs on each item), ``"representations"`` (internal representations recorded during the item's forward pass,
    #: :attr:`representation_layers`), ``"explainer"`` (a method re-explaining one target).
    provides: ClassVar[frozenset[str]] = frozenset({"explainer"})
    #: ``(columns, meaning)`` pairs of the report's legend for :attr:`columns` and :attr:`map_columns`.
    legend: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: The names of the model's outcome on a perturbed item, against the reference item (:meth:`outcome_change`): how
    #: far its outcome dropped, and whether it broke.
    outcome_names: ClassVar[tuple[str, str]] = ("outcome drop", "broken")

    def __init__(self, model: Any, settings: Mapping[str, Any]) -> None:
        self.model = model
        self.settings = dict(settings)
        #: The layers whose representations each item records (``None``: the classification head's input), set by a
        #: worker whose metrics read representations.
        self.representation_layers: tuple[str | None, ...] = ()

    # -- the config (no model) ------------------------------------------------------------------------
    @classmethod
    @abc.abstractmethod
    def resolve_settings(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """The kind's settings from a study config, defaults filled in.

        :raises ValueError: A wrong value (the study reports it as a config error).
        """

    @classmethod
    def max_targets(cls, settings: Mapping[str, Any]) -> int:
        """Targets an item explains at most, as far as the settings say before the model runs (the dry run's
        counts); 1 by default."""
        return 1

    # -- items (a loaded model) -----------------------------------------------------------------------
    @abc.abstractmethod
    def reference(self, image: np.ndarray, label: Any) -> Targets:
        """The targets of an image's reference item and the model's outcome on it.

        :param label: The image source's label of the image, or ``None``.
        :raises ValueError: Nothing to explain on the image (an error row for the image).
        """

    @abc.abstractmethod
    def follow(self, perturber: Any, image: np.ndarray, reference: Targets, label: Any) -> tuple[np.ndarray, Targets]:
        """``perturber`` on ``image`` (never modified), carrying the reference's targets; the perturbed image and its
        targets with the model's outcome on it."""

    @classmethod
    @abc.abstractmethod
    def targets_from_record(cls, record: Mapping[str, Any]) -> Targets:
        """The targets of a committed item (:meth:`Targets.record`)."""

    # -- the dry run's calibration (a loaded model) ---------------------------------------------------
    def run_model(self, images: Sequence[np.ndarray]) -> None:
        """Run the model on ``images`` and consume its answers (the dry run times it).

        :raises NotImplementedError: A kind that does not say how (its studies have no dry-run time).
        """
        raise NotImplementedError(f"{type(self).__name__} does not say how to run its model for a dry run")

    def stand_in(self, image: np.ndarray) -> tuple[Any, Any] | None:
        """A model of this kind that answers at once, and the targets it is explained for on ``image``: the dry run
        times each method's own work with it. ``None``: not timed (the default)."""
        return None

    # -- the store's maps -----------------------------------------------------------------------------
    @classmethod
    def stored_map(cls, stack: np.ndarray) -> np.ndarray:
        """How an item's maps of one method and space (one per target) are stored (as they are, by default)."""
        return stack

    @classmethod
    def map_stack(cls, stored: np.ndarray) -> np.ndarray:
        """The per-target stack of a stored map (:meth:`stored_map`'s inverse)."""
        return stored

    # -- the statistics (no model) ----------------------------------------------------------------------
    @classmethod
    def outcome_change(cls, reference: Any, perturbed: Any) -> tuple[Any, Any]:
        """Per sample (the rows' index), the model's outcome on a perturbed item against the reference item: how far
        it dropped (:attr:`outcome_column` on the reference minus on the perturbed item; positive: worse) and whether
        the model broke (``1.0``/``0.0``, NaN where unknown). By default a break is a drop of more than half.

        :param reference: The reference rows, one per sample (``pandas.DataFrame``).
        :param perturbed: The perturbed item's rows, same index.
        :return: Two ``pandas.Series``.
        """
        before, after = reference[cls.outcome_column].astype(float), perturbed[cls.outcome_column].astype(float)
        return before - after, (after < before / 2).astype(float).where(before.notna() & after.notna())

    # -- the report (no model) ------------------------------------------------------------------------
    @classmethod
    def sample_ids(cls, frame: Any) -> Any:
        """``frame`` with one ``image_id`` per sample that the report's curves average over (the image, by default)."""
        return frame

    @classmethod
    def figure_targets(cls, record: Mapping[str, Any]) -> list[int | None]:
        """The targets of a reference item that get a maps figure of their own (``[None]``: one figure per image)."""
        return [None]

    @classmethod
    def rows_of(cls, rows: Sequence[Mapping[str, Any]], target: int | None) -> list[Mapping[str, Any]]:
        """The rows of an item about figure target ``target`` (:meth:`figure_targets`)."""
        return list(rows)

    @classmethod
    def map_of(cls, record: Mapping[str, Any], stored: np.ndarray | None, target: int | None) -> np.ndarray | None:
        """An item's ``H x W`` map of figure target ``target``, from its stored map (``None`` when it has none); by
        default the map of its first target (one figure per image)."""
        return None if stored is None else cls.map_stack(stored)[0]

    @classmethod
    def figure_title(cls, row: Mapping[str, Any]) -> list[str]:
        """Lines under an item's image in a maps figure: the model's outcome on it."""
        return []

    @classmethod
    def figure_subject(cls, row: Mapping[str, Any], target: int | None) -> str:
        """What a maps figure explains (its title), from the reference item's row."""
        return ""

    @classmethod
    def figure_box(cls, row: Mapping[str, Any]) -> list[float] | None:
        """A box to draw on an item's image in a maps figure (``x0, y0, x1, y1``), or ``None``."""
        return None

    #: Whether a maps figure of one target shows each wavelet method's scale profile under its maps.
    figure_profiles: ClassVar[bool] = False
    #: What a target is called in the file names of its maps figures (``image_<index>_<figure_name>_<target>.png``).
    figure_name: ClassVar[str] = "target"


_TASKS: dict[str, type[ModelTask]] = {}


def register_task(task: type[ModelTask]) -> type[ModelTask]:
    """Make studies accept models of ``task``'s kind, in the config section :attr:`ModelTask.section`.

    :raises TypeError: ``task`` is not a :class:`ModelTask` subclass.
    :raises ValueError: Another kind took the section.
    """
    if not (isinstance(task, type) and issubclass(task, ModelTask)):
        raise TypeError(f"task must be a ModelTask subclass, got {task!r}")
    taken = _TASKS.get(task.section)
    if taken is not None and taken is not task:
        raise ValueError(f"config section {task.section!r} is already the model of {taken.__name__}")
    _TASKS[task.section] = task
    return task


def model_tasks() -> dict[str, type[ModelTask]]:
    """Every registered kind, by the config section that names its model."""
    return dict(_TASKS)
