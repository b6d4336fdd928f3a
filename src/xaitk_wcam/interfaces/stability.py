"""Explanation-stability metrics: how much a map moves for how much its input, output or representation moved.

Two interfaces, both smqtk ``Plugfigurable``; implementations live in :mod:`xaitk_wcam.impls.stability`.

- :class:`RelativeStabilityMetric` scores **one pair** (reference, perturbed) that the caller already has: the two
  maps and, as each metric declares in :attr:`~StabilityMetric.needs`, the two images, model outputs or internal
  representations (Agarwal et al. 2022, "Rethinking Stability for Attribution-based Explanations",
  arXiv:2203.06877). It costs nothing beyond what the caller computed: no explanation, no forward pass.
- :class:`LocalStabilityMetric` draws its **own** seeded noise around one image and re-explains it (Yeh et al.,
  "On the (In)fidelity and Sensitivity of Explanations", NeurIPS 2019; Alvarez-Melis & Jaakkola, "On the Robustness
  of Interpretability Methods", 2018). It costs explanations (:attr:`~LocalStabilityMetric.n_explanations`) or
  forward passes (:attr:`~LocalStabilityMetric.n_forward_passes`), declared before anything runs, so a study can
  bound and report them.

What a consumer reads, before running anything (all class attributes, ``needs`` refined per instance):

- ``direction``: :data:`DISTANCE` for every metric here (higher = less stable; 0 = the map did not move);
- ``map_spaces``: the map spaces the metric accepts (:mod:`xaitk_wcam.interfaces.explanation`);
- ``needs``: the inputs ``compute`` requires besides the maps (see each interface's ``NEEDS`` vocabulary);
- ``n_explanations``, ``n_forward_passes``: the cost of one ``compute`` call.

Images are read as float in ``[0, 1]`` (``uint8`` images are divided by 255; float images must lie in
``[0, 1]``), maps as given (no normalisation unless a metric's option asks for it). Inputs are checked before any
work; the caller's arrays are never modified.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import ClassVar

import numpy as np
from smqtk_core.plugfigurable import Plugfigurable

from xaitk_wcam.interfaces.explanation import MAP_SPACES
from xaitk_wcam.statistics.change import DISTANCE, SIMILARITY
from xaitk_wcam.utils.checks import check_image, check_map

__all__ = [
    "DISTANCE",
    "SIMILARITY",
    "ExplainFn",
    "LocalStabilityMetric",
    "PredictFn",
    "RelativeStabilityMetric",
    "StabilityMetric",
    "image_as_unit_float",
    "prediction_changed",
]

#: An explainer as a callable: ``N x H x W [x C]`` float images in ``[0, 1]`` -> ``N x H' x W'`` maps of the
#: explained class (the same class for every image of the batch).
ExplainFn = Callable[[np.ndarray], np.ndarray]

#: A model as a callable: ``N x H x W [x C]`` float images in ``[0, 1]`` -> ``N x K`` outputs (logits or
#: probabilities; the explained class is a column).
PredictFn = Callable[[np.ndarray], np.ndarray]


def image_as_unit_float(image: object, name: str) -> np.ndarray:
    """A float64 copy of ``image`` in ``[0, 1]``: ``uint8`` divided by 255, float taken as is.

    :raises TypeError: Not a numeric numpy array, or an integer dtype other than ``uint8``.
    :raises ValueError: Not ``H x W [x C]``, non-finite, or a float image outside ``[0, 1]``.
    """
    values = check_image(image, name)
    if values.dtype == np.uint8:
        return values.astype(np.float64) / 255.0
    if not np.issubdtype(values.dtype, np.floating):
        raise TypeError(f"{name} must be uint8 in [0, 255] or float in [0, 1], got {values.dtype}")
    low, high = float(values.min()), float(values.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(f"{name} must be float in [0, 1] (or uint8), got values in [{low:.4g}, {high:.4g}]")
    return values.astype(np.float64)


def _check_vector(value: object, name: str) -> np.ndarray:
    """A flat float64 copy of a real, finite, non-empty array (an output or a representation)."""
    if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
        raise TypeError(f"{name} must be a real numpy array, got {type(value).__name__}")
    if value.size == 0:
        raise ValueError(f"{name} is empty; accepted: a non-empty array")
    flat = value.astype(np.float64).ravel()
    if not np.isfinite(flat).all():
        raise ValueError(f"{name} holds NaN or infinite values; accepted: finite values")
    return flat


def prediction_changed(output: object, reference_output: object) -> bool:
    """Whether the top class (argmax) of ``output`` differs from that of ``reference_output`` (the rule of Quantus'
    ``return_nan_when_prediction_changes``).

    :param output: ``K`` outputs (logits or probabilities) of the perturbed image.
    :param reference_output: ``K`` outputs of the reference image.
    :raises ValueError: Outputs of different sizes, empty or non-finite.
    """
    a, b = _check_vector(output, "output"), _check_vector(reference_output, "reference_output")
    if a.size != b.size:
        raise ValueError(f"output and reference_output must have the same size, got {a.size} and {b.size}")
    return int(np.argmax(a)) != int(np.argmax(b))


class StabilityMetric(Plugfigurable):
    """What every stability metric declares (see the module doc)."""

    #: :data:`DISTANCE`: 0 when the map does not move, higher = less stable.
    direction: ClassVar[str] = DISTANCE

    #: Map spaces the metric accepts; maps are compared entry by entry, so any space by default.
    map_spaces: ClassVar[tuple[str, ...]] = MAP_SPACES

    #: Inputs ``compute`` requires besides the maps. The class attribute is what the metric always needs; an instance
    #: may need more (e.g. outputs for the prediction-changed rule) and says so in its own ``needs``.
    needs: frozenset[str] = frozenset()

    #: Explanations and forward passes one ``compute`` call makes.
    n_explanations: int = 0
    n_forward_passes: int = 0

    @property
    def name(self) -> str:
        """The implementation's class name."""
        return self.__class__.__name__


class RelativeStabilityMetric(StabilityMetric):
    """Relative stability of one (reference, perturbed) pair (Agarwal et al. 2022).

    ``compute`` is a template: it checks the maps (2-D, real, finite, same shape) and the inputs the metric needs
    (:attr:`needs`: a subset of :attr:`NEEDS`), all before any work, then calls ``_compute`` with float64 copies
    (images in ``[0, 1]``, outputs and representations flattened). It makes no explanation and no forward pass.

    With ``nan_when_prediction_changes`` (Quantus' ``return_nan_when_prediction_changes``), the value is ``nan``
    when the top class of ``output`` differs from that of ``reference_output``; the instance then also needs the
    outputs. :func:`prediction_changed` gives the flag itself, for a second column.
    """

    #: The vocabulary of :attr:`needs`: the two images, the two model outputs, the two internal representations.
    NEEDS: ClassVar[frozenset[str]] = frozenset({"images", "outputs", "representations"})

    #: Default ``eps_min`` of Quantus 0.6's objectives.
    EPS_MIN: ClassVar[float] = 1e-6

    def __init__(self, *, eps_min: float = EPS_MIN, nan_when_prediction_changes: bool = False) -> None:
        from xaitk_wcam.utils.checks import check_float

        self.eps_min = check_float("eps_min", eps_min, 0.0)
        if not isinstance(nan_when_prediction_changes, (bool, np.bool_)):
            raise TypeError(
                f"nan_when_prediction_changes must be a bool, got {nan_when_prediction_changes!r} "
                f"({type(nan_when_prediction_changes).__name__})"
            )
        self.nan_when_prediction_changes = bool(nan_when_prediction_changes)
        self.needs = type(self).needs | ({"outputs"} if self.nan_when_prediction_changes else set())

    def compute(
        self,
        explanation: np.ndarray,
        reference_explanation: np.ndarray,
        *,
        image: np.ndarray | None = None,
        reference_image: np.ndarray | None = None,
        output: np.ndarray | None = None,
        reference_output: np.ndarray | None = None,
        representation: np.ndarray | None = None,
        reference_representation: np.ndarray | None = None,
    ) -> float:
        """The relative stability of ``explanation`` (of the perturbed image) against ``reference_explanation``.

        :param explanation: Map ``H x W`` of the perturbed image, in any space (compared entry by entry).
        :param reference_explanation: Map ``H x W`` of the reference image, same space and shape.
        :param image: The perturbed image ``H x W [x C]`` (``uint8``, or float in ``[0, 1]``); needs ``"images"``.
        :param reference_image: The reference image, same shape.
        :param output: ``K`` model outputs of the perturbed image (logits in Agarwal et al. and Quantus;
            probabilities from an smqtk classifier: the value depends on which); needs ``"outputs"``.
        :param reference_output: ``K`` model outputs of the reference image.
        :param representation: An internal representation of the perturbed image (any shape, flattened);
            needs ``"representations"``.
        :param reference_representation: The same representation of the reference image.
        :return: The value (:data:`DISTANCE`: 0 when the map did not move), or ``nan`` under the prediction-changed
            rule.
        :raises ValueError: A needed input missing, maps or inputs of different shapes, images outside ``[0, 1]``.
        :raises TypeError: Inputs that are not numeric numpy arrays.
        """
        e = check_map(explanation, "explanation")
        e_ref = check_map(reference_explanation, "reference_explanation")
        if e.shape != e_ref.shape:
            raise ValueError(
                f"explanation and reference_explanation must have the same shape, got {e.shape} and {e_ref.shape}"
            )
        given = {
            "images": (image, reference_image),
            "outputs": (output, reference_output),
            "representations": (representation, reference_representation),
        }
        missing = sorted(k for k in self.needs if any(v is None for v in given[k]))
        if missing:
            names = ", ".join(f"{k[:-1]} and reference_{k[:-1]}" for k in missing)
            raise ValueError(f"{self.name} needs {names} (its needs: {sorted(self.needs)})")
        inputs: dict[str, tuple[np.ndarray, np.ndarray] | None] = dict.fromkeys(given)
        if image is not None and reference_image is not None:
            x, x_ref = image_as_unit_float(image, "image"), image_as_unit_float(reference_image, "reference_image")
            if x.shape != x_ref.shape:
                raise ValueError(f"image and reference_image must have the same shape, got {x.shape} and {x_ref.shape}")
            inputs["images"] = (x, x_ref)
        for key, (value, reference) in given.items():
            if key == "images" or value is None or reference is None:
                continue
            a, b = _check_vector(value, key[:-1]), _check_vector(reference, f"reference_{key[:-1]}")
            if a.size != b.size:
                raise ValueError(f"{key[:-1]} and reference_{key[:-1]} must have the same size, got {a.size}, {b.size}")
            inputs[key] = (a, b)
        if self.nan_when_prediction_changes and prediction_changed(output, reference_output):
            return float("nan")
        return float(self._compute(e, e_ref, inputs))

    def __call__(self, explanation: np.ndarray, reference_explanation: np.ndarray, **inputs: np.ndarray) -> float:
        """Alias of :meth:`compute`."""
        return self.compute(explanation, reference_explanation, **inputs)

    def relative_map_change(self, explanation: np.ndarray, reference_explanation: np.ndarray) -> float:
        """The numerator of every relative stability: ``|| (e_ref - e) / e_ref ||_2``, a zero entry of ``e_ref``
        replaced by ``eps_min`` (Quantus 0.6), the norm over all entries."""
        change = (reference_explanation - explanation) / (
            reference_explanation + (reference_explanation == 0) * self.eps_min
        )
        return float(np.linalg.norm(change.ravel()))

    def nonzero(self, denominator: float) -> float:
        """``denominator``, or ``eps_min`` where it is 0 (Quantus 0.6)."""
        return denominator + (denominator == 0) * self.eps_min

    @abc.abstractmethod
    def _compute(
        self,
        explanation: np.ndarray,
        reference_explanation: np.ndarray,
        inputs: dict[str, tuple[np.ndarray, np.ndarray] | None],
    ) -> float:
        """The value on checked float64 maps; ``inputs[key]`` is ``(perturbed, reference)`` for each given input
        (images ``H x W [x C]`` in ``[0, 1]``, outputs and representations flat), ``None`` otherwise."""


class LocalStabilityMetric(StabilityMetric):
    """Stability of an explainer in a neighbourhood of one image, from its own seeded noise draws.

    ``compute`` is a template: it checks the image, that the inputs of :attr:`needs` (a subset of :attr:`NEEDS`) are
    given and callable, and the reference map when given, all before the first explanation or forward pass, then
    calls ``_compute`` with the image as float64 in ``[0, 1]``. The cost of one call is :attr:`n_explanations`
    explanations and :attr:`n_forward_passes` images through the model (both fixed by the configuration).
    """

    #: The vocabulary of :attr:`needs`: an :data:`ExplainFn`, a :data:`PredictFn`, the explained class's column,
    #: the map of the image itself.
    NEEDS: ClassVar[frozenset[str]] = frozenset({"explain", "predict", "target", "reference_map"})

    def compute(
        self,
        image: np.ndarray,
        *,
        explain: ExplainFn | None = None,
        predict: PredictFn | None = None,
        target: int | None = None,
        reference_map: np.ndarray | None = None,
    ) -> float:
        """Score the explainer (or the map) around ``image``.

        :param image: ``H x W [x C]`` image, ``uint8`` or float in ``[0, 1]``. Not modified.
        :param explain: The explainer (:data:`ExplainFn`); it receives float64 batches in the image's layout.
        :param predict: The model (:data:`PredictFn`).
        :param target: The explained class's column in ``predict``'s outputs.
        :param reference_map: The map of ``image`` itself (``H' x W'``), when the caller has it.
        :return: The value (:data:`DISTANCE`), ``nan`` where the metric says.
        :raises ValueError: A needed input missing, a wrong image or map.
        :raises TypeError: ``explain`` or ``predict`` not callable.
        """
        x = image_as_unit_float(image, "image")
        given = {"explain": explain, "predict": predict, "target": target, "reference_map": reference_map}
        missing = sorted(k for k in self.needs if given[k] is None)
        if missing:
            raise ValueError(f"{self.name} needs {', '.join(missing)} (its needs: {sorted(self.needs)})")
        for key in ("explain", "predict"):
            if given[key] is not None and not callable(given[key]):
                raise TypeError(
                    f"{key} must be a callable (a batch of images -> arrays), got {type(given[key]).__name__}"
                )
        if target is not None and (isinstance(target, (bool, np.bool_)) or not isinstance(target, (int, np.integer))):
            raise TypeError(f"target must be an int (a column of predict's outputs), got {target!r}")
        ref = None if reference_map is None else check_map(reference_map, "reference_map")
        return float(self._compute(x, explain=explain, predict=predict, target=target, reference_map=ref))

    def __call__(self, image: np.ndarray, **inputs: object) -> float:
        """Alias of :meth:`compute`."""
        return self.compute(image, **inputs)  # type: ignore[arg-type]

    @abc.abstractmethod
    def _compute(
        self,
        image: np.ndarray,
        *,
        explain: ExplainFn | None,
        predict: PredictFn | None,
        target: int | None,
        reference_map: np.ndarray | None,
    ) -> float:
        """The value on a checked float64 image in ``[0, 1]``."""
