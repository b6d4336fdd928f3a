"""Gradient saliency through Captum: vanilla gradients, Grad x Input, SmoothGrad.

- Vanilla gradients: Simonyan, Vedaldi, Zisserman, "Deep Inside Convolutional Networks", ICLR workshop 2014
  (Captum ``Saliency`` with ``abs=False``; the sign is left to ``reduction``).
- Gradient x Input: Shrikumar et al., "Not Just a Black Box", 2016; Ancona et al., ICLR 2018
  (Captum ``InputXGradient``).
- SmoothGrad: Smilkov et al., "SmoothGrad: removing noise by adding noise", 2017 (Captum ``NoiseTunnel``
  over ``Saliency``, ``nt_type="smoothgrad"``).

The input is the image in ``[0, 1]`` pixel units (see :mod:`._captum`); maps are reduced over channels
by ``reduction`` and divided by their maximum absolute value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from xaitk_wcam.impls.gen_image_classifier_whitebox_sal._captum import CaptumSaliency, check_samples
from xaitk_wcam.interfaces.whitebox import WhiteboxClassifier
from xaitk_wcam.utils.checks import check_float, check_int


class VanillaGradients(CaptumSaliency):
    """Gradient of the class output with respect to the input pixels (Simonyan et al. 2014).

    Cost: one forward and one backward pass for all requested classes together.

    :param reduction: Channel reduction: ``"abs_sum"`` (default, the CSEP 590B homework's absolute value
        summed over channels), ``"max_abs"`` (Simonyan et al.) or ``"sum"`` (signed).
    :param output: ``"probability"`` (default, the softmax the homework differentiates) or ``"logit"``.
    """

    def __init__(self, *, reduction: str = "abs_sum", output: str = "probability") -> None:
        super().__init__(output=output, reduction=reduction)

    def get_config(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "output": self.output}

    def _attribute(
        self,
        inputs: torch.Tensor,
        forward: Callable[[torch.Tensor], torch.Tensor],
        targets: list[int],
        classifier: WhiteboxClassifier,
    ) -> torch.Tensor:
        from captum.attr import Saliency

        return Saliency(forward).attribute(inputs, target=targets, abs=False)


class GradientTimesInput(CaptumSaliency):
    """Gradient times input pixel values (Shrikumar et al. 2016), pixel values in ``[0, 1]``.

    For a model linear in the pixels this is each pixel's exact contribution to the output relative
    to a black image. Cost: one forward and one backward pass.

    :param reduction: Channel reduction: ``"sum"`` (default, signed: the per-pixel contribution),
        ``"abs_sum"`` or ``"max_abs"``.
    :param output: ``"probability"`` (default) or ``"logit"``.
    """

    def __init__(self, *, reduction: str = "sum", output: str = "probability") -> None:
        super().__init__(output=output, reduction=reduction)

    def get_config(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "output": self.output}

    def _attribute(
        self,
        inputs: torch.Tensor,
        forward: Callable[[torch.Tensor], torch.Tensor],
        targets: list[int],
        classifier: WhiteboxClassifier,
    ) -> torch.Tensor:
        from captum.attr import InputXGradient

        return InputXGradient(forward).attribute(inputs, target=targets)


class SmoothGrad(CaptumSaliency):
    """Average of the (signed) gradients at ``samples`` noisy copies of the image (Smilkov et al. 2017).

    Noise is Gaussian with standard deviation ``sigma`` in ``[0, 1]`` pixel units (Smilkov et al. find
    10-20 % of the pixel range works best); noisy copies are clamped to ``[0, 1]`` for the classifier,
    with the gradient passed straight through. Channels are reduced after averaging.

    Cost: ``samples`` forward and backward passes per class, ``batch_size`` images at a time.

    :param samples: Number of noisy copies, in ``[1, MAX_SAMPLES]`` (65,536).
    :param sigma: Noise standard deviation (``> 0``), in ``[0, 1]`` pixel units.
    :param batch_size: Noisy images per forward pass (``>= 1``; Captum's ``nt_samples_batch_size``).
    :param seed: Seed of the noise; the same seed gives the same maps.
    :param reduction: ``"abs_sum"`` (default, homework), ``"max_abs"`` or ``"sum"``.
    :param output: ``"probability"`` (default) or ``"logit"``.
    """

    def __init__(
        self,
        *,
        samples: int = 50,
        sigma: float = 0.15,
        batch_size: int = 50,
        seed: int = 0,
        reduction: str = "abs_sum",
        output: str = "probability",
    ) -> None:
        super().__init__(output=output, reduction=reduction)
        self.samples = check_samples("samples", samples)
        self.sigma = check_float("sigma", sigma, 0.0)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.seed = check_int("seed", seed, 0)

    @property
    def passes_per_class(self) -> int:
        """``samples`` forward and backward passes per class."""
        return self.samples

    def get_config(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "sigma": self.sigma,
            "batch_size": self.batch_size,
            "seed": self.seed,
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
        from captum.attr import NoiseTunnel, Saliency

        # Each Captum batch holds nt_samples_batch_size noisy copies of every one of the K rows.
        per_batch = max(1, self.batch_size // len(targets))
        devices = [inputs.device] if inputs.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.seed)
            return NoiseTunnel(Saliency(forward)).attribute(
                inputs,
                nt_type="smoothgrad",
                nt_samples=self.samples,
                nt_samples_batch_size=min(per_batch, self.samples),
                stdevs=self.sigma,
                target=targets,
                abs=False,
            )
