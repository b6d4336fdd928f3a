"""WCAM, the wavelet-scale attribution method, as an xaitk-saliency black-box saliency generator.

Kasmi, Dubus, Saint-Drenan, Blanc, "Scale Matters: Attribution Meets the Wavelet Domain to Explain
Model Sensitivity to Image Corruptions", XAI in Action workshop, NeurIPS 2023 (arXiv:2305.14979).

The image's 2-D DWT is laid out as one array (``pywt.coeffs_to_array``); a ``grid_size x grid_size``
grid of variables in ``[0, 1]`` lies over that layout, each multiplying the coefficients of its cell
in every channel. Masks come from a scrambled Sobol design, each masked layout is inverted back to
an image and classified, and the total-order Sobol index of every cell (Fel et al., "Look at the
Variance!", NeurIPS 2021) is its importance, for every class at once.

Cost: ``nb_design * (grid_size**2 + 2)`` forward passes (6,288 at the defaults), whatever the
number of classes.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import torch
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.impls.gen_image_classifier_blackbox_sal._sobol_blackbox import SobolSaliency
from xaitk_wcam.interfaces.explanation import PIXEL, WAVELET, WaveletExplanation
from xaitk_wcam.utils.checks import check_choice
from xaitk_wcam.utils.images import split_alpha
from xaitk_wcam.wavelets.layout import check_decomposable, check_levels, padded_size
from xaitk_wcam.wavelets.masking import MaskedWaveletImages
from xaitk_wcam.wavelets.reprojection import cell_level_areas
from xaitk_wcam.wavelets.transform import check_wavelet

#: WCAM's ``output`` keyword -> the space of the maps ``generate`` returns.
OUTPUT_SPACES = {"wavelet": WAVELET, "spatial": PIXEL}


@dataclass
class WCAMResult(WaveletExplanation):
    """Everything one WCAM explanation computes.

    :param sobol_indices: ``n_classes x grid_size x grid_size`` raw total Sobol indices.
    :param labels: Class labels, in the order of ``blackbox.get_labels()``.
    :param n_evaluations: Images sent to the blackbox.
    :param levels: Decomposition levels.
    :param image_shape: ``(H, W)`` of the explained image.
    :param padded_shape: ``(Hp, Wp)``, the image shape after symmetric padding to multiples of ``2**levels``.
    :param space: Space of :attr:`maps` (what ``generate`` returns): ``"wavelet"`` or ``"pixel"`` (WCAM's
        ``output="spatial"``).
    :param stability: Split-half reliability of the cell ranking, in ``[-1, 1]`` (see the estimators), or
        ``None`` where the estimator does not give one.
    :param index_std: ``n_classes x grid_size x grid_size`` standard error of each raw index, or ``None``.
    :param wavelet: The wavelet, or ``None`` when unknown.

    The maps and the scale profile (:class:`~xaitk_wcam.interfaces.explanation.WaveletExplanation`) follow from
    the indices clipped at 0 (negative estimates are estimator noise), one cell of the grid per Sobol variable:
    ``wavelet_maps`` (space ``"wavelet"``), ``spatial_maps`` (space ``"pixel"``), ``scale_profile``.
    """

    sobol_indices: np.ndarray
    labels: list
    n_evaluations: int
    levels: int
    image_shape: tuple[int, int]
    padded_shape: tuple[int, int]
    space: str = WAVELET
    stability: float | None = None
    index_std: np.ndarray | None = None
    wavelet: str | None = None

    @cached_property
    def cell_importance(self) -> np.ndarray:
        return np.clip(self.sobol_indices, 0, None)


class WCAM(SobolSaliency):
    """Wavelet sCale Attribution Method (Kasmi et al. 2023).

    **What ``generate`` returns.** ``generate(image, classifier)`` (xaitk-saliency's interface) returns one map per
    class of the classifier, ``n_classes x H x W`` float32, and by default (``output="wavelet"``) each map is laid
    out as the image's wavelet coefficients (``pywt.coeffs_to_array``: the approximation in the top-left corner,
    finer details towards the right and bottom), **not aligned with the image**: overlaying it on the image means
    nothing. For pixel maps aligned with the image, build ``WCAM(output="spatial")``, or call
    ``explain(image, classifier)`` and read ``.spatial_maps`` (beside ``.wavelet_maps`` and ``.scale_profile``).

    **One class.** With an ImageNet classifier ``generate`` returns 1000 maps (``1000 x 400 x 600`` float32 is about
    1 GB); above :data:`~xaitk_wcam.interfaces.blackbox_explainer.MANY_CLASSES` (100) classes it warns with that
    memory (:class:`~xaitk_wcam.interfaces.blackbox_explainer.ManyClassesWarning`). Hand it the one-class view
    instead, ``xaitk_wcam.TargetClassBlackbox(classifier, label)``: one map, at the
    same cost in forward passes (``xaitk-wcam explain --label`` does this).

    :param wavelet: An orthogonal pywt wavelet name ("haar", "db2", "sym4", ...). Haar is exact and fastest.
    :param levels: DWT levels, ``1 ... 16`` (:data:`~xaitk_wcam.wavelets.transform.MAX_LEVELS`); images are padded
        to multiples of ``2**levels`` and must be large enough for the wavelet's filter at every level
        (:func:`~xaitk_wcam.wavelets.transform.check_decomposable`, checked before any forward pass).
    :param grid_size: Side of the grid of Sobol variables over the coefficient layout; ``<=`` the padded side. A
        pixel map (``output="spatial"``, ``spatial_maps``) needs ``grid_size >= 2**(levels + 1)`` (16 at 3 levels):
        below, one cell covers the whole approximation band and the pixel map is nearly flat (a ``RuntimeWarning``
        says so when it is computed); the wavelet map and the scale profile are meaningful at any grid.
    :param nb_design: Sobol design size ``N`` (a power of two); cost at most ``N * (grid_size**2 + 2)`` passes.
        ``"auto"``: grow from ``N = 8`` until stable to ``tolerance`` or ``max_evaluations`` is reached.
    :param estimator: ``"importance"`` (default: importance-sampled base points, the approximation cells on
        plain rows; :mod:`xaitk_wcam.sobol.importance`) or a classic estimator on Saltelli's design:
        ``"jansen"`` (the 0.1 default, bit-identical maps), ``"homma"``, ``"janon"``.
    :param batch_size: Perturbed images per call to ``blackbox.classify_images``.
    :param seed: Seed of the Sobol scrambling (and of the importance draws); the same seed gives bit-identical maps.
    :param max_evaluations: Forward-pass budget of ``nb_design="auto"`` (required with it, refused otherwise).
    :param tolerance: ``"auto"`` stops once :attr:`WCAMResult.stability` is at least ``1 - tolerance``.
    :param output: What :meth:`generate` returns: "wavelet" (layout maps) or "spatial" (pixel maps).
    :param progress: A progress bar of the forward passes (done / total, ETA): ``True``, ``False`` or ``None``
        (auto: only in an interactive terminal, :mod:`xaitk_wcam.utils.progress`). Not part of :meth:`get_config`;
        the maps do not depend on it.
    """

    def __init__(
        self,
        *,
        wavelet: str = "haar",
        levels: int = 3,
        grid_size: int = 28,
        nb_design: int | str = 8,
        estimator: str = "importance",
        batch_size: int = 64,
        seed: int = 0,
        max_evaluations: int | None = None,
        tolerance: float = 0.2,
        output: str = "wavelet",
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
        check_wavelet(wavelet)
        self.output = check_choice("output", output, OUTPUT_SPACES)
        self.wavelet, self.levels = wavelet, check_levels(levels)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "wavelet": self.wavelet, "levels": self.levels, "output": self.output}

    @property
    def map_spaces(self) -> tuple[str, ...]:
        return (WAVELET, PIXEL) if self.output == "wavelet" else (PIXEL, WAVELET)

    @property
    def wavelet_levels(self) -> int:
        return self.levels

    def _explain(self, image: np.ndarray, blackbox: ClassifyImage, labels: list[Hashable]) -> WCAMResult:
        """The :class:`WCAMResult` of every class; the image must hold the wavelet at every level (checked first)."""
        height, width = image.shape[:2]
        check_decomposable(image.shape, self.wavelet, self.levels)
        padded = (padded_size(height, self.levels), padded_size(width, self.levels))
        if self.grid_size > min(padded):
            raise ValueError(f"grid_size={self.grid_size} exceeds the padded image side {min(padded)}")

        colour, _ = split_alpha(image)
        pad = ((0, padded[0] - height), (0, padded[1] - width), (0, 0))
        tensor = torch.from_numpy(np.pad(colour.astype(np.float32), pad, mode="symmetric")).permute(2, 0, 1)
        masked_images = MaskedWaveletImages(tensor, self.wavelet, self.levels, self.grid_size)
        # the approximation cells are estimated on plain rows by the importance design (sobol/importance.py)
        approximation = cell_level_areas(padded, self.levels, self.grid_size).argmax(axis=1) == 0
        estimate = self._total_indices(
            image, blackbox, labels, lambda masks: masked_images(masks)[:, :height, :width], dense=approximation
        )
        return WCAMResult(
            sobol_indices=estimate.indices,
            labels=labels,
            n_evaluations=estimate.n_evaluations,
            levels=self.levels,
            image_shape=(height, width),
            padded_shape=padded,
            space=OUTPUT_SPACES[self.output],
            stability=estimate.stability,
            index_std=estimate.index_std,
            wavelet=self.wavelet,
        )
