"""The ``GenerateImageClassifierWhiteboxSaliency`` interface: saliency maps from a model's gradients.

xaitk-saliency's ``GenerateImageClassifierBlackboxSaliency`` only sees confidences; gradient methods
(vanilla gradients, Grad x Input, SmoothGrad, Integrated Gradients, GradCAM) need the torch model and
a differentiable path from the image to its output. This interface fixes that contract: a
:class:`WhiteboxClassifier` exposes its torch ``model`` and its own differentiable ``preprocess``, so
attributions are taken with respect to the pixels of the input image itself and the maps align with
it whatever resize or crop the classifier applies.

:meth:`GenerateImageClassifierWhiteboxSaliency.explain` is a template, as in xaitk-saliency: it
checks the inputs, calls ``_explain`` with the model in eval mode (restored after) and checks the result;
``generate`` returns its maps.
"""

from __future__ import annotations

import abc
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from smqtk_core.plugfigurable import Plugfigurable
from xaitk_saliency.exceptions import ShapeMismatchError

from xaitk_wcam.interfaces.explanation import PIXEL, Explanation, MapExplanation
from xaitk_wcam.utils.checks import check_image

__all__ = [
    "GenerateImageClassifierWhiteboxSaliency",
    "GradientExplanation",
    "WhiteboxClassifier",
    "check_whitebox_inputs",
    "eval_mode",
]


@runtime_checkable
class WhiteboxClassifier(Protocol):
    """What a white-box saliency generator needs from a classifier.

    :class:`xaitk_wcam.classifiers.huggingface.HuggingFaceImageClassifier` satisfies it.

    - ``model``: the ``torch.nn.Module``; ``model(pixel_values)`` returns logits ``N x n_labels`` (a tensor,
      or an object with a ``logits`` attribute as ``transformers`` models return).
    - ``preprocess(images, channels_first=True)``: ``N x C x H x W`` float images in ``[0, 1]`` ->
      the model's ``pixel_values``, differentiable (autograd flows back to the images).
    - ``get_labels()``: the class labels, in output order.

    Optionally ``probabilities(pixel_values)`` (softmax is used when absent) and ``device`` (the torch
    device the model runs on; CPU when absent).
    """

    @property
    def model(self) -> Any: ...

    def preprocess(self, images: Any, *, channels_first: bool = False) -> Any: ...

    def get_labels(self) -> Sequence[Hashable]: ...


def check_whitebox_inputs(
    ref_image: object, classifier: object, class_indices: object, method: str = "a white-box saliency method"
) -> tuple[np.ndarray, list[int]]:
    """Validate the arguments of :meth:`GenerateImageClassifierWhiteboxSaliency.generate`.

    :param method: Who asks (named in the error for a black-box classifier).

    :return: ``(ref_image, class_indices as a list of int)``.
    :raises TypeError: ``ref_image`` not a numeric array, ``classifier`` not a :class:`WhiteboxClassifier`,
        ``class_indices`` not a sequence of int.
    :raises ValueError: wrong image shape or values, empty or out-of-range ``class_indices``.
    """
    image = check_image(ref_image)
    if not isinstance(classifier, WhiteboxClassifier):
        raise TypeError(
            f"{method} needs a white-box classifier: one exposing model, preprocess(images, channels_first=...) "
            f"and get_labels() (e.g. HuggingFaceImageClassifier), got {type(classifier).__name__}"
        )
    n_labels = len(classifier.get_labels())
    if isinstance(class_indices, (int, np.integer)) and not isinstance(class_indices, bool):
        class_indices = [class_indices]
    if isinstance(class_indices, (str, bytes)) or not isinstance(class_indices, (Sequence, np.ndarray)):
        raise TypeError(f"class_indices must be a sequence of int, got {type(class_indices).__name__}")
    indices = list(class_indices)
    if not indices:
        raise ValueError(f"class_indices must name at least one class in [0, {n_labels}), got an empty sequence")
    for index in indices:
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"class_indices must hold int values, got {index!r} ({type(index).__name__})")
        if not 0 <= index < n_labels:
            raise ValueError(f"class_indices must lie in [0, {n_labels}) (the classifier's labels), got {int(index)}")
    return image, [int(i) for i in indices]


@contextmanager
def eval_mode(model: Any) -> Iterator[None]:
    """``model`` (a ``torch.nn.Module``) in eval mode for the block; every module's own ``training`` flag is restored
    after, even on error (a submodule the caller froze in eval stays so). Anything else is left alone."""
    modules = list(model.modules()) if callable(getattr(model, "modules", None)) else []
    modes = [module.training for module in modules]
    if modules:
        model.eval()
    try:
        yield
    finally:
        for module, training in zip(modules, modes, strict=True):
            module.training = training


@dataclass
class GradientExplanation(MapExplanation):
    """A gradient method's pixel maps and the raw attributions they come from.

    :param attributions: ``K x C x H x W`` float32 attributions with respect to the image in ``[0, 1]`` units,
        before channel reduction and normalisation (``C``: colour channels; 1 for GradCAM), or ``None``.
    """

    attributions: np.ndarray | None = None


class GenerateImageClassifierWhiteboxSaliency(Plugfigurable):
    """Per-class saliency maps of a differentiable image classifier over one image.

    The white-box counterpart of xaitk-saliency's ``GenerateImageClassifierBlackboxSaliency``: same
    ``[-1, 1]`` maps aligned with the input image, but the caller names the classes to explain (a
    gradient method pays one backward pass per class, so explaining all 1000 ImageNet classes is
    rarely wanted). :meth:`explain` is the template: it checks the inputs once, calls the method's own
    work, :meth:`_explain`, and checks the maps; :meth:`generate` returns ``explain(...).maps``.
    """

    @property
    def map_spaces(self) -> tuple[str, ...]:
        """Spaces of the maps :meth:`explain` returns, the space of :meth:`generate`'s maps first (pixel)."""
        return (PIXEL,)

    @property
    def wavelet_levels(self) -> int | None:
        """Decomposition levels of the wavelet maps, or ``None`` when there are none."""
        return None

    def generate(
        self, ref_image: np.ndarray, classifier: WhiteboxClassifier, class_indices: Sequence[int]
    ) -> np.ndarray:
        """Saliency maps of the classes ``class_indices`` of ``classifier`` on ``ref_image``: ``explain(...).maps``.

        :return: ``len(class_indices) x H x W`` float maps in ``[-1, 1]``; positive values support the class.
        """
        return self.explain(ref_image, classifier, class_indices).maps

    def explain(
        self, ref_image: np.ndarray, classifier: WhiteboxClassifier, class_indices: Sequence[int]
    ) -> Explanation:
        """The explanation of the classes ``class_indices``, labelled with them.

        The model is explained in eval mode (:func:`eval_mode`): a model left in train mode is switched to eval
        for the explanation and every module's own mode is restored after, so BatchNorm statistics are used, not
        updated, and dropout is off. The map is the map of the model that makes the predictions (in train mode one
        explanation changed 30 BatchNorm buffers of the caller's model and its map by 0.76), and the caller's model
        is left as it was. Captum itself leaves the mode to the caller; xaitk's black-box methods only ever see a
        classifier's outputs, as in inference.

        :param ref_image: ``H x W`` or ``H x W x C`` (C in 1..4; alpha is not explained) image, ``uint8`` in
            ``[0, 255]`` or float in ``[0, 1]``. Never modified.
        :param classifier: A :class:`WhiteboxClassifier` (e.g. ``HuggingFaceImageClassifier``).
        :param class_indices: Positions in ``classifier.get_labels()`` of the classes to explain (an int
            is taken as a one-element list).
        :raises ShapeMismatchError: The implementation returned maps of the wrong shape.
        :raises ValueError: The maps are not finite or leave ``[-1, 1]``.
        """
        image, indices = check_whitebox_inputs(ref_image, classifier, class_indices, type(self).__name__)
        with eval_mode(classifier.model):
            explanation = self._explain(image, classifier, indices)
        maps = explanation.maps
        expected = (len(indices), *image.shape[:2])
        if maps.shape != expected:
            raise ShapeMismatchError(f"saliency maps have shape {maps.shape}, expected {expected}")
        if not np.isfinite(maps).all() or np.abs(maps).max(initial=0.0) > 1.0 + 1e-6:
            raise ValueError("saliency maps must be finite and lie in [-1, 1]")
        return explanation

    def __call__(
        self, ref_image: np.ndarray, classifier: WhiteboxClassifier, class_indices: Sequence[int]
    ) -> np.ndarray:
        """Alias of :meth:`generate`."""
        return self.generate(ref_image, classifier, class_indices)

    @abc.abstractmethod
    def _explain(self, image: np.ndarray, classifier: WhiteboxClassifier, class_indices: list[int]) -> Explanation:
        """The method's work on checked inputs (see :meth:`explain`); labels the maps with the explained classes."""
