"""One way to call any saliency generator: :func:`as_explainer` and the :class:`Explainer` adapter.

The generators a study (or the CLI) meets are of several *kinds*: xaitk-saliency's black-box generators
(``generate(image, blackbox)``, pixel maps of every class), this package's black-box explainers (WCAM and the
other :class:`~xaitk_wcam.interfaces.blackbox_explainer.BlackboxExplainer`, maps with their space), white-box
generators (``explain(image, classifier, class_indices)``: Captum's methods, WAM). They differ in what they
need from the model, not in what they give back. An :class:`Explainer` hides the difference behind one
object:

- :attr:`Explainer.map_spaces`, :attr:`Explainer.wavelet_levels`: what its maps will be, before anything runs;
- :attr:`Explainer.seeded`, :attr:`Explainer.seed`, :meth:`Explainer.with_seed`, :meth:`Explainer.drawn_for`:
  whether the maps depend on a seed, the same method with another seed, and seeded for one independent draw on an
  image (a study's items and noise floor);
- :meth:`Explainer.check_model`, :meth:`Explainer.check_memory`: refusals before any work;
- :meth:`Explainer.evaluations`: what one explanation costs, in model evaluations, before anything runs;
- :meth:`Explainer.explain` ``(image, model, targets) -> Explanation``: one map per target, in the order of
  ``targets``, in every space (checked: never a map of another target in its place). A classifier's targets are
  class indices (positions in ``model.get_labels()``); a detector's are the
  :class:`~xaitk_wcam.utils.detections.DetectionSet` of the detections to explain;
- :attr:`Explainer.model_kind`: what ``model`` is, named as the study config section that gives it
  (``"classifier"``, or ``"detector"`` for xaitk's object-detector generators).

:meth:`Explainer.explain` is a template, as xaitk-saliency's ``generate``: it checks the targets, calls the
adapter's :meth:`Explainer._explain`, then checks that there is one map per target.

Each kind registers its adapter class against the interface its generators implement
(:func:`register_explainer`); :func:`as_explainer` picks the adapter of the most specific registered class in
the generator's MRO. A new kind of explainer plugs in by registering one adapter: nothing that consumes
explainers (the study, the CLI) changes, and a study config's ``saliency`` section accepts the implementations
of every registered kind (:func:`explainer_kinds`).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects
from xaitk_saliency.interfaces.gen_image_classifier_blackbox_sal import GenerateImageClassifierBlackboxSaliency
from xaitk_saliency.interfaces.gen_object_detector_blackbox_sal import GenerateObjectDetectorBlackboxSaliency

from xaitk_wcam.interfaces.blackbox_explainer import BlackboxExplainer
from xaitk_wcam.interfaces.explanation import PIXEL, Explanation, MapExplanation
from xaitk_wcam.interfaces.whitebox import GenerateImageClassifierWhiteboxSaliency, WhiteboxClassifier
from xaitk_wcam.utils.adapters import AdapterRegistry
from xaitk_wcam.utils.detections import DetectionSet
from xaitk_wcam.utils.seeds import derived_seed
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

    def drawn_for(self, image: np.ndarray, draw: int = 0) -> Explainer:
        """The same method seeded for one draw on ``image``: its seed derived from its own seed, the image's pixels and
        ``draw`` (:func:`~xaitk_wcam.utils.seeds.derived_seed`). Two explanations of the same pixels in the same draw
        are the same explanation; any other two are independent draws, as a study's verdict assumes (its perturbed
        items and its noise floor: draw 1 on the reference image). A method without a seed, or configured with
        ``seed=None`` (xaitk's RISE and D-RISE then draw fresh randomness on every call), is returned as it is."""
        if not self.seeded or self.seed is None:
            return self
        return self.with_seed(derived_seed(int(self.seed), image, draw))

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

    # -- what it costs ---------------------------------------------------------------------------------
    #: What one evaluation is: ``"forward"`` (the model classifies or detects one image) or ``"gradient"`` (a forward
    #: and a backward pass of one image).
    evaluation_kind: str = "forward"

    def evaluations(self, image_shape: tuple[int, ...], n_targets: int = 1) -> int | None:
        """Model evaluations of one explanation of ``n_targets`` targets on an image of ``image_shape`` (images the
        model sees, of :attr:`evaluation_kind`), known before anything runs; ``None`` when the method does not say.

        The generator's own ``evaluations(image_shape, n_targets)`` when it has one, else its ``n_evaluations``
        (the Sobol methods: one set of masked images, classified once for every target).
        """
        own = getattr(self.generator, "evaluations", None)
        if callable(own):
            return int(own(tuple(image_shape), n_targets))
        count = getattr(self.generator, "n_evaluations", None)
        return int(count) if isinstance(count, (int, np.integer)) and not isinstance(count, bool) else None

    # -- the work -------------------------------------------------------------------------------------
    def explain(self, image: np.ndarray, model: Any, targets: Any) -> Explanation:
        """One map per target of ``targets`` on ``image``, in their order, in every space of the explanation.

        :param targets: A classifier's class indices (a sequence of positions in ``model.get_labels()``), or a
            detector's :class:`~xaitk_wcam.utils.detections.DetectionSet` (:meth:`check_targets`).
        :raises TypeError: Targets of the wrong kind.
        :raises ValueError: No target, a class index out of range; an explanation that does not hold exactly one
            map per target (a generator that ignored the targets).
        """
        targets = self.check_targets(model, targets)
        explanation = self._explain(image, model, targets)
        for space in explanation.spaces:
            count = len(explanation.maps_in(space))
            if count != len(targets):
                raise ValueError(
                    f"{type(self.generator).__name__} returned {count} {space} map(s) for {len(targets)} target(s); "
                    "an explainer must return one map per target, in order"
                )
        return explanation

    def check_targets(self, model: Any, targets: Any) -> Any:
        """Class indices of ``model``, as a list of ints (a detector's explainer checks a ``DetectionSet``).

        :raises TypeError: Not a sequence of ints.
        :raises ValueError: Empty, or an index outside ``model.get_labels()``.
        """
        if isinstance(targets, (str, bytes)) or not isinstance(targets, (Sequence, np.ndarray)):
            raise TypeError(f"targets must be a sequence of class indices, got {type(targets).__name__}")
        n_labels = len(model.get_labels())
        indices = []
        for target in targets:
            if isinstance(target, (bool, np.bool_)) or not isinstance(target, (int, np.integer)):
                raise TypeError(f"targets must be class indices (ints), got {target!r}")
            if not 0 <= int(target) < n_labels:
                raise ValueError(f"target {int(target)} is not a class index of the model's {n_labels} labels")
            indices.append(int(target))
        if not indices:
            raise ValueError("targets is empty: name at least one class index to explain")
        return indices

    @abc.abstractmethod
    def _explain(self, image: np.ndarray, model: Any, targets: Any) -> Explanation:
        """The explanation of checked ``targets``: one map per target, in order."""


class WhiteboxExplainer(Explainer):
    """White-box generators: they get the classifier itself and ``[target]``."""

    evaluation_kind = "gradient"

    def check_model(self, model: Any) -> None:
        if not isinstance(model, WhiteboxClassifier):
            raise TypeError(
                f"{type(self.generator).__name__} is a white-box method: the classifier must expose model, preprocess "
                f"and get_labels (e.g. HuggingFaceImageClassifier), got {type(model).__name__}"
            )

    def _explain(self, image: np.ndarray, model: Any, targets: list[int]) -> Explanation:
        return self.generator.explain(image, model, targets)


class BlackboxExplainerAdapter(Explainer):
    """This package's black-box explainers: they get the view of the classifier reduced to the targets' labels
    (:class:`~xaitk_wcam.utils.target_class.TargetClassBlackbox`), so they estimate the targets' maps only."""

    def check_model(self, model: Any) -> None:
        if not isinstance(model, ClassifyImage):
            raise TypeError(
                f"{type(self.generator).__name__} needs an smqtk_classifier.ClassifyImage, got {type(model).__name__}"
            )

    def _explain(self, image: np.ndarray, model: Any, targets: list[int]) -> Explanation:
        return self.generator.explain(image, target_view(model, targets))


class XaitkBlackboxExplainer(BlackboxExplainerAdapter):
    """xaitk-saliency's black-box generators: ``generate`` on the targets' view; its maps are pixel maps."""

    @property
    def map_spaces(self) -> tuple[str, ...]:
        return (PIXEL,)

    @property
    def wavelet_levels(self) -> int | None:
        return None

    def evaluations(self, image_shape: tuple[int, ...], n_targets: int = 1) -> int | None:
        """xaitk's sliding windows (one masked image per window position) and RISE (``n`` masks), plus the image
        itself (xaitk classifies it first); ``None`` for the other generators of xaitk, which do not say."""
        masked = xaitk_evaluations(self.generator, image_shape)
        return None if masked is None else masked + 1

    def _explain(self, image: np.ndarray, model: Any, targets: list[int]) -> Explanation:
        view = target_view(model, targets)
        return MapExplanation({PIXEL: np.asarray(self.generator.generate(image, view))}, list(view.get_labels()))


def xaitk_evaluations(generator: Any, image_shape: tuple[int, ...]) -> int | None:
    """Masked images an xaitk-saliency black-box generator sends to the model for one image of ``image_shape``, from
    its configuration: a sliding window's positions, or the ``n`` masks of RISE and D-RISE; ``None`` for others."""
    config = generator.get_config()
    if "window_size" in config and "stride" in config:  # SlidingWindowStack: a window at every stride, edges included
        (sh, sw) = config["stride"]
        return -(-int(image_shape[0]) // int(sh)) * -(-int(image_shape[1]) // int(sw))
    if isinstance(config.get("n"), int):  # RISEStack, DRISEStack
        return int(config["n"])
    return None


class DetectorExplainer(Explainer):
    """xaitk-saliency's object-detector generators (``generate(image, bboxes, scores, detector, objectness)``, e.g.
    ``DRISEStack``): ``targets`` is the :class:`~xaitk_wcam.utils.detections.DetectionSet` of the detections to
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

    def check_targets(self, model: Any, targets: Any) -> DetectionSet:
        """The detections to explain: a non-empty :class:`~xaitk_wcam.utils.detections.DetectionSet`.

        :raises TypeError: Not a ``DetectionSet``.
        :raises ValueError: No detection.
        """
        if not isinstance(targets, DetectionSet):
            raise TypeError(f"a detector's targets must be a DetectionSet, got {type(targets).__name__}")
        if not len(targets):
            raise ValueError("targets holds no detection: nothing to explain")
        return targets

    def evaluations(self, image_shape: tuple[int, ...], n_targets: int = 1) -> int | None:
        """D-RISE's ``n`` masks (one set for every detection); ``None`` for the other generators of xaitk."""
        return xaitk_evaluations(self.generator, image_shape)

    def _explain(self, image: np.ndarray, model: Any, targets: DetectionSet) -> Explanation:
        scores = np.ones((len(targets), 1)) if targets.scores is None else targets.scores
        maps = np.asarray(self.generator.generate(image, targets.boxes, scores, model, targets.objectness))
        if maps.size == 0:  # xaitk's PerturbationOcclusion when no perturbed image had a detection: no saliency
            maps = np.zeros((len(targets), *image.shape[:2]))
        return MapExplanation({PIXEL: maps}, list(range(len(targets))))


class WaveletDetectorExplainer(DetectorExplainer):
    """Detector generators with their own ``explain(image, detector, detections=DetectionSet) -> Explanation``
    (:class:`~xaitk_wcam.WCAMDetector`, which registers this adapter): their maps in every space they declare."""

    @property
    def map_spaces(self) -> tuple[str, ...]:
        return tuple(self.generator.map_spaces)

    @property
    def wavelet_levels(self) -> int | None:
        return self.generator.wavelet_levels

    def evaluations(self, image_shape: tuple[int, ...], n_targets: int = 1) -> int | None:
        return Explainer.evaluations(self, image_shape, n_targets)

    def _explain(self, image: np.ndarray, model: Any, targets: DetectionSet) -> Explanation:
        return self.generator.explain(image, model, detections=targets)


def target_view(classifier: Any, targets: Sequence[int]) -> TargetClassBlackbox:
    """``classifier`` reduced to the labels of the class indices ``targets``, in their order."""
    labels = list(classifier.get_labels())
    return TargetClassBlackbox(classifier, *(labels[t] for t in targets))


#: The registered kinds of explainer and their adapters.
EXPLAINERS: AdapterRegistry[Explainer] = AdapterRegistry(Explainer, "saliency generator")


def register_explainer(kind: type, adapter: type[Explainer]) -> None:
    """Make :func:`as_explainer` wrap the implementations of ``kind`` (an interface class) in ``adapter``.

    :raises TypeError: ``kind`` is not a class, or ``adapter`` not an :class:`Explainer` subclass.
    """
    EXPLAINERS.register(kind, adapter)


def explainer_kinds() -> tuple[type, ...]:
    """Every registered kind (interface class), in registration order."""
    return EXPLAINERS.kinds()


def as_explainer(generator: Any) -> Explainer:
    """``generator`` behind the adapter of its kind: the most specific registered class in its MRO.

    :raises TypeError: No registered kind fits (the message lists the kinds).
    """
    return EXPLAINERS.wrap(generator)


register_explainer(GenerateImageClassifierBlackboxSaliency, XaitkBlackboxExplainer)
register_explainer(BlackboxExplainer, BlackboxExplainerAdapter)
register_explainer(GenerateImageClassifierWhiteboxSaliency, WhiteboxExplainer)
register_explainer(GenerateObjectDetectorBlackboxSaliency, DetectorExplainer)
