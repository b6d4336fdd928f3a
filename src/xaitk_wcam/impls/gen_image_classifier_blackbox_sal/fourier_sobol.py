"""Fourier-Sobol (FCAM): Sobol attribution on the image's Fourier amplitude spectrum.

The Fourier-domain counterpart of WCAM (Kasmi, Dubus, Saint-Drenan, Blanc, "Scale Matters: Attribution
Meets the Wavelet Domain to Explain Model Sensitivity to Image Corruptions", arXiv:2305.14979, which
compares WCAM with a Fourier variant), built on the Sobol attribution method of Fel et al. (NeurIPS 2021).

Variables: the centred spectrum is cut into a polar grid of ``grid_size`` concentric radial bands x
``grid_size`` angular sectors, one Sobol variable per (band, sector) cell:

- band ``b`` holds the frequencies of radius ``r = sqrt(fy**2 + fx**2)`` (cycles per pixel) in
  ``[b, b + 1) * sqrt(2) / 2 / grid_size``: equal-width rings from the DC component to the spectrum's
  corners (the last ones are partial rings);
- sector ``s`` holds the orientations ``atan2(fy, fx) mod pi`` in ``[s, s + 1) * pi / grid_size``. A
  frequency and its conjugate share the variable, so a masked spectrum stays Hermitian and the image real;
- the DC component is scaled by the mean of the innermost band's variables.

Each variable in ``[0, 1]`` multiplies the spectrum in its cell (the amplitude; the phase is kept), every
colour channel alike, and the image is rebuilt by a batched inverse real FFT (``torch.fft.irfft2``). The
total Sobol index of each cell is its importance, for every class at once. The angular axis tells which
orientations matter (motion blur, for instance, removes frequencies along one orientation only); the
radial profile (:attr:`FourierSobolResult.band_profile`) sums the sectors of each band.

Maps (:meth:`FourierSobol.generate`): ``n_classes x H x W``, the importance of each cell painted on the
centred spectrum layout (``numpy.fft.fftshift``: DC at ``(H // 2, W // 2)``, radius growing outwards),
each map divided by its maximum: a frequency-domain map the size of the image, not a pixel map.

Cost: ``nb_design * (grid_size**2 + 2)`` forward passes (2,112 at the defaults).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.impls.gen_image_classifier_blackbox_sal._sobol_blackbox import SobolResult, SobolSaliency
from xaitk_wcam.interfaces.explanation import SPECTRUM
from xaitk_wcam.utils.images import split_alpha
from xaitk_wcam.utils.maps import normalise_max

#: Largest radial frequency of a 2-D spectrum (the corner, ``|(1/2, 1/2)|`` cycles per pixel).
MAX_RADIUS = math.sqrt(0.5)


def polar_cells(fy: torch.Tensor, fx: torch.Tensor, grid_size: int) -> torch.Tensor:
    """Variable index ``band * grid_size + sector`` of every frequency ``(fy[i], fx[j])`` (see module doc).

    :param fy: Vertical frequencies in cycles per pixel (``torch.fft.fftfreq``).
    :param fx: Horizontal frequencies in cycles per pixel (``fftfreq`` or ``rfftfreq``).
    :return: ``len(fy) x len(fx)`` int64 tensor in ``[0, grid_size**2)``.
    """
    y, x = torch.meshgrid(fy.double(), fx.double(), indexing="ij")
    band = torch.floor(torch.hypot(y, x) / MAX_RADIUS * grid_size).long().clamp_(0, grid_size - 1)
    angle = torch.remainder(torch.atan2(y, x), math.pi)
    sector = torch.floor(angle / math.pi * grid_size).long().clamp_(0, grid_size - 1)
    return band * grid_size + sector


@dataclass
class FourierSobolResult(SobolResult):
    """One Fourier-Sobol explanation (fields: :class:`SobolResult`; ``sobol_indices`` are ``n_classes x
    grid_size (bands, inner to outer) x grid_size (sectors)``).

    ``band_profile``: ``n_classes x grid_size`` share of the (clipped at 0) importance per radial band,
    rows summing to 1 (or all 0). ``spectrum_maps``: ``n_classes x H x W`` float32 in ``[0, 1]``, each
    cell's importance painted on the centred spectrum (see the module doc).
    """

    space = SPECTRUM

    def _maps_in(self, space: str) -> np.ndarray:
        return self.spectrum_maps

    @cached_property
    def band_profile(self) -> np.ndarray:
        bands = np.clip(self.sobol_indices, 0.0, None).sum(axis=2)
        total = bands.sum(axis=1, keepdims=True)
        return bands / np.where(total > 0, total, 1.0)

    @cached_property
    def spectrum_maps(self) -> np.ndarray:
        height, width = self.image_shape
        grid_size = self.sobol_indices.shape[-1]
        cells = polar_cells(torch.fft.fftfreq(height), torch.fft.fftfreq(width), grid_size).numpy()
        flat = self.sobol_indices.reshape(len(self.sobol_indices), -1)
        maps = flat[:, cells]
        maps[:, 0, 0] = flat[:, :grid_size].mean(axis=1)  # DC: the mean of the innermost band's cells
        return normalise_max(np.fft.fftshift(maps, axes=(-2, -1)))


class FourierSobol(SobolSaliency):
    """Sobol attribution over a polar grid of the Fourier spectrum (FCAM; see the module doc).

    :param grid_size: Number of radial bands, and of angular sectors (``grid_size**2`` variables), ``>= 1``
        and at most ``min(H, W) // 2`` (so every band holds frequencies).
    :param nb_design: Sobol design size ``N`` (a power of two); cost ``N * (grid_size**2 + 2)`` passes.
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

    @property
    def map_spaces(self) -> tuple[str, ...]:
        return (SPECTRUM,)

    def _explain(self, image: np.ndarray, blackbox: ClassifyImage, labels: list[Hashable]) -> FourierSobolResult:
        """The :class:`FourierSobolResult` of every class; each side of the image must be ``>= 2 * grid_size``."""
        height, width = image.shape[:2]
        if 2 * self.grid_size > min(height, width):
            raise ValueError(
                f"grid_size={self.grid_size} is too large for an image side of {min(height, width)}: "
                "grid_size must be <= min(H, W) // 2"
            )

        colour = torch.from_numpy(split_alpha(image)[0].astype(np.float32)).permute(2, 0, 1)  # C' x H x W
        spectrum = torch.fft.rfft2(colour)  # C' x H x (W // 2 + 1)
        cells = polar_cells(torch.fft.fftfreq(height), torch.fft.rfftfreq(width), self.grid_size)
        grid_size = self.grid_size

        def perturb(masks: torch.Tensor) -> torch.Tensor:
            flat = masks.reshape(len(masks), -1)
            scale = flat[:, cells]  # n x H x (W // 2 + 1)
            scale[:, 0, 0] = flat[:, :grid_size].mean(dim=1)
            images = torch.fft.irfft2(spectrum[None] * scale[:, None], s=(height, width))
            return images.permute(0, 2, 3, 1)

        estimate = self._total_indices(image, blackbox, labels, perturb)
        return FourierSobolResult.from_estimate(estimate, labels, (height, width))
