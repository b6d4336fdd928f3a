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

from xaitk_wcam.interfaces.explanation import WAVELET
from xaitk_wcam.interfaces.faithfulness import FaithfulnessMetric, FaithfulnessResult
from xaitk_wcam.utils.checks import check_int
from xaitk_wcam.utils.confidences import classify
from xaitk_wcam.wavelets.layout import check_decomposable, check_levels
from xaitk_wcam.wavelets.sufficient import sufficient_images
from xaitk_wcam.wavelets.transform import check_wavelet


class ReconstructionDepth(FaithfulnessMetric):
    """Smallest fraction of wavelet coefficients, inserted by decreasing importance, that restores the class.

    :param wavelet: Wavelet the map was computed with (WCAM's ``wavelet``).
    :param levels: Levels the map was computed with (WCAM's ``levels``).
    :param max_steps: Number of insertion steps; fractions ``1/max_steps, 2/max_steps, ..., 1``.
    :param batch_size: Images per ``classify_images`` call.

    ``sal_map`` must be a WCAM wavelet-layout map at the image's resolution (``output="wavelet"``).
    The score ``reconstruction_depth`` is ``nan`` (with a warning) when even the full image is not
    predicted as the class. Takes scores (:attr:`takes_scores`): the depth reads only which class is predicted
    (the arg max), and the curve is the class's output as given.
    """

    map_spaces = (WAVELET,)
    takes_scores = True

    score_help: ClassVar[dict[str, str]] = {
        "reconstruction_depth": "Reconstruction depth: smallest fraction of wavelet coefficients, by decreasing "
        "importance, that restores the class; lower is better",
    }

    def __init__(self, *, wavelet: str = "haar", levels: int = 3, max_steps: int = 20, batch_size: int = 32) -> None:
        check_wavelet(wavelet)
        self.wavelet = wavelet
        self.levels = check_levels(levels)
        self.max_steps = check_int("max_steps", max_steps, 1)
        self.batch_size = check_int("batch_size", batch_size, 1)

    @property
    def score_names(self) -> tuple[str, ...]:
        return ("reconstruction_depth",)

    def get_config(self) -> dict[str, Any]:
        return {
            "wavelet": self.wavelet,
            "levels": self.levels,
            "max_steps": self.max_steps,
            "batch_size": self.batch_size,
        }

    def _check_inputs(self, ref_image: np.ndarray, sal_map: np.ndarray) -> None:
        if sal_map.shape != ref_image.shape[:2]:
            raise ValueError(
                f"sal_map must be a wavelet-layout map of the image's shape {ref_image.shape[:2]}, got {sal_map.shape}"
            )
        check_decomposable(ref_image.shape, self.wavelet, self.levels)

    def _compute(
        self, ref_image: np.ndarray, sal_map: np.ndarray, blackbox: ClassifyImage, class_index: int
    ) -> FaithfulnessResult:
        labels = list(blackbox.get_labels())
        keeps = np.arange(1, self.max_steps + 1) / self.max_steps
        batches = (
            sufficient_images(
                ref_image, sal_map, keeps[start : start + self.batch_size], wavelet=self.wavelet, levels=self.levels
            )
            for start in range(0, len(keeps), self.batch_size)
        )
        scores = classify(blackbox, batches, labels, probabilities=not self.takes_scores)
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
