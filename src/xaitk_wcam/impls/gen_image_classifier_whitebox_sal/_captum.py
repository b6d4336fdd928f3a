"""What every Captum-backed white-box method shares: image -> tensor, the forward function, maps.

Attributions are taken with respect to the pixels of the input image, scaled to ``[0, 1]``
(``uint8 / 255``), through the classifier's own differentiable ``preprocess``: the maps are on the
input image's grid, whatever resize or crop the classifier applies (pixels the crop removes get 0).
All requested classes are explained in one batch (the image is repeated once per class and Captum's
``target`` takes one class per row), so there is no per-class Python loop.

The forward function clamps its input to ``[0, 1]`` with a straight-through estimator (the value is
clamped, the gradient passes unchanged): SmoothGrad's noisy copies are then valid images for the
classifier, and the gradient is the model's gradient at the clamped image.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from xaitk_wcam.interfaces.explanation import PIXEL
from xaitk_wcam.interfaces.whitebox import (
    GenerateImageClassifierWhiteboxSaliency,
    GradientExplanation,
    WhiteboxClassifier,
)
from xaitk_wcam.utils.checks import check_choice, check_int
from xaitk_wcam.utils.extras import has_extra, require_extra
from xaitk_wcam.utils.images import split_alpha

#: Model outputs a method can attribute: ``"probability"`` (softmax, or the classifier's own
#: ``probabilities``: what ``classify_images`` returns and the faithfulness metrics measure) or
#: ``"logit"`` (the pre-softmax class score of Simonyan et al. 2014 and Selvaraju et al. 2017).
MODEL_OUTPUTS = ("probability", "logit")

#: Most noisy samples or path points of a method (WAM's ``n_samples``, SmoothGrad's ``samples``, Integrated
#: Gradients' ``steps``): 65,536 forward and backward passes per class, where the papers use 25 to 300. Bounded as
#: WCAM's ``nb_design`` is, so a typo (``10**12``) is a ``ValueError`` at construction, not an explanation that never
#: ends while Captum builds lists of that many step sizes (``n_samples=10**7`` held 1.1 GB for 45 s, no row written).
MAX_SAMPLES = 2**16


def check_samples(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int in ``[minimum, MAX_SAMPLES]`` (``TypeError`` / ``ValueError`` naming ``name``)."""
    return int(check_int(name, value, minimum, maximum=MAX_SAMPLES))


#: Channel reductions of ``K x C x H x W`` attributions to ``K x H x W`` maps.
REDUCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sum": lambda a: a.sum(dim=1),  # signed; keeps completeness (Integrated Gradients)
    "abs_sum": lambda a: a.abs().sum(dim=1),  # the CSEP 590B homework's "absolute value, summed over channels"
    "max_abs": lambda a: a.abs().amax(dim=1),  # Simonyan et al. 2014
}


def image_tensor(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """``H x W [x C]`` image -> ``1 x C' x H x W`` float32 tensor in ``[0, 1]`` (alpha dropped).

    :raises TypeError: an integer dtype other than ``uint8``.
    :raises ValueError: a float image outside ``[0, 1]``.
    """
    colour, _ = split_alpha(image)
    if colour.dtype == np.uint8:
        array = colour.astype(np.float32) / 255.0
    elif np.issubdtype(colour.dtype, np.floating):
        low, high = float(colour.min()), float(colour.max())
        if low < 0.0 or high > 1.0:
            raise ValueError(
                f"ref_image: float images must lie in [0, 1] (uint8 / 255), got values in [{low:.4g}, {high:.4g}]"
            )
        array = colour.astype(np.float32)
    else:
        raise TypeError(f"ref_image must be uint8 in [0, 255] or float in [0, 1], got dtype {colour.dtype}")
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1)[None].to(device)


def model_device(classifier: WhiteboxClassifier) -> torch.device:
    """The classifier's ``device`` attribute, or the device of its model's first parameter, or CPU."""
    device = getattr(classifier, "device", None)
    if device is not None:
        return torch.device(device)
    parameter = next(iter(classifier.model.parameters()), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _logits(output: Any) -> torch.Tensor:
    return output if isinstance(output, torch.Tensor) else output.logits


def forward_function(classifier: WhiteboxClassifier, output: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """``N x C x H x W`` images in ``[0, 1]`` -> ``N x n_labels`` outputs (``output``: see :data:`MODEL_OUTPUTS`)."""
    probabilities = getattr(classifier, "probabilities", None)

    def forward(images: torch.Tensor) -> torch.Tensor:
        images = images + (images.clamp(0.0, 1.0) - images).detach()  # straight-through clamp
        pixels = classifier.preprocess(images, channels_first=True)
        if output == "logit":
            return _logits(classifier.model(pixels))
        if callable(probabilities):
            return probabilities(pixels)
        return torch.softmax(_logits(classifier.model(pixels)), dim=-1)

    return forward


def normalise(maps: torch.Tensor) -> np.ndarray:
    """Divide each ``H x W`` map by its maximum absolute value (all-zero maps stay zero) -> float32 numpy."""
    peak = maps.abs().flatten(1).amax(dim=1).clamp_min(torch.finfo(maps.dtype).tiny)
    return (maps / peak[:, None, None]).detach().float().cpu().numpy()


class CaptumSaliency(GenerateImageClassifierWhiteboxSaliency):
    """Base of the Captum-backed methods: subclasses implement :meth:`_attribute`.

    :param output: Which model output to attribute, one of :data:`MODEL_OUTPUTS`.
    :param reduction: Channel reduction, one of :data:`REDUCTIONS` (``None`` for methods without channels).
    """

    def __init__(self, *, output: str, reduction: str | None) -> None:
        require_extra("whitebox", type(self).__name__)
        self.output = check_choice("output", output, MODEL_OUTPUTS)
        self.reduction = None if reduction is None else check_choice("reduction", reduction, REDUCTIONS)

    #: Forward and backward passes per explained class (SmoothGrad's samples, Integrated Gradients' steps).
    passes_per_class: int = 1

    def evaluations(self, image_shape: tuple[int, ...], n_targets: int = 1) -> int:
        """Forward and backward passes of one explanation of ``n_targets`` classes (the image is repeated once per
        class): ``n_targets`` x :attr:`passes_per_class`, whatever the image's size."""
        return n_targets * int(self.passes_per_class)

    @classmethod
    def is_usable(cls) -> bool:
        """Usable when Captum (the ``whitebox`` extra) is installed (found without importing it: discovery calls
        this)."""
        return has_extra("whitebox")

    def _explain(
        self, image: np.ndarray, classifier: WhiteboxClassifier, class_indices: list[int]
    ) -> GradientExplanation:
        """Captum's attributions for every requested class in one batch, reduced over channels and normalised."""
        self._check_classifier(classifier)
        inputs = image_tensor(image, model_device(classifier)).repeat(len(class_indices), 1, 1, 1)
        inputs.requires_grad_()
        forward = forward_function(classifier, self.output)
        attributions = self._attribute(inputs, forward, class_indices, classifier).detach()
        maps = normalise(REDUCTIONS[self.reduction or "sum"](attributions))
        labels = list(classifier.get_labels())
        return GradientExplanation(
            {PIXEL: maps}, [labels[i] for i in class_indices], attributions=attributions.float().cpu().numpy()
        )

    def _check_classifier(self, classifier: WhiteboxClassifier) -> None:
        """Method-specific checks of the classifier, run before any forward pass."""

    @abc.abstractmethod
    def _attribute(
        self,
        inputs: torch.Tensor,
        forward: Callable[[torch.Tensor], torch.Tensor],
        targets: list[int],
        classifier: WhiteboxClassifier,
    ) -> torch.Tensor:
        """Captum attributions.

        :param inputs: ``K x C x H x W`` copies of the image in ``[0, 1]``, one per target.
        :param forward: Images -> ``N x n_labels`` outputs.
        :param targets: ``K`` class indices, one per row of ``inputs``.
        :return: ``K x C' x H x W`` attributions.
        """
