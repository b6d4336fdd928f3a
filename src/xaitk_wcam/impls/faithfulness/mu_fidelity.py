"""MuFidelity (Bhatt et al. 2020, "Evaluating and Aggregating Feature-based Model Explanations").

For ``n_samples`` random subsets ``S`` of the cells of a ``grid_size x grid_size`` grid over the image
(each of exactly ``floor(grid_size**2 * subset_percent)`` cells), the image is set to the fill on
``S``; the score is the Pearson correlation, over the subsets, between the confidence drop
``f(x) - f(x_S)`` and the saliency removed, ``sum of the map (nearest-upsampled to the image) over S``.
As in Xplique's ``MuFidelity`` (grid 9, 20 %, 200 samples, baseline 0), with two documented
differences: Xplique's ``argsort > subset_size`` removes ``subset_size + 1`` cells, we remove exactly
``subset_size``; and an undefined correlation (e.g. a constant model) is ``nan`` with a
``RuntimeWarning`` where Xplique returns 0.

The subsets depend only on ``seed`` and the grid, so every image of a study sees the same ones.
Cost: ``n_samples + 1`` forward passes per image.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.impls.faithfulness._features import random_subsets, subset_size
from xaitk_wcam.impls.faithfulness._fills import as_dtype, build_fill, check_fill, check_fill_shape, fill_config
from xaitk_wcam.impls.faithfulness._scores import pearson
from xaitk_wcam.interfaces.faithfulness import FaithfulnessMetric, FaithfulnessResult
from xaitk_wcam.utils.checks import check_int
from xaitk_wcam.utils.confidences import classify
from xaitk_wcam.utils.maps import nearest_source_index, upsample_nearest


class MuFidelity(FaithfulnessMetric):
    """MuFidelity: correlation of removed saliency and confidence drop over random subsets (``mufidelity``).

    Higher is better, in ``[-1, 1]``. Takes scores: a Pearson correlation of drops does not change under a shift
    or a positive scaling of the output, so logits are as good as probabilities (:attr:`takes_scores`).
    """

    takes_scores = True
    score_help: ClassVar[dict[str, str]] = {
        "mufidelity": "MuFidelity: correlation of the saliency of random pixel subsets with the confidence drop when "
        "they are removed; higher is better",
    }

    def __init__(
        self,
        *,
        grid_size: int | None = 9,
        subset_percent: float = 0.2,
        n_samples: int = 200,
        fill: str | float | np.ndarray | list = "black",
        seed: int = 0,
        batch_size: int = 32,
    ) -> None:
        """
        :param grid_size: Cells per side of the grid the subsets are drawn on (cell of each pixel by
            nearest-neighbour correspondence); ``None``: one cell per image pixel.
        :param subset_percent: Fraction in ``(0, 1)`` of the cells removed in each sample.
        :param n_samples: Number of random subsets (>= 2).
        :param fill: ``"black"``, ``"blur"``, ``"mean"``, a number or a baseline image (see
            :class:`~xaitk_wcam.impls.faithfulness.Deletion`).
        :param seed: Seed of the subsets.
        :param batch_size: Images per ``classify_images`` call (>= 1).
        """
        self.grid_size = check_int("grid_size", grid_size, 1, allow_none=True)
        if isinstance(subset_percent, bool) or not isinstance(subset_percent, (int, float)):
            raise TypeError(f"subset_percent must be a float in (0, 1), got {subset_percent!r}")
        if not 0.0 < subset_percent < 1.0:
            raise ValueError(f"subset_percent must be in (0, 1), got {subset_percent}")
        self.subset_percent = float(subset_percent)
        self.n_samples = check_int("n_samples", n_samples, 1)
        if self.n_samples < 2:
            raise ValueError(f"n_samples must be >= 2 (a correlation needs two points), got {n_samples}")
        self.fill = check_fill(fill)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {seed!r}")
        self.seed = seed
        self.batch_size = check_int("batch_size", batch_size, 1)
        if self.grid_size is not None:
            self._subset_size(self.grid_size**2)

    @property
    def score_names(self) -> tuple[str, ...]:
        return ("mufidelity",)

    def evaluations(self, image_shape: tuple[int, ...]) -> int:
        """``n_samples + 1`` forward passes."""
        return self.n_samples + 1

    def get_config(self) -> dict[str, Any]:
        return {
            "grid_size": self.grid_size,
            "subset_percent": self.subset_percent,
            "n_samples": self.n_samples,
            "fill": fill_config(self.fill),
            "seed": self.seed,
            "batch_size": self.batch_size,
        }

    def _subset_size(self, n_cells: int) -> int:
        return subset_size(n_cells, self.subset_percent)

    def _grid(self, image_hw: tuple[int, int]) -> tuple[int, int]:
        return image_hw if self.grid_size is None else (self.grid_size, self.grid_size)

    def _check_inputs(self, ref_image: np.ndarray, sal_map: np.ndarray) -> None:
        check_fill_shape(self.fill, ref_image.shape)
        grid = self._grid(ref_image.shape[:2])
        if grid[0] > ref_image.shape[0] or grid[1] > ref_image.shape[1]:
            raise ValueError(f"grid_size={self.grid_size} exceeds the image's {ref_image.shape[:2]}")
        self._subset_size(grid[0] * grid[1])

    def subsets(self, n_cells: int) -> np.ndarray:
        """``n_samples x n_cells`` boolean matrix of the removed cells (seeded, the same for every image)."""
        return random_subsets(self.n_samples, n_cells, self._subset_size(n_cells), self.seed)

    def _compute(
        self,
        ref_image: np.ndarray,
        sal_map: np.ndarray,
        blackbox: ClassifyImage,
        class_index: int,
    ) -> FaithfulnessResult:
        hw = ref_image.shape[:2]
        grid = self._grid(hw)
        rows, cols = nearest_source_index(hw[0], grid[0]), nearest_source_index(hw[1], grid[1])
        cells = rows[:, None] * grid[1] + cols[None, :]
        removed = self.subsets(grid[0] * grid[1])
        cell_saliency = np.bincount(
            cells.ravel(), weights=upsample_nearest(sal_map, hw).ravel(), minlength=grid[0] * grid[1]
        )
        removed_saliency = removed @ cell_saliency
        filled = as_dtype(build_fill(ref_image, self.fill), ref_image.dtype)
        channel = (1,) * (ref_image.ndim - 2)

        def batches():
            yield ref_image[None]
            for start in range(0, self.n_samples, self.batch_size):
                block = removed[start : start + self.batch_size].reshape(-1, *grid)
                mask = np.take(np.take(block, rows, axis=1), cols, axis=2)  # separable, C-contiguous
                yield np.where(mask.reshape(mask.shape + channel), filled[None], ref_image[None])

        label = blackbox.get_labels()[class_index]
        y = classify(blackbox, batches(), [label], probabilities=not self.takes_scores)[:, 0]
        score = pearson(y[0] - y[1:], removed_saliency, "mufidelity", stacklevel=5)
        return FaithfulnessResult(scores={"mufidelity": score})
