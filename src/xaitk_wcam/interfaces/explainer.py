"""One way to call any saliency generator: :func:`as_explainer` and the :class:`Explainer` adapter.

The generators a study (or the CLI) meets are of several *kinds*: xaitk-saliency's black-box generators
(``generate(image, blackbox)``, pixel maps of every class), this package's black-box explainers (WCAM and the
other :class:`~xaitk_wcam.interfaces.blackbox_explainer.BlackboxExplainer`, maps with their space), white-box
generators (``explain(image, classifier, class_indices)``: Captum's methods, WAM). They differ in what they
need from the model, not in what they give back. An :class:`Explainer` hides the difference behind one
object:

- :attr:`Explainer.map_spaces`, :attr:`Explainer.wavelet_levels`: what its maps will be, before anything runs;
- :attr:`Explainer.seeded`, :attr:`Explainer.seed`, :meth:`Explainer.with_seed`: whether the maps depend on a
  seed, and the same method with another seed (a study's noise floor);
- :meth:`Explainer.check_model`, :meth:`Explainer.check_memory`: refusals before any work;
- :meth:`Explainer.explain` ``(image, model, target) -> Explanation``: the map of class ``target`` (an index
  into ``model.get_labels()``);
- :attr:`Explainer.model_kind`: what ``model`` is, named as the study config section that gives it
  (``"classifier"``, or ``"detector"`` for xaitk's object-detector generators, whose ``target`` is the
  :class:`~xaitk_wcam.utils.detections.DetectionSet` of the detections to explain: one map per detection).

Each kind registers its adapter class against the interface its generators implement
(:func:`register_explainer`); :func:`as_explainer` picks the adapter of the most specific registered class in
the generator's MRO. A new kind of explainer plugs in by registering one adapter: nothing that consumes
explainers (the study, the CLI) changes, and a study config's ``saliency`` section accepts the implementations
of every registered kind (:func:`explainer_kinds`).
"""

from __future__ import annotations

import abc
from collections.abc import Hashable
from typing import Any

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects
from xaitk_saliency.interfaces.gen_image_classifier_blackbox_sal import GenerateImageClassifierBlackboxSaliency
from xaitk_saliency.interfaces.gen_object_detector_blackbox_sal import GenerateObjectDetectorBlackboxSaliency

from xaitk_wcam.interfaces.blackbox_explainer import BlackboxExplainer
from xaitk_wcam.interfaces.explanation import PIXEL, Explanation, MapExplanation
from xaitk_wcam.interfaces.whitebox import GenerateImageClassifierWhiteboxSaliency, WhiteboxClassifier
from xaitk_wcam.utils.target_class import TargetClassBlackbox

#: The constructor keyword (and ``get_config`` key) of a generator's seed.
SEED = "seed"

#: :attr:`Explainer.model_kind` of the explainers of classifiers and of detectors (the study config sections).
CLASSIFIER, DETECTOR = "classifier", "detector"

#: Images a generator is assumed to hold at once when it says nothing about it (see :meth:`Explainer.check_memory`).
DEFAULT_IMAGES_AT_ONCE = 64

#: Bytes per pixel and channel of one image in a batch, counted conservatively: the float32 perturbed image,
#: its copy in the input's dtype (at most 4 bytes) and the classifier's float32 input.
BYTES_PER_PIXEL = 12


class Explainer(abc.ABC):
    """A saliency generator of any registered kind, behind one interface (see the module doc).

    :param generator: The wrapped generator (a configured smqtk plugin).
    """

    #: What :meth:`explain`'s ``model`` is: :data:`CLASSIFIER` or :data:`DETECTOR`.
    model_kind: str = CLASSIFIER

    def __init__(self, generator: Any) -> None:
        self.generator = generator

    # -- what its maps are --------------------------------------------------------------------------
    @property
    def map_spaces(self) -> tuple[str, ...]:
        """Spaces of the maps :meth:`explain` returns, the generator's main space first."""
        return tuple(self.generator.map_spaces)

    @property
    def wavelet_levels(self) -> int | None:
        """Decomposition levels of the wavelet maps, or ``None`` when there are none."""
        return self.generator.wavelet_levels

    # -- seeds --------------------------------------------------------------------------------------
    @property
    def seeded(self) -> bool:
        """Whether the maps depend on a random seed (the generator's config has a ``seed``)."""
        return SEED in self.generator.get_config()

    @property
    def seed(self) -> int | None:
        """The generator's seed, or ``None`` when it has none."""
        return self.generator.get_config().get(SEED) if self.seeded else None

    def with_seed(self, seed: int) -> Explainer:
        """The same method, configured identically but for its seed.

        :raises ValueError: The method has no seed.
        """
        if not self.seeded:
            raise ValueError(f"{type(self.generator).__name__} has no seed to change")
        generator = type(self.generator).from_config({**self.generator.get_config(), SEED: int(seed)})
        return type(self)(generator)

    def second_draw(self) -> Explainer:
        """The explainer of the noise floor's second map: seed + 1, or, for a method configured with
        ``seed=None`` (xaitk's RISE / D-RISE draw fresh masks on every call), the same explainer, whose next call
        draws new randomness.

        :raises ValueError: The method has no seed.
        """
        if self.seeded and self.seed is None:
            return self
        return self.with_seed(int(self.seed) + 1)  # type: ignore[arg-type]

    # -- refusals before any work ---------------------------------------------------------------------
    @abc.abstractmethod
    def check_model(self, model: Any) -> None:
        """Refuse a model this kind of explainer cannot use.

        :raises TypeError: Naming what the kind needs.
        """

    def images_at_once(self) -> int:
        """Images the generator holds at once: its ``batch_size`` when it has one, else
        :data:`DEFAULT_IMAGES_AT_ONCE`."""
        batch = getattr(self.generator, "batch_size", None)
        return int(batch) if isinstance(batch, int) and batch > 0 else DEFAULT_IMAGES_AT_ONCE

    def memory_estimate_mb(self, image_shape: tuple[int, ...]) -> float:
        """Estimated working memory of one explanation of an image of ``image_shape``, in MB: the generator's own
        count when it has one (``memory_estimate_bytes(image_shape)``, e.g. the Sobol methods: batch, design,
        outputs of the one class explained; WAM: its batch of layouts, Captum's per-sample bookkeeping, the
        result), else the images held at once times the image's pixels and channels
        times :data:`BYTES_PER_PIXEL`."""
        own = getattr(self.generator, "memory_estimate_bytes", None)
        if callable(own):
            return own(tuple(image_shape)) / 2**20
        channels = image_shape[2] if len(image_shape) == 3 else 1
        return self.images_at_once() * image_shape[0] * image_shape[1] * channels * BYTES_PER_PIXEL / 2**20

    def check_memory(self, image_shape: tuple[int, ...], budget_mb: float) -> None:
        """Refuse, before any allocation, an explanation whose :meth:`memory_estimate_mb` exceeds ``budget_mb``.

        :raises MemoryError: The estimate exceeds the budget.
        """
        estimate = self.memory_estimate_mb(image_shape)
        if estimate > budget_mb:
            height, width = image_shape[:2]
            channels = image_shape[2] if len(image_shape) == 3 else 1
            counted = callable(getattr(self.generator, "memory_estimate_bytes", None))
            per = f"per batch of {self.images_at_once()}"
            if counted:
                per = "per explanation (batch, design or samples, outputs)"
            raise MemoryError(
                f"a {height} x {width} x {channels} image needs an estimated {estimate:,.0f} MB {per} for "
                f"{type(self.generator).__name__}, over memory_budget_mb={budget_mb:,.0f}; resize the image, lower "
                "the method's batch_size (or nb_design, n_samples), or raise memory_budget_mb"
            )

    # -- the work -------------------------------------------------------------------------------------
    @abc.abstractmethod
    def explain(self, image: np.ndarray, model: Any, target: int) -> Explanation:
        """The explanation of class ``target`` (an index into ``model.get_labels()``) on ``image``.

        Its maps hold the target's map, on the row of the target's label (:func:`target_maps`).
        """


def target_row(explanation: Explanation, label: Hashable) -> int:
    """The row of ``label`` in ``explanation``'s maps (the first when the explanation does not list the label,
    e.g. an xaitk generator's single map)."""
    labels = list(explanation.labels)
    return labels.index(label) if label in labels else 0


def target_maps(explanation: Explanation, label: Hashable) -> dict[str, np.ndarray]:
    """Space -> the ``H x W`` map of ``label`` (:func:`target_row`) in every space of ``explanation``."""
    row = target_row(explanation, label)
    return {space: np.asarray(explanation.maps_in(space)[row]) for space in explanation.spaces}


class WhiteboxExplainer(Explainer):
    """White-box generators: they get the classifier itself and ``[target]``."""

    def check_model(self, model: Any) -> None:
        if not isinstance(model, WhiteboxClassifier):
            raise TypeError(
                f"{type(self.generator).__name__} is a white-box method: the classifier must expose model, preprocess "
                f"and get_labels (e.g. HuggingFaceImageClassifier), got {type(model).__name__}"
            )

    def explain(self, image: np.ndarray, model: Any, target: int) -> Explanation:
        return self.generator.explain(image, model, [target])


class BlackboxExplainerAdapter(Explainer):
    """This package's black-box explainers: they get the one-label view of the classifier
    (:class:`~xaitk_wcam.utils.target_class.TargetClassBlackbox`), so they estimate the target's map only."""

    def check_model(self, model: Any) -> None:
        if not isinstance(model, ClassifyImage):
            raise TypeError(
                f"{type(self.generator).__name__} needs an smqtk_classifier.ClassifyImage, got {type(model).__name__}"
            )

    def explain(self, image: np.ndarray, model: Any, target: int) -> Explanation:
        label = list(model.get_labels())[target]
        return self.generator.explain(image, TargetClassBlackbox(model, label))


class XaitkBlackboxExplainer(BlackboxExplainerAdapter):
    """xaitk-saliency's black-box generators: ``generate`` on the one-label view; its maps are pixel maps."""

    @property
    def map_spaces(self) -> tuple[str, ...]:
        return (PIXEL,)

    @property
    def wavelet_levels(self) -> int | None:
        return None

    def explain(self, image: np.ndarray, model: Any, target: int) -> Explanation:
        label = list(model.get_labels())[target]
        maps = np.asarray(self.generator.generate(image, TargetClassBlackbox(model, label)))
        return MapExplanation({PIXEL: maps}, [label])


class DetectorExplainer(Explainer):
    """xaitk-saliency's object-detector generators (``generate(image, bboxes, scores, detector, objectness)``, e.g.
    ``DRISEStack``): ``target`` is the :class:`~xaitk_wcam.utils.detections.DetectionSet` of the detections to
    explain; the explanation has one pixel map per detection, in order (labels: their positions). When the detector
    finds nothing on any perturbed image, every similarity is 0 and so is every map (xaitk returns no map then)."""

    model_kind = DETECTOR

    @property
    def map_spaces(self) -> tuple[str, ...]:
        return (PIXEL,)

    @property
    def wavelet_levels(self) -> int | None:
        return None

    def check_model(self, model: Any) -> None:
        if not isinstance(model, DetectImageObjects):
            raise TypeError(
                f"{type(self.generator).__name__} explains detections: it needs an smqtk_detection.DetectImageObjects, "
                f"got {type(model).__name__}"
            )

    def explain(self, image: np.ndarray, model: Any, target: Any) -> Explanation:
        scores = np.ones((len(target), 1)) if target.scores is None else target.scores
        maps = np.asarray(self.generator.generate(image, target.boxes, scores, model, target.objectness))
        if maps.size == 0:  # xaitk's PerturbationOcclusion when no perturbed image had a detection: no saliency
            maps = np.zeros((len(target), *image.shape[:2]))
        return MapExplanation({PIXEL: maps}, list(range(len(target))))


class WaveletDetectorExplainer(DetectorExplainer):
    """Detector generators with their own ``explain(image, detector, detections=DetectionSet) -> Explanation``
    (:class:`~xaitk_wcam.WCAMDetector`, which registers this adapter): their maps in every space they declare."""

    @property
    def map_spaces(self) -> tuple[str, ...]:
        return tuple(self.generator.map_spaces)

    @property
    def wavelet_levels(self) -> int | None:
        return self.generator.wavelet_levels

    def explain(self, image: np.ndarray, model: Any, target: Any) -> Explanation:
        return self.generator.explain(image, model, detections=target)


_ADAPTERS: dict[type, type[Explainer]] = {}


def register_explainer(kind: type, adapter: type[Explainer]) -> None:
    """Make :func:`as_explainer` wrap the implementations of ``kind`` (an interface class) in ``adapter``.

    :raises TypeError: ``kind`` is not a class, or ``adapter`` not an :class:`Explainer` subclass.
    """
    if not isinstance(kind, type):
        raise TypeError(f"kind must be an interface class, got {kind!r}")
    if not (isinstance(adapter, type) and issubclass(adapter, Explainer)):
        raise TypeError(f"adapter must be a subclass of Explainer, got {adapter!r}")
    _ADAPTERS[kind] = adapter


def explainer_kinds() -> tuple[type, ...]:
    """Every registered kind (interface class), in registration order."""
    return tuple(_ADAPTERS)


def as_explainer(generator: Any) -> Explainer:
    """``generator`` behind the adapter of its kind: the most specific registered class in its MRO.

    :raises TypeError: No registered kind fits (the message lists the kinds).
    """
    if isinstance(generator, Explainer):
        return generator
    for cls in type(generator).__mro__:
        adapter = _ADAPTERS.get(cls)
        if adapter is not None:
            return adapter(generator)
    kinds = ", ".join(kind.__name__ for kind in _ADAPTERS)
    raise TypeError(f"{type(generator).__name__} is no saliency generator of a known kind; accepted: {kinds}")


register_explainer(GenerateImageClassifierBlackboxSaliency, XaitkBlackboxExplainer)
register_explainer(BlackboxExplainer, BlackboxExplainerAdapter)
register_explainer(GenerateImageClassifierWhiteboxSaliency, WhiteboxExplainer)
register_explainer(GenerateObjectDetectorBlackboxSaliency, DetectorExplainer)
