"""Integrated Gradients through Captum (Sundararajan, Taly, Yan, "Axiomatic Attribution for Deep
Networks", ICML 2017).

Attributions are ``(x - x') * mean of the gradients along the straight path from the baseline x' to the
image x`` (Gauss-Legendre quadrature, Captum's default). They satisfy completeness: their sum over all
pixels and channels equals ``f(x) - f(x')`` for the attributed output ``f`` (probability or logit), up to
the quadrature error (exact for a model linear in the pixels). The default ``reduction="sum"`` keeps that
property for the maps before their max-abs normalisation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from xaitk_wcam.impls.gen_image_classifier_whitebox_sal._captum import CaptumSaliency, check_samples
from xaitk_wcam.interfaces.whitebox import WhiteboxClassifier
from xaitk_wcam.utils.checks import check_choice, check_float, check_int

#: Baseline images of the CSEP 590B homework: black (0), white (1), or the image blurred.
BASELINES = ("black", "white", "blurred")


def baseline_images(inputs: torch.Tensor, baseline: str, blur_sigma: float) -> torch.Tensor:
    """The baseline for ``inputs`` (``K x C x H x W`` in ``[0, 1]``), same shape and device.

    ``"blurred"``: Gaussian blur of standard deviation ``blur_sigma`` pixels over the two spatial axes
    (reflected borders), as the homework's blurred occlusion baseline.
    """
    if baseline == "black":
        return torch.zeros_like(inputs)
    if baseline == "white":
        return torch.ones_like(inputs)
    first = inputs[0].detach().cpu().numpy()
    blurred = gaussian_filter(first, sigma=(0.0, blur_sigma, blur_sigma), mode="reflect")
    return torch.from_numpy(np.ascontiguousarray(blurred)).to(inputs)[None].expand_as(inputs).clone()


class IntegratedGradients(CaptumSaliency):
    """Integrated Gradients from a black, white or blurred baseline (Sundararajan et al. 2017).

    Cost: ``steps`` forward and backward passes per class, ``batch_size`` images at a time.

    :param steps: Quadrature points along the path, in ``[1, MAX_SAMPLES]`` (65,536).
    :param baseline: ``"black"`` (default), ``"white"`` or ``"blurred"``.
    :param blur_sigma: Standard deviation in pixels of the ``"blurred"`` baseline's Gaussian (``> 0``).
    :param batch_size: Path images per forward pass (``>= 1``; Captum's ``internal_batch_size``).
    :param reduction: ``"sum"`` (default, signed, keeps completeness), ``"abs_sum"`` (the homework) or
        ``"max_abs"``.
    :param output: ``"probability"`` (default) or ``"logit"``.
    """

    def __init__(
        self,
        *,
        steps: int = 50,
        baseline: str = "black",
        blur_sigma: float = 5.0,
        batch_size: int = 50,
        reduction: str = "sum",
        output: str = "probability",
    ) -> None:
        super().__init__(output=output, reduction=reduction)
        self.steps = check_samples("steps", steps)
        self.baseline = check_choice("baseline", baseline, BASELINES)
        self.blur_sigma = check_float("blur_sigma", blur_sigma, 0.0)
        self.batch_size = check_int("batch_size", batch_size, 1)

    @property
    def passes_per_class(self) -> int:
        """``steps`` forward and backward passes per class."""
        return self.steps

    def get_config(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "baseline": self.baseline,
            "blur_sigma": self.blur_sigma,
            "batch_size": self.batch_size,
            "reduction": self.reduction,
            "output": self.output,
        }

    def _attribute(
        self,
        inputs: torch.Tensor,
        forward: Callable[[torch.Tensor], torch.Tensor],
        targets: list[int],
        classifier: WhiteboxClassifier,
    ) -> torch.Tensor:
        from captum.attr import IntegratedGradients as CaptumIntegratedGradients

        baselines = baseline_images(inputs, self.baseline, self.blur_sigma)
        return CaptumIntegratedGradients(forward).attribute(
            inputs,
            baselines=baselines,
            target=targets,
            n_steps=self.steps,
            internal_batch_size=max(self.batch_size, len(targets)),
        )
