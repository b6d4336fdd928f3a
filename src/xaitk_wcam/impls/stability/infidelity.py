"""Explanation infidelity (Yeh et al. 2019), computed by ``captum.metrics.infidelity``.

Yeh, Hsieh, Suggala, Inouye and Ravikumar, "On the (In)fidelity and Sensitivity of Explanations", NeurIPS 2019,
Eq. 1: ``E_I[(I . e(x) - (f(x) - f(x - I)))^2]``, the expected squared error between the map's prediction of the
output change under a perturbation ``I`` and the change itself. The sensitivity half of that paper is
:class:`~xaitk_wcam.impls.stability.sensitivity.MaxSensitivity`. Captum's definition is used as is (this module calls
it); Quantus 0.6's ``Infidelity`` is a different, patch-based estimator and is not reproduced here.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from xaitk_wcam.interfaces.explanation import PIXEL
from xaitk_wcam.interfaces.stability import ExplainFn, LocalStabilityMetric, PredictFn
from xaitk_wcam.utils.checks import check_float, check_int

__all__ = ["Infidelity"]


class Infidelity(LocalStabilityMetric):
    """Infidelity of a pixel map ``e(x)`` of class ``target``: ``captum.metrics.infidelity`` with Yeh et al.'s noisy
    baseline, ``I = x - x'``, ``x' = x + g``, ``g`` Gaussian with mean 0 and standard deviation ``noise_std`` per
    pixel value (``x'`` clipped to ``[0, 1]`` when ``clip``, and ``I`` computed from the clipped ``x'``). Lower is
    more faithful (:data:`~xaitk_wcam.interfaces.stability.DISTANCE`).

    The map is ``H x W`` on the image's pixels (``map_spaces``: pixel); it is repeated over the colour channels, so
    ``I . e(x) = sum over pixels of e(x)_p * sum over channels of I_pc``. ``f`` is column ``target`` of ``predict``'s
    outputs (logits or probabilities: the value is in their squared units).

    Cost: no explanation; ``n_samples + 1`` images through ``predict`` (:attr:`n_forward_passes`), in batches of
    ``batch_size`` perturbed images (Captum's ``max_examples_per_batch``; the output of ``x`` is computed once).
    Draws come from torch's generator seeded with ``seed`` (its state is restored afterwards). Needs the
    ``whitebox`` extra (Captum).

    :param n_samples: Perturbations (Captum's ``n_perturb_samples`` default: 10).
    :param noise_std: Standard deviation of the Gaussian noise (default 0.003, the noise of Captum's documented
        example), in ``[0, 1]`` image units.
    :param normalize: Captum's ``normalize``: scale the map by the optimal ``beta`` of Yeh et al. first.
    :param clip: Clip ``x'`` to ``[0, 1]`` (the classifiers of this package refuse float images outside it).
    :param seed: Seed of the draws.
    :param batch_size: Perturbed images per call of ``predict``.
    """

    map_spaces: ClassVar[tuple[str, ...]] = (PIXEL,)
    needs = frozenset({"predict", "target", "reference_map"})
    n_explanations = 0

    @classmethod
    def is_usable(cls) -> bool:
        """Usable when Captum (the ``whitebox`` extra) is installed (found without importing it)."""
        from xaitk_wcam.utils.extras import has_extra

        return has_extra("whitebox")

    def __init__(
        self,
        *,
        n_samples: int = 10,
        noise_std: float = 0.003,
        normalize: bool = False,
        clip: bool = True,
        seed: int = 0,
        batch_size: int = 16,
    ) -> None:
        from xaitk_wcam.utils.extras import require_extra

        self.n_samples = check_int("n_samples", n_samples, 1)
        self.noise_std = check_float("noise_std", noise_std, 0.0, strict=False)
        for name, value in (("normalize", normalize), ("clip", clip)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, got {value!r} ({type(value).__name__})")
        self.normalize, self.clip = bool(normalize), bool(clip)
        self.seed = check_int("seed", seed, 0)
        self.batch_size = check_int("batch_size", batch_size, 1)
        require_extra("whitebox", "Infidelity")

    @property
    def n_forward_passes(self) -> int:  # type: ignore[override]
        """Images through ``predict`` per call: ``n_samples + 1``."""
        return self.n_samples + 1

    def _compute(
        self,
        image: np.ndarray,
        *,
        explain: ExplainFn | None,
        predict: PredictFn | None,
        target: int | None,
        reference_map: np.ndarray | None,
    ) -> float:
        import torch
        from captum.metrics import infidelity

        assert predict is not None and target is not None and reference_map is not None  # the template's needs
        if reference_map.shape != image.shape[:2]:
            raise ValueError(
                f"reference_map must be a pixel map of the image's shape {image.shape[:2]}, got {reference_map.shape}"
            )
        inputs = torch.from_numpy(image[None].copy())
        outputs: dict[str, torch.Tensor] = {}

        def forward(batch: torch.Tensor) -> torch.Tensor:
            if batch is inputs and "x" in outputs:  # Captum asks for f(x) once per batch of draws: compute it once
                return outputs["x"]
            values = np.asarray(predict(batch.detach().cpu().numpy()), dtype=np.float64)
            if values.ndim != 2 or len(values) != len(batch) or not 0 <= target < values.shape[1]:
                raise ValueError(
                    f"predict must return N x K outputs with target={target} < K for N images, got {values.shape}"
                )
            result = torch.from_numpy(values)
            if batch is inputs:
                outputs["x"] = result
            return result

        def perturb(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            perturbed = batch + torch.randn(batch.shape, dtype=batch.dtype) * self.noise_std
            if self.clip:
                perturbed = perturbed.clamp(0.0, 1.0)
            return batch - perturbed, perturbed

        attribution = np.broadcast_to(
            reference_map.reshape(*reference_map.shape, *([1] * (image.ndim - 2))), image.shape
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            value = infidelity(
                forward,
                perturb,
                inputs,
                torch.from_numpy(np.ascontiguousarray(attribution)[None]),
                target=int(target),
                n_perturb_samples=self.n_samples,
                max_examples_per_batch=min(self.batch_size, self.n_samples),
                normalize=self.normalize,
            )
        return float(value[0])

    def get_config(self) -> dict[str, Any]:
        return {
            "n_samples": self.n_samples,
            "noise_std": self.noise_std,
            "normalize": self.normalize,
            "clip": self.clip,
            "seed": self.seed,
            "batch_size": self.batch_size,
        }
