"""Insertion, Deletion and Faith in the wavelet domain (Kasmi et al., "One Wave To Explain Them All", ICML 2025).

The WAM paper scores wavelet maps by adding or removing **wavelet coefficients** in the order of the map, as
Petsiuk et al. (2018) add or remove pixels: every layout position of the image's DWT is a feature (its
coefficients in every channel); Insertion starts from the empty layout (a black image) and keeps more and more
of the most important positions, Deletion starts from the full layout and zeroes them; each step's layout is
inverted back to an image and classified. Faith (the authors' "faithfulness of spectra", after Parekh et al.)
is the drop of the class probability when the top half of the coefficients is removed.

Positions are ordered by the map (resampled back to the padded layout), ties broken in a fixed order that reads
neither the image nor the layout (:meth:`~xaitk_wcam.wavelets.coefficients.CoefficientImages.ranks`: a constant or
all-zero map warns, as in pixel Deletion, and scores as one random order, never as the coefficients' magnitude
order); step ``i`` perturbs the ``counts[i]`` first (``counts`` as in pixel Deletion:
:func:`~xaitk_wcam.impls.faithfulness._features.step_counts`).

Cost: ``n_steps + 1`` forward passes (65 for a 224 x 224 image at ``max_steps=64``) for Insertion and Deletion,
2 for Faith, plus one inverse DWT per image.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.impls.faithfulness._features import step_counts
from xaitk_wcam.impls.faithfulness._scores import trapezoid
from xaitk_wcam.impls.faithfulness._wavelet import RANK_STACKLEVEL, WaveletMetric
from xaitk_wcam.interfaces.faithfulness import FaithfulnessResult
from xaitk_wcam.utils.checks import check_float, check_int


class _WaveletCurve(WaveletMetric):
    """Shared by :class:`WaveletInsertion` and :class:`WaveletDeletion` (``_insert`` picks the direction)."""

    _insert = False
    _auc_name = ""

    def __init__(self, *, wavelet: str = "haar", levels: int = 3, max_steps: int = 64, batch_size: int = 32) -> None:
        """
        :param wavelet: The wavelet of the maps.
        :param levels: The decomposition levels of the maps.
        :param max_steps: Bound on the number of steps (``F // min(max_steps, F)`` positions per step for ``F``
            layout positions, as pixel :class:`~xaitk_wcam.impls.faithfulness.Deletion`).
        :param batch_size: Images per ``classify_images`` call.
        """
        super().__init__(wavelet=wavelet, levels=levels, batch_size=batch_size)
        self.max_steps = check_int("max_steps", max_steps, 1)

    def evaluations(self, image_shape: tuple[int, ...]) -> int:
        """Forward passes of one score on an image of ``image_shape``: one per step and one for the start, ``F`` the
        positions of the image's padded wavelet layout."""
        block = 2**self.levels
        features = (-(-int(image_shape[0]) // block) * block) * (-(-int(image_shape[1]) // block) * block)
        return int(step_counts(features, self.max_steps).size)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_steps": self.max_steps}

    # score_names is left abstract here, so plugin discovery lists only the two subclasses.

    def _compute(
        self, ref_image: np.ndarray, sal_map: np.ndarray, blackbox: ClassifyImage, class_index: int
    ) -> FaithfulnessResult:
        coefficients = self._coefficients(ref_image)
        rank = coefficients.ranks(sal_map, stacklevel=RANK_STACKLEVEL)
        counts = step_counts(rank.size, self.max_steps)
        keep = (rank[None, :] < counts[:, None]) if self._insert else (rank[None, :] >= counts[:, None])
        y = self._classify(coefficients, keep, blackbox)[:, class_index]
        x = counts / rank.size
        return FaithfulnessResult({self._auc_name: trapezoid(y, x)}, curve_x=x, curve_y=y)


class WaveletDeletion(_WaveletCurve):
    """Wavelet Deletion: zero the coefficients from most to least important; ``wavelet_dauc`` (lower is better).

    ``wavelet_dauc`` is the trapezoidal area under the confidence of the explained class against the fraction
    of layout positions zeroed, in ``[0, 1]``; the curve starts at the image (all kept) and ends at the black
    image (all zeroed).
    """

    _insert = False
    _auc_name = "wavelet_dauc"
    score_help: ClassVar[dict[str, str]] = {
        "wavelet_dauc": "Wavelet Deletion AUC: confidence as the most important wavelet coefficients are zeroed "
        "first; lower is better",
    }

    @property
    def score_names(self) -> tuple[str, ...]:
        return (self._auc_name,)


class WaveletInsertion(_WaveletCurve):
    """Wavelet Insertion: keep the coefficients from most to least important; ``wavelet_iauc`` (higher is better).

    ``wavelet_iauc`` is the trapezoidal area under the confidence against the fraction of layout positions kept;
    the curve starts at the black image (none kept) and ends at the image.
    """

    _insert = True
    _auc_name = "wavelet_iauc"
    score_help: ClassVar[dict[str, str]] = {
        "wavelet_iauc": "Wavelet Insertion AUC: confidence as the most important wavelet coefficients are kept "
        "first; higher is better",
    }

    @property
    def score_names(self) -> tuple[str, ...]:
        return (self._auc_name,)


class WaveletFaithfulness(WaveletMetric):
    """Faith: the drop of the class confidence when the most important coefficients are removed.

    ``wavelet_faithfulness = p(image) - p(image without the top fraction of layout positions)`` (higher is
    better; negative when removing what the map ranks first raises the confidence). The WAM paper removes the
    top half (``fraction=0.5``, the default). Cost: 2 forward passes.

    :param wavelet: The wavelet of the maps.
    :param levels: The decomposition levels of the maps.
    :param fraction: Fraction of the layout positions removed, in ``(0, 1)``.
    :param batch_size: Images per ``classify_images`` call.
    """

    score_help: ClassVar[dict[str, str]] = {
        "wavelet_faithfulness": "Wavelet Faith: confidence lost when the top half of the wavelet coefficients is "
        "zeroed; higher is better",
    }

    def __init__(self, *, wavelet: str = "haar", levels: int = 3, fraction: float = 0.5, batch_size: int = 32) -> None:
        super().__init__(wavelet=wavelet, levels=levels, batch_size=batch_size)
        self.fraction = check_float("fraction", fraction, 0.0, 1.0)

    def evaluations(self, image_shape: tuple[int, ...]) -> int:
        """2 forward passes (the image and its layout without the top coefficients)."""
        return 2

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "fraction": self.fraction}

    @property
    def score_names(self) -> tuple[str, ...]:
        return ("wavelet_faithfulness",)

    def _compute(
        self, ref_image: np.ndarray, sal_map: np.ndarray, blackbox: ClassifyImage, class_index: int
    ) -> FaithfulnessResult:
        coefficients = self._coefficients(ref_image)
        rank = coefficients.ranks(sal_map, stacklevel=RANK_STACKLEVEL)
        removed = int(self.fraction * rank.size)
        y = self._classify(coefficients, [np.ones(rank.size, bool), rank >= removed], blackbox)[:, class_index]
        x = np.array([0.0, removed / rank.size])
        return FaithfulnessResult({"wavelet_faithfulness": float(y[0] - y[1])}, curve_x=x, curve_y=y)
