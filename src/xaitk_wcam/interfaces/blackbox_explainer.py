"""``BlackboxExplainer``: an xaitk-saliency black-box generator whose maps come with their space.

Every black-box method of this package (WCAM, pixel Sobol, Fourier-Sobol, the random baseline) is an
xaitk-saliency ``GenerateImageClassifierBlackboxSaliency`` (``generate`` returns ``n_classes x H x W`` maps,
as xaitk's tools expect) and a ``BlackboxExplainer``: ``explain(ref_image, blackbox)`` returns the whole
:class:`~xaitk_wcam.interfaces.explanation.Explanation`, whose declared space tells a consumer how to read
the maps.

Both public verbs are templates, as in xaitk-saliency: :meth:`BlackboxExplainer.explain` checks the image
and the blackbox once, then calls the method's own work, :meth:`BlackboxExplainer._explain`; xaitk's
``generate`` checks the image's dimensions, then calls ``_generate``, which is ``explain(...).maps``.

``generate`` returns one ``H x W`` float32 map per class of the blackbox: with an ImageNet classifier, 1000 maps
(about 1 GB for a 400 x 600 image). Above :data:`MANY_CLASSES` classes it warns (:class:`ManyClassesWarning`)
with that memory, before any work, and names the one-class view
(:class:`~xaitk_wcam.utils.target_class.TargetClassBlackbox`), which gives the map of one class at the same cost.
"""

from __future__ import annotations

import abc
import warnings
from collections.abc import Hashable

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from xaitk_saliency.interfaces.gen_image_classifier_blackbox_sal import GenerateImageClassifierBlackboxSaliency

from xaitk_wcam.interfaces.explanation import PIXEL, Explanation
from xaitk_wcam.utils.checks import check_blackbox, check_image

#: ``generate`` warns (:class:`ManyClassesWarning`) when the blackbox has more classes than this.
MANY_CLASSES = 100


class ManyClassesWarning(UserWarning):
    """``generate`` was called with a blackbox of more than :data:`MANY_CLASSES` classes: one map per class."""


def many_classes_message(generator: str, n_classes: int, image_shape: tuple[int, ...]) -> str:
    """The :class:`ManyClassesWarning` text: the maps' memory (``n_classes x H x W x 4`` bytes) and the one-class
    view."""
    height, width = int(image_shape[0]), int(image_shape[1])
    size = n_classes * height * width * 4
    return (
        f"{generator}.generate returns one map per class: {n_classes} classes x {height} x {width} float32 = "
        f"{_bytes(size)}. To explain one class, pass the one-class view "
        "xaitk_wcam.TargetClassBlackbox(classifier, label) as the blackbox (one map, same cost), or use "
        "xaitk_wcam.interfaces.explainer.as_explainer(generator).explain(image, classifier, [class_index])"
    )


def _bytes(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


class BlackboxExplainer(GenerateImageClassifierBlackboxSaliency):
    """A black-box saliency generator that returns :class:`Explanation` objects.

    Subclasses implement :meth:`_explain` and, when their maps are not pixel maps, override
    :attr:`map_spaces` (and :attr:`wavelet_levels` for wavelet maps), so that a study knows what it will get
    before it runs anything.
    """

    @property
    def map_spaces(self) -> tuple[str, ...]:
        """Spaces of the maps :meth:`explain` returns, the space of ``generate``'s maps first."""
        return (PIXEL,)

    @property
    def wavelet_levels(self) -> int | None:
        """Decomposition levels of the wavelet maps, or ``None`` when there are none."""
        return None

    def explain(self, ref_image: np.ndarray, blackbox: ClassifyImage) -> Explanation:
        """Explain every class of ``blackbox`` on ``ref_image`` (see each implementation for the cost).

        :param ref_image: ``H x W`` or ``H x W x C`` (C in 1..4; alpha is not explained) image, integer or float,
            finite. Never modified.
        :param blackbox: Any ``smqtk_classifier.ClassifyImage``; it receives ``N x H x W [x C]`` batches in the
            dtype and value range of ``ref_image``.
        :raises TypeError: ``ref_image`` not a numeric array, ``blackbox`` not a ``ClassifyImage``.
        :raises ValueError: A wrong image shape or values (and what each method adds, e.g. an image too small
            for its grid), before any forward pass.
        """
        image = check_image(ref_image)
        labels = check_blackbox(blackbox)
        return self._explain(image, blackbox, labels)

    @abc.abstractmethod
    def _explain(self, image: np.ndarray, blackbox: ClassifyImage, labels: list[Hashable]) -> Explanation:
        """The method's work on a checked image; ``labels`` are ``blackbox.get_labels()``."""

    def _generate(self, ref_image: np.ndarray, blackbox: ClassifyImage) -> np.ndarray:
        """``explain(ref_image, blackbox).maps``, with a :class:`ManyClassesWarning` first above :data:`MANY_CLASSES`
        classes."""
        n_classes = len(blackbox.get_labels()) if isinstance(blackbox, ClassifyImage) else 0
        if n_classes > MANY_CLASSES:
            message = many_classes_message(type(self).__name__, n_classes, np.shape(ref_image))
            warnings.warn(message, ManyClassesWarning, stacklevel=3)
        return self.explain(ref_image, blackbox).maps
