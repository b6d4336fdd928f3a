"""MuFidelity in the wavelet domain (Bhatt et al. 2020, as the WCAM paper scored WCAM's wavelet map).

For ``n_samples`` random subsets ``S`` of the cells of a ``grid_size x grid_size`` grid over the padded
coefficient layout (WCAM's grid; each subset exactly ``floor(grid_size**2 * subset_percent)`` cells, drawn as
pixel :class:`~xaitk_wcam.impls.faithfulness.MuFidelity` draws them), the coefficients of ``S`` are set to 0 in
every channel and the image rebuilt; the score is the Pearson correlation, over the subsets, between the
confidence drop ``f(x) - f(x_S)`` and the map's mass on ``S`` (the sum of the map, resampled back to the padded
layout, over the coefficients of ``S``). The subsets depend only on ``seed`` and the grid, so every map of an
image sees the same ones (paired comparisons). Cost: ``n_samples + 1`` forward passes per image.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.impls.faithfulness._scores import pearson
from xaitk_wcam.impls.faithfulness._wavelet import WaveletMetric
from xaitk_wcam.impls.faithfulness.mu_fidelity import MuFidelity
from xaitk_wcam.interfaces.faithfulness import FaithfulnessResult
from xaitk_wcam.wavelets.layout import padded_size


class WaveletMuFidelity(WaveletMetric, MuFidelity):
    """MuFidelity over random subsets of wavelet coefficients (``wavelet_mufidelity``, higher is better, in
    ``[-1, 1]``).

    :param wavelet: The wavelet of the maps.
    :param levels: The decomposition levels of the maps.
    :param grid_size: Cells per side of the grid over the padded layout (``<=`` its smaller side).
    :param subset_percent: Fraction in ``(0, 1)`` of the cells removed in each sample.
    :param n_samples: Number of random subsets (``>= 2``).
    :param seed: Seed of the subsets.
    :param batch_size: Images per ``classify_images`` call.
    """

    score_help: ClassVar[dict[str, str]] = {
        "wavelet_mufidelity": "Wavelet MuFidelity: correlation between the importance of random coefficient subsets "
        "and the output drop when they are zeroed; higher is better",
    }

    def __init__(
        self,
        *,
        wavelet: str = "haar",
        levels: int = 3,
        grid_size: int = 28,
        subset_percent: float = 0.2,
        n_samples: int = 128,
        seed: int = 0,
        batch_size: int = 32,
    ) -> None:
        MuFidelity.__init__(
            self,
            grid_size=grid_size,
            subset_percent=subset_percent,
            n_samples=n_samples,
            fill="black",
            seed=seed,
            batch_size=batch_size,
        )
        WaveletMetric.__init__(self, wavelet=wavelet, levels=levels, batch_size=batch_size)

    @property
    def score_names(self) -> tuple[str, ...]:
        return ("wavelet_mufidelity",)

    def get_config(self) -> dict[str, Any]:
        config = MuFidelity.get_config(self)
        del config["fill"]  # removed coefficients are always set to 0
        return {**config, "wavelet": self.wavelet, "levels": self.levels}

    def _check_inputs(self, ref_image: np.ndarray, sal_map: np.ndarray) -> None:
        WaveletMetric._check_inputs(self, ref_image, sal_map)
        side = min(padded_size(ref_image.shape[0], self.levels), padded_size(ref_image.shape[1], self.levels))
        if self.grid_size > side:
            raise ValueError(f"grid_size={self.grid_size} exceeds the padded layout's side {side}")

    def _compute(
        self, ref_image: np.ndarray, sal_map: np.ndarray, blackbox: ClassifyImage, class_index: int
    ) -> FaithfulnessResult:
        coefficients = self._coefficients(ref_image)
        cells = coefficients.grid_cells(self.grid_size)
        removed = self.subsets(self.grid_size**2)  # n_samples x cells
        mass = removed @ np.bincount(cells, weights=coefficients.importance(sal_map), minlength=self.grid_size**2)
        keep = np.concatenate([np.ones((1, cells.size), bool), ~removed[:, cells]])
        y = self._classify(coefficients, keep, blackbox)[:, class_index]
        score = pearson(y[0] - y[1:], mass, "wavelet_mufidelity", stacklevel=5)
        return FaithfulnessResult(scores={"wavelet_mufidelity": score})
