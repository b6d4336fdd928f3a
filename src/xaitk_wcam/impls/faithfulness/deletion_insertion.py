"""Deletion and Insertion curves with their calibration variants DC and IC.

Deletion (DAUC, Petsiuk et al. 2018, "RISE: Randomized Input Sampling for Explanation of Black-box
Models") removes image features from most to least important and integrates the class confidence;
Insertion (IAUC) starts from the fill and inserts them. Gomez et al. 2022 ("Computing and evaluating
saliency maps for image classification: a tutorial") add Deletion/Insertion Correlation (DC, IC): the
Pearson correlation between the confidence change of each step and the mean saliency of the step's
features. The numbers equal those of the ``saliency-maps-metrics`` package (black fill, integer
map-to-image ratio) to float rounding.

Cost: ``ceil(F / (F // min(max_steps, F))) + 1`` forward passes per image for ``F`` features
(197 for a 14 x 14 map or any map whose size is a multiple of 196).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.impls.faithfulness._batches import step_batches
from xaitk_wcam.impls.faithfulness._features import feature_map, feature_ranks, step_counts
from xaitk_wcam.impls.faithfulness._fills import as_dtype, build_fill, check_fill, check_fill_shape, fill_config
from xaitk_wcam.impls.faithfulness._scores import pearson, trapezoid
from xaitk_wcam.interfaces.faithfulness import FaithfulnessMetric, FaithfulnessResult
from xaitk_wcam.utils.checks import check_int
from xaitk_wcam.utils.confidences import classify


class _MultiStepMetric(FaithfulnessMetric):
    """Shared machinery of :class:`Deletion` and :class:`Insertion` (``_insert`` picks the direction)."""

    _insert: bool = False
    _auc_name: str = ""
    _corr_name: str = ""

    def __init__(
        self,
        *,
        fill: str | float | np.ndarray | list = "black",
        max_steps: int | None = 196,
        superpixel_size: int | None = None,
        cumulative: bool = True,
        batch_size: int = 32,
    ) -> None:
        """
        :param fill: What replaces a removed feature: ``"black"`` (zeros), ``"blur"`` (box blur of the
            image, see :func:`~xaitk_wcam.impls.faithfulness._fills.box_blur`), ``"mean"``
            (per-channel mean), a number, or a baseline image broadcastable to the image.
        :param max_steps: Bound on the number of steps, as the reference's ``max_step_nb`` (14 x 14):
            ``F // min(max_steps, F)`` features per step; ``None``: one feature per step.
        :param superpixel_size: ``None``: one feature per map cell; ``s``: importance summed over
            ``s x s`` image blocks (the map first nearest-upsampled to the image), one feature each.
        :param cumulative: ``True``: step ``i`` perturbs the ``i`` first chunks of features; ``False``:
            only the ``i``-th chunk (the reference's ``cumulative=False``).
        :param batch_size: Images per ``classify_images`` call (>= 1).
        """
        self.fill = check_fill(fill)
        self.max_steps = check_int("max_steps", max_steps, 1, allow_none=True)
        self.superpixel_size = check_int("superpixel_size", superpixel_size, 1, allow_none=True)
        if not isinstance(cumulative, (bool, np.bool_)):
            raise TypeError(f"cumulative must be a bool, got {cumulative!r}")
        self.cumulative = bool(cumulative)
        self.batch_size = check_int("batch_size", batch_size, 1)

    # score_names is left abstract here, so plugin discovery lists only Deletion and Insertion.

    def evaluations(self, image_shape: tuple[int, ...]) -> int:
        """Forward passes of one score on an image of ``image_shape`` (a pixel map of its size): one per step and
        one for the start, ``F`` features the superpixels (or the pixels)."""
        height, width = int(image_shape[0]), int(image_shape[1])
        size = self.superpixel_size
        features = height * width if size is None else -(-height // size) * -(-width // size)
        return int(step_counts(features, self.max_steps).size)

    def get_config(self) -> dict[str, Any]:
        return {
            "fill": fill_config(self.fill),
            "max_steps": self.max_steps,
            "superpixel_size": self.superpixel_size,
            "cumulative": self.cumulative,
            "batch_size": self.batch_size,
        }

    def _check_inputs(self, ref_image: np.ndarray, sal_map: np.ndarray) -> None:
        check_fill_shape(self.fill, ref_image.shape)

    def _compute(
        self,
        ref_image: np.ndarray,
        sal_map: np.ndarray,
        blackbox: ClassifyImage,
        class_index: int,
    ) -> FaithfulnessResult:
        values, labels = feature_map(sal_map, ref_image.shape[:2], self.superpixel_size)
        order, rank = feature_ranks(values, stacklevel=5)
        pixel_rank = rank[labels]
        counts = step_counts(values.size, self.max_steps)
        n_steps = counts.size - 1

        filled = as_dtype(build_fill(ref_image, self.fill), ref_image.dtype)
        base, replacement = (filled, ref_image) if self._insert else (ref_image, filled)
        if self.cumulative:
            lo, hi = np.zeros_like(counts), counts
        else:  # image 0 is the unperturbed start; image i perturbs chunk i only
            lo = np.concatenate([[0], counts[:-1]])
            hi = np.concatenate([[0], counts[1:]])
        label = blackbox.get_labels()[class_index]
        batches = step_batches(base, replacement, pixel_rank, lo, hi, self.batch_size)
        y = classify(blackbox, batches, [label], probabilities=not self.takes_scores)[:, 0]

        step_saliency = np.add.reduceat(values[order], counts[:-1]) / np.diff(counts)
        if self.cumulative:
            change = y[1:] - y[:-1]
            curve_x, curve_y = counts / values.size, y
        else:
            change = y[1:] - y[0]
            curve_x = counts[:-1] / counts[-2] if n_steps > 1 else np.zeros(1)
            curve_y = y[1:]
        if not self._insert:
            change = -change
        auc = trapezoid(curve_y, curve_x) if curve_y.size > 1 else float(curve_y[0])
        corr = pearson(change, step_saliency, f"{self._corr_name} ({type(self).__name__})", stacklevel=5)
        return FaithfulnessResult(
            scores={self._auc_name: auc, self._corr_name: corr},
            curve_x=curve_x.astype(np.float64),
            curve_y=curve_y,
        )


class Deletion(_MultiStepMetric):
    """Deletion: remove features from most to least important; scores ``dauc`` and ``dc``.

    ``dauc`` (lower is better) is the trapezoidal area under the confidence of the explained class
    against the fraction of features removed, ``x`` in ``[0, 1]`` (with ``cumulative=False``, ``x`` is
    the position of each step's chunk in the ordering, as the reference's ``arange(n) / (n - 1)``; a
    single step gives its confidence). ``dc`` (higher is better) is the Pearson correlation between
    the confidence drop of each step and the mean saliency of the features it removes: ``nan`` with a
    ``RuntimeWarning`` when undefined (e.g. a model whose confidence never changes; the reference
    returns ``nan`` too, through numpy).

    Features are ordered by decreasing saliency; ties (e.g. a constant map, which also warns) are
    broken by row-major index. See Petsiuk et al. 2018 and Gomez et al. 2022.
    """

    _insert = False
    _auc_name = "dauc"
    _corr_name = "dc"
    score_help: ClassVar[dict[str, str]] = {
        "dauc": "Deletion AUC: confidence as the most salient pixels are removed first; lower is better",
        "dc": "Deletion correlation: confidence drop per step vs the saliency removed; higher is better",
    }

    @property
    def score_names(self) -> tuple[str, ...]:
        return (self._auc_name, self._corr_name)


class Insertion(_MultiStepMetric):
    """Insertion: start from the fill and insert features from most to least important; ``iauc``, ``ic``.

    ``iauc`` (higher is better) is the trapezoidal area under the confidence against the fraction of
    features inserted; ``ic`` (higher is better) the Pearson correlation between the confidence gain of
    each step and the mean saliency of the inserted features (``nan`` with a warning when undefined).
    The default fill is ``"blur"``, as in the reference; see :class:`Deletion` for the other options.
    """

    _insert = True
    _auc_name = "iauc"
    _corr_name = "ic"
    score_help: ClassVar[dict[str, str]] = {
        "iauc": "Insertion AUC: confidence as the most salient pixels are inserted first; higher is better",
        "ic": "Insertion correlation: confidence gain per step vs the saliency inserted; higher is better",
    }

    @property
    def score_names(self) -> tuple[str, ...]:
        return (self._auc_name, self._corr_name)

    def __init__(
        self,
        *,
        fill: str | float | np.ndarray | list = "blur",
        max_steps: int | None = 196,
        superpixel_size: int | None = None,
        cumulative: bool = True,
        batch_size: int = 32,
    ) -> None:
        """See :class:`Deletion`; only the default ``fill`` (``"blur"``) differs."""
        super().__init__(
            fill=fill,
            max_steps=max_steps,
            superpixel_size=superpixel_size,
            cumulative=cumulative,
            batch_size=batch_size,
        )
