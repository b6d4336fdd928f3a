"""WAM, the Wavelet Attribution Method: gradients of the class score with respect to the wavelet coefficients.

Kasmi, Brunetto, Fel, Srivastava, Boissier, Dubus, "One Wave To Explain Them All: A Unifying Perspective on
Feature Attribution", ICML 2025 (arXiv 2410.01482; code: GitHub gabrielkasmi/wam, ``lib/wam_2D.py``). The
WCAM authors' successor: where WCAM estimates Sobol indices of a grid over the coefficient layout from
thousands of forward passes, WAM differentiates the model through the inverse wavelet transform and gets one
value per coefficient (a full-resolution wavelet map) from a few dozen forward and backward passes.

The image (in ``[0, 1]``, padded symmetrically to multiples of ``2**levels``) is decomposed once with ptwt
into the ``pywt.coeffs_to_array`` layout ``z`` (``C x Hp x Wp``); Captum differentiates
``f(z) = model(preprocess(clamp(idwt(z)[:H, :W])))`` (the clamp passes gradients straight through; ``f`` is the
logit of the class by default, as the authors' models return logits) in one of three ways:

- ``"gradient"``: ``grad f(z)`` (Captum ``Saliency``);
- ``"smooth"`` (the authors' default): SmoothGrad (Smilkov et al. 2017), the mean over ``n_samples`` noisy
  layouts ``z + e``, ``e ~ N(0, s**2)`` i.i.d. with ``s = noise_spread * (max - min)`` of the image (Captum
  ``NoiseTunnel``). The authors add the noise to the pixels before the transform; the transform being
  orthonormal, i.i.d. Gaussian noise on the coefficients has the same distribution;
- ``"integrated"``: Integrated Gradients (Sundararajan et al. 2017) along the path ``alpha * z``, ``alpha``
  from 0 to 1 (a black image to the image), ``z * mean of grad f(alpha z)`` over ``n_samples`` evenly spaced
  ``alpha`` with the trapezoid rule (Captum ``IntegratedGradients``, ``riemann_trapezoid``, its step weights
  rescaled to sum to 1). The attributions satisfy completeness: they sum to ``f(z) - f(0)`` (exactly for a
  model linear in ``z``).

**Channels.** The map of a coefficient is the absolute value of the mean over colour channels of its
attribution, as the authors do (``abs(grad.mean(axis=1))``): a coefficient is important when changing it in
every channel together (a change of luminance pattern at its position and scale) moves the score, and
gradients of opposite sign across channels (a colour change at constant luminance) cancel. For
``"smooth"`` the absolute value of the channel mean is taken for each noisy sample and then averaged, as the
authors do, so opposite gradients across samples do not cancel. Each class map is then divided by its
maximum; the authors divide each band by its own maximum, which equalises the levels (and so makes a scale
profile meaningless): the raw values are kept in :attr:`WAMExplanation.importance` for a reader who wants
that view.

The explanation is a :class:`~xaitk_wcam.interfaces.explanation.WaveletExplanation` whose grid is the
coefficient layout itself: the same wavelet map, pixel reprojection and scale profile as WCAM's, through the
same code.

Cost: ``n_samples`` forward and backward passes per class for ``"smooth"`` and ``"integrated"`` (25 at the
defaults, at most 65,536), one for ``"gradient"``, ``batch_size`` images at a time, plus one wavelet transform of
the image and one inverse transform per image passed to the model; memory: :meth:`WAM.memory_estimate_bytes`. The
model is explained in eval mode, its own mode restored after
(:meth:`~xaitk_wcam.interfaces.whitebox.GenerateImageClassifierWhiteboxSaliency.explain`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from xaitk_wcam.impls.gen_image_classifier_whitebox_sal._captum import (
    MODEL_OUTPUTS,
    check_samples,
    forward_function,
    image_tensor,
    model_device,
)
from xaitk_wcam.interfaces.explanation import PIXEL, WAVELET, WaveletExplanation
from xaitk_wcam.interfaces.whitebox import GenerateImageClassifierWhiteboxSaliency, WhiteboxClassifier
from xaitk_wcam.utils.checks import check_choice, check_float, check_int
from xaitk_wcam.utils.extras import has_extra, require_extra
from xaitk_wcam.wavelets.layout import check_decomposable, check_levels, padded_size
from xaitk_wcam.wavelets.transform import check_wavelet, wavedec_layout, waverec_layout

#: WAM's ``method`` keyword: how the gradients are aggregated (see the module doc).
WAM_METHODS = ("smooth", "integrated", "gradient")


#: float32 copies of the padded layout one row of a forward and backward pass holds: the coefficients, their noisy
#: copy, the inverse transform, its clamped crop and the preprocessed input, and the gradients back through them.
LAYOUT_COPIES = 8
#: Bytes per path point or noisy sample of Captum's bookkeeping (Python lists of step sizes and alphas).
BYTES_PER_SAMPLE = 128


@dataclass
class WAMExplanation(WaveletExplanation):
    """One WAM explanation: per-coefficient importance, the raw attributions, and the maps that follow.

    :param importance: ``n_classes x Hp x Wp`` float32 importance of every coefficient of the padded layout
        (the absolute channel mean of the attributions, before normalisation).
    :param attributions: ``n_classes x C' x Hp x Wp`` float32 raw attributions: ``grad f(z)`` (``"gradient"``,
        ``C' = C``), ``z * integrated gradient`` (``"integrated"``, ``C' = C``; they sum to ``f(z) - f(0)``), or
        the mean over noisy samples of ``|sum over channels of grad f|`` (``"smooth"``, ``C' = 1``).
    :param labels: The explained class labels.
    :param n_evaluations: Forward (and backward) passes spent.
    :param levels: Decomposition levels.
    :param image_shape: ``(H, W)`` of the explained image.
    :param padded_shape: ``(Hp, Wp)`` of the padded layout.
    :param wavelet: The wavelet.
    :param method: ``"smooth"``, ``"integrated"`` or ``"gradient"``.

    ``wavelet_maps`` (space ``"wavelet"``, :attr:`maps`), ``spatial_maps`` (space ``"pixel"``) and
    ``scale_profile``: see :class:`~xaitk_wcam.interfaces.explanation.WaveletExplanation` (one cell per
    coefficient).
    """

    importance: np.ndarray
    attributions: np.ndarray
    labels: list
    n_evaluations: int
    levels: int
    image_shape: tuple[int, int]
    padded_shape: tuple[int, int]
    wavelet: str | None = None
    method: str = "smooth"
    space: str = WAVELET
    stability: float | None = None

    @property
    def cell_importance(self) -> np.ndarray:
        return self.importance


class WAM(GenerateImageClassifierWhiteboxSaliency):
    """Wavelet Attribution Method (Kasmi et al., ICML 2025): gradients with respect to wavelet coefficients.

    :param wavelet: An orthogonal pywt wavelet ("haar", "db2", "sym4", ...); bi-orthogonal ones are refused.
    :param levels: DWT levels (``>= 1``); images are padded (symmetric) to multiples of ``2**levels``.
    :param method: ``"smooth"`` (default, SmoothGrad on the coefficients), ``"integrated"`` (Integrated
        Gradients from the black image) or ``"gradient"`` (plain gradient).
    :param n_samples: Noisy samples (``"smooth"``, ``>= 1``) or path points (``"integrated"``, ``>= 2``), at most
        :data:`~xaitk_wcam.impls.gen_image_classifier_whitebox_sal._captum.MAX_SAMPLES` (65,536); unused by
        ``"gradient"``.
    :param noise_spread: Standard deviation of the ``"smooth"`` noise as a fraction of the image's value range,
        in ``(0, 1]`` (the authors' 0.25).
    :param batch_size: Images per forward and backward pass (``>= 1``).
    :param seed: Seed of the ``"smooth"`` noise; the same seed gives the same maps. The global torch random
        state is left alone.
    :param output: ``"logit"`` (default, the authors') or ``"probability"``.
    """

    def __init__(
        self,
        *,
        wavelet: str = "haar",
        levels: int = 3,
        method: str = "smooth",
        n_samples: int = 25,
        noise_spread: float = 0.25,
        batch_size: int = 32,
        seed: int = 0,
        output: str = "logit",
    ) -> None:
        require_extra("whitebox", type(self).__name__)
        self.output = check_choice("output", output, MODEL_OUTPUTS)
        check_wavelet(wavelet)
        self.wavelet = wavelet
        self.levels = check_levels(levels)
        self.method = check_choice("method", method, WAM_METHODS)
        self.n_samples = check_samples("n_samples", n_samples)
        if self.method == "integrated" and self.n_samples < 2:
            raise ValueError(f"n_samples must be >= 2 with method='integrated' (the path's two ends), got {n_samples}")
        self.noise_spread = check_float("noise_spread", noise_spread, 0.0)
        if self.noise_spread > 1.0:
            raise ValueError(f"noise_spread must be in (0, 1] (a fraction of the image's range), got {noise_spread}")
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.seed = check_int("seed", seed, 0)

    @classmethod
    def is_usable(cls) -> bool:
        """Usable when Captum (the ``whitebox`` extra) is installed (found without importing it: discovery calls
        this)."""
        return has_extra("whitebox")

    def evaluations(self, image_shape: tuple[int, ...], n_targets: int = 1) -> int:
        """Forward and backward passes of one explanation of ``n_targets`` classes: ``n_samples`` each (1 for
        ``"gradient"``), whatever the image's size."""
        return n_targets * (1 if self.method == "gradient" else self.n_samples)

    def get_config(self) -> dict[str, Any]:
        return {
            "wavelet": self.wavelet,
            "levels": self.levels,
            "method": self.method,
            "n_samples": self.n_samples,
            "noise_spread": self.noise_spread,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "output": self.output,
        }

    def memory_estimate_bytes(self, image_shape: tuple[int, ...], n_classes: int = 1) -> int:
        """Working memory of one explanation of an image of ``image_shape``, counted before anything is allocated
        (the study's ``memory_budget_mb`` check reads it): the rows of one forward and backward pass (``batch_size``
        padded layouts, or ``n_classes`` when more, each held as :data:`LAYOUT_COPIES` float32 copies), Captum's
        bookkeeping of the ``n_samples`` path points or noisy samples (:data:`BYTES_PER_SAMPLE` each), and the
        result (importance, raw attributions, wavelet and pixel maps). The model's own activations are not counted,
        as for every method.

        :param image_shape: ``(H, W)`` or ``(H, W, C)``.
        :param n_classes: Classes explained at once (a study explains one).
        """
        height, width = int(image_shape[0]), int(image_shape[1])
        channels = min(int(image_shape[2]), 3) if len(image_shape) > 2 else 1  # alpha is not explained
        coefficients = padded_size(height, self.levels) * padded_size(width, self.levels)
        gradient = self.method == "gradient"
        rows = n_classes if gradient else max(self.batch_size, n_classes)
        passes = rows * channels * coefficients * 4 * LAYOUT_COPIES
        bookkeeping = 0 if gradient else self.n_samples * BYTES_PER_SAMPLE
        result = n_classes * ((channels + 1) * coefficients + 2 * height * width) * 4
        return int(passes + bookkeeping + result)

    @property
    def map_spaces(self) -> tuple[str, ...]:
        return (WAVELET, PIXEL)

    @property
    def wavelet_levels(self) -> int:
        return self.levels

    def _explain(self, image: np.ndarray, classifier: WhiteboxClassifier, class_indices: list[int]) -> WAMExplanation:
        check_decomposable(image.shape, self.wavelet, self.levels)
        height, width = image.shape[:2]
        padded = (padded_size(height, self.levels), padded_size(width, self.levels))
        pixels = image_tensor(image, model_device(classifier))  # 1 x C x H x W in [0, 1]
        layout = wavedec_layout(_pad_symmetric(pixels, padded), self.wavelet, self.levels)  # 1 x C x Hp x Wp
        spread = self.noise_spread * float(pixels.max() - pixels.min())
        pixel_forward = forward_function(classifier, self.output)

        def forward(*inputs: torch.Tensor) -> torch.Tensor:
            coefficients = inputs[0] if len(inputs) == 1 else inputs[0] + inputs[1]  # smooth: + a shared offset
            return pixel_forward(waverec_layout(coefficients, self.wavelet, self.levels)[..., :height, :width])

        chunk = self.batch_size  # classes per Captum call, so a call never holds more than batch_size rows
        parts = []
        for start in range(0, len(class_indices), chunk):
            targets = class_indices[start : start + chunk]
            inputs = layout.expand(len(targets), -1, -1, -1).contiguous().requires_grad_()
            parts.append(self._attribute(inputs, forward, targets, spread))
        attributions = torch.cat(parts).detach().float()
        importance = attributions.mean(dim=1).abs()  # "smooth" already holds |sum of channels|: one channel
        if self.method == "smooth":
            importance = importance / pixels.shape[1]
        labels = list(classifier.get_labels())
        passes = len(class_indices) * (1 if self.method == "gradient" else self.n_samples)
        return WAMExplanation(
            importance=importance.cpu().numpy(),
            attributions=attributions.cpu().numpy(),
            labels=[labels[i] for i in class_indices],
            n_evaluations=passes,
            levels=self.levels,
            image_shape=(height, width),
            padded_shape=padded,
            wavelet=self.wavelet,
            method=self.method,
        )

    def _attribute(
        self, inputs: torch.Tensor, forward: Callable[..., torch.Tensor], targets: list[int], spread: float
    ) -> torch.Tensor:
        """Captum attributions of ``K x C x Hp x Wp`` layouts (see :attr:`WAMExplanation.attributions`).

        :param spread: Standard deviation of the ``"smooth"`` noise.
        """
        from captum.attr import IntegratedGradients, NoiseTunnel, Saliency

        if self.method == "gradient":
            return Saliency(forward).attribute(inputs, target=targets, abs=False)
        if self.method == "integrated":
            from captum.attr._utils.approximation_methods import approximation_parameters

            step_sizes, _ = approximation_parameters("riemann_trapezoid")
            weights = float(np.sum(step_sizes(self.n_samples)))  # captum 0.9's trapezoid weights sum to (n-1)/n
            attributions = IntegratedGradients(forward).attribute(
                inputs,
                baselines=torch.zeros_like(inputs),
                target=targets,
                n_steps=self.n_samples,
                method="riemann_trapezoid",
                internal_batch_size=max(self.batch_size, len(targets)),
            )
            return attributions / weights
        # smooth: the gradient with respect to an offset shared by the channels is the sum of the channel
        # gradients; Saliency's abs and NoiseTunnel's mean then give mean_samples |sum_c grad_c| (noise on z only).
        offset = torch.zeros_like(inputs[:, :1]).requires_grad_()
        per_batch = max(1, self.batch_size // len(targets))
        devices = [inputs.device] if inputs.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.seed)
            _, shared = NoiseTunnel(Saliency(forward)).attribute(
                (inputs, offset),
                nt_type="smoothgrad",
                nt_samples=self.n_samples,
                nt_samples_batch_size=min(per_batch, self.n_samples),
                stdevs=(max(spread, 1e-12), 0.0),
                target=targets,
                abs=True,
            )
        return shared


def _pad_symmetric(pixels: torch.Tensor, padded: tuple[int, int]) -> torch.Tensor:
    """``1 x C x H x W`` -> ``1 x C x Hp x Wp``, padded at the bottom and right by mirroring (numpy's "symmetric",
    as WCAM pads)."""
    height, width = pixels.shape[-2:]
    array = np.pad(pixels.cpu().numpy(), ((0, 0), (0, 0), (0, padded[0] - height), (0, padded[1] - width)), "symmetric")
    return torch.from_numpy(array).to(pixels.device)
