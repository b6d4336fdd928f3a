"""Pixel-space Sobol attribution as an xaitk-saliency black-box saliency generator.

Fel, Cadène, Chalvidal, Cord, Vigouroux, Serre, "Look at the Variance! Efficient Black-box Explanations
with Sobol-based Sensitivity Analysis", NeurIPS 2021.

A ``grid_size x grid_size`` grid of variables in ``[0, 1]`` is upsampled (nearest neighbour) to the
image; each perturbed image is the "inpainting" perturbation of Fel et al.,
``x' = fill + mask * (x - fill)``, a variable of 0 replacing its cell with ``fill`` (black, Fel et al.'s
choice, or the image's per-channel mean) and a variable of 1 keeping it. The total Sobol index of each
cell is its importance, for every class at once. WCAM (:mod:`.wcam`) is the same method with the grid
laid over wavelet coefficients instead of pixels; both share :mod:`._sobol_blackbox`.

Cost: ``nb_design * (grid_size**2 + 2)`` forward passes (2,112 at the defaults), whatever the number of
classes.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import torch
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.impls.gen_image_classifier_blackbox_sal._sobol_blackbox import SobolResult, SobolSaliency
from xaitk_wcam.interfaces.explanation import PIXEL
from xaitk_wcam.utils.images import split_alpha
from xaitk_wcam.utils.maps import normalise_max, upsample_nearest

#: What replaces a masked-out cell: black (0, Fel et al.) or the image's per-channel mean.
FILLS = ("black", "mean")


@dataclass
class SobolAttributionResult(SobolResult):
    """One pixel-space Sobol explanation (fields: :class:`SobolResult`).

    ``maps`` (space ``"pixel"``): ``n_classes x H x W`` float32 in ``[0, 1]``, each cell's index upsampled
    (nearest) over its pixels and each map divided by its maximum.
    """

    space = PIXEL

    @cached_property
    def pixel_maps(self) -> np.ndarray:
        return normalise_max(
            upsample_nearest(np.ascontiguousarray(self.sobol_indices, dtype=np.float32), self.image_shape)
        )

    def _maps_in(self, space: str) -> np.ndarray:
        return self.pixel_maps


class SobolAttribution(SobolSaliency):
    """Sobol attribution method on a grid of image regions (Fel et al. 2021).

    :param grid_size: Side of the grid of Sobol variables over the image (``1 <= grid_size <= min(H, W)``).
    :param nb_design: Sobol design size ``N`` (a power of two); cost ``N * (grid_size**2 + 2)`` passes.
    :param fill: Value a masked-out cell fades to: ``"black"`` (0, Fel et al.'s inpainting) or ``"mean"``
        (the image's per-channel mean).
    :param estimator: Total-order estimator: ``"jansen"``, ``"homma"`` or ``"janon"``.
    :param batch_size: Perturbed images per call to ``blackbox.classify_images``.
    :param seed: Seed of the Sobol scrambling; the same seed gives bit-identical maps.
    :param max_evaluations: Forward-pass budget of ``nb_design="auto"`` (required with it, refused otherwise).
    :param tolerance: ``"auto"`` stops once the split-half stability is at least ``1 - tolerance``.
    :param progress: A progress bar of the forward passes: ``True``, ``False`` or ``None`` (auto: only in an
        interactive terminal, :mod:`xaitk_wcam.utils.progress`). Not part of ``get_config()``.
    """

    def __init__(
        self,
        *,
        grid_size: int = 8,
        nb_design: int | str = 32,
        fill: str = "black",
        estimator: str = "jansen",
        batch_size: int = 64,
        seed: int = 0,
        max_evaluations: int | None = None,
        tolerance: float = 0.2,
        progress: bool | None = None,
    ) -> None:
        super().__init__(
            grid_size=grid_size,
            nb_design=nb_design,
            estimator=estimator,
            batch_size=batch_size,
            seed=seed,
            max_evaluations=max_evaluations,
            tolerance=tolerance,
            progress=progress,
        )
        if not isinstance(fill, str) or fill not in FILLS:
            raise ValueError(f"fill must be one of {FILLS}, got {fill!r}")
        self.fill = fill

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "fill": self.fill}

    def _explain(self, image: np.ndarray, blackbox: ClassifyImage, labels: list[Hashable]) -> SobolAttributionResult:
        """The :class:`SobolAttributionResult` of every class; each side of the image must be ``>= grid_size``."""
        height, width = image.shape[:2]
        if self.grid_size > min(height, width):
            raise ValueError(f"grid_size={self.grid_size} exceeds the image side {min(height, width)}")

        colour = torch.from_numpy(split_alpha(image)[0].astype(np.float32))  # H x W x C'
        fill = colour.mean(dim=(0, 1)) if self.fill == "mean" else torch.zeros(colour.shape[-1])
        difference = colour - fill

        def perturb(masks: torch.Tensor) -> torch.Tensor:
            cells = upsample_nearest(masks, (height, width))[..., None]  # n x H x W x 1
            return torch.addcmul(fill, cells, difference)

        estimate = self._total_indices(image, blackbox, labels, perturb)
        return SobolAttributionResult.from_estimate(estimate, labels, (height, width))
