"""Reconstruction depth: wavelet-domain insertion for WCAM maps (Kasmi et al. 2023).

The WCAM paper's "sufficient image" keeps only the most important wavelet coefficients. Inserting
coefficients by decreasing importance, the *reconstruction depth* is the smallest fraction of
coefficients at which the model predicts the explained class again: a small depth means the map found
a small sufficient set. The curve is the class confidence against the fraction of coefficients kept.

Cost: ``max_steps`` forward passes per image, classified in batches of ``batch_size``.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.impls.faithfulness._wavelet import RANK_STACKLEVEL, WaveletMetric
from xaitk_wcam.interfaces.faithfulness import FaithfulnessResult
from xaitk_wcam.utils.checks import check_int


class ReconstructionDepth(WaveletMetric):
    """Smallest fraction of wavelet coefficients, inserted by decreasing importance, that restores the class.

    :param wavelet: Wavelet the map was computed with (WCAM's ``wavelet``).
    :param levels: Levels the map was computed with (WCAM's ``levels``).
    :param max_steps: Number of insertion steps; fractions ``1/max_steps, 2/max_steps, ..., 1``.
    :param batch_size: Images per ``classify_images`` call.

    ``sal_map`` must be a wavelet-layout map at the image's resolution (WCAM's or WAM's ``wavelet_maps``).
    The score ``reconstruction_depth`` is ``nan`` (with a warning) when even the full image is not
    predicted as the class. The images are the sufficient images of
    :func:`~xaitk_wcam.wavelets.sufficient.sufficient_images`.
    Takes scores (:attr:`takes_scores`): the depth reads only which class is predicted (the arg max), and the curve
    is the class's output as given.
    """

    takes_scores = True

    score_help: ClassVar[dict[str, str]] = {
        "reconstruction_depth": "Reconstruction depth: smallest fraction of wavelet coefficients, by decreasing "
        "importance, that restores the class; lower is better",
    }

    def __init__(self, *, wavelet: str = "haar", levels: int = 3, max_steps: int = 20, batch_size: int = 32) -> None:
        super().__init__(wavelet=wavelet, levels=levels, batch_size=batch_size)
        self.max_steps = check_int("max_steps", max_steps, 1)

    @property
    def score_names(self) -> tuple[str, ...]:
        return ("reconstruction_depth",)

    def evaluations(self, image_shape: tuple[int, ...]) -> int:
        """``max_steps`` forward passes."""
        return self.max_steps

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_steps": self.max_steps}

    def _compute(
        self, ref_image: np.ndarray, sal_map: np.ndarray, blackbox: ClassifyImage, class_index: int
    ) -> FaithfulnessResult:
        labels = list(blackbox.get_labels())
        keeps = np.arange(1, self.max_steps + 1) / self.max_steps
        coefficients = self._coefficients(ref_image)
        rank = coefficients.ranks(sal_map, stacklevel=RANK_STACKLEVEL)
        counts = np.ceil(keeps * rank.size).astype(np.int64)
        scores = self._classify(coefficients, rank[None, :] < counts[:, None], blackbox)
        restored = np.flatnonzero(scores.argmax(axis=1) == class_index)
        if restored.size == 0:
            warnings.warn(
                f"class {labels[class_index]!r} is not predicted even from all coefficients: depth is nan",
                RuntimeWarning,
                stacklevel=3,
            )
            depth = float("nan")
        else:
            depth = float(keeps[restored[0]])
        return FaithfulnessResult({"reconstruction_depth": depth}, curve_x=keeps, curve_y=scores[:, class_index])
