"""Single-step metrics of Gomez et al. 2022: Average Drop (AD), Increase In Confidence (IIC) and
Average Drop in Deletion (ADD).

AD and IIC (Chattopadhyay et al. 2018, "Grad-CAM++") keep the image where the map is high: the
min-max normalised map, bicubic-upsampled to the image, is a soft mask ``m`` and the perturbed image is
``image * m + fill * (1 - m)``; ``ad = max(y - y_m, 0) / y`` and ``iic = [y_m > y]`` where ``y`` is the
confidence of the explained class on the image and ``y_m`` on the masked image. ADD (Gomez et al.)
removes what the map shows: ``image * (1 - m) + fill * m``, ``add = (y - y_m) / y``. With black fill
the numbers equal those of ``saliency-maps-metrics`` (``IIC_AD``, ``ADD``) to float rounding.

Differences from the reference, documented: the reference min-max normalises over the whole batch of
maps, we normalise each map on its own (equal for one image at a time); a constant map (no ordering,
the reference then uses its raw values as the mask) gives an all-ones mask with a ``RuntimeWarning``;
a zero reference confidence gives ``nan`` with a ``RuntimeWarning`` (the reference divides by zero).
The bicubic mask is not clipped (it may overshoot ``[0, 1]`` near edges, as the reference's); for
integer images the blend is rounded and clipped to the dtype's range.

Cost: 2 forward passes per image (batched across images by ``compute_many``).
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.impls.faithfulness._batches import soft_mask_batches
from xaitk_wcam.impls.faithfulness._features import superpixel_sum
from xaitk_wcam.impls.faithfulness._fills import build_fill, check_fill, check_fill_shape, fill_config
from xaitk_wcam.impls.faithfulness._resize import bicubic_resize
from xaitk_wcam.interfaces.faithfulness import FaithfulnessMetric, FaithfulnessResult
from xaitk_wcam.utils.checks import check_int
from xaitk_wcam.utils.confidences import classify
from xaitk_wcam.utils.maps import upsample_nearest


class _SoftMaskMetric(FaithfulnessMetric):
    """Shared machinery of :class:`AverageDrop` and :class:`AverageDropInDeletion`."""

    _remove_salient: bool = False

    def __init__(
        self,
        *,
        fill: str | float | np.ndarray | list = "black",
        superpixel_size: int | None = None,
        batch_size: int = 32,
    ) -> None:
        """
        :param fill: ``"black"``, ``"blur"``, ``"mean"``, a number or a baseline image (see
            :class:`~xaitk_wcam.impls.faithfulness.Deletion`).
        :param superpixel_size: ``None``: the map is used at its resolution; ``s``: the map is first
            nearest-upsampled to the image and summed over ``s x s`` blocks (a coarser map).
        :param batch_size: Images per ``classify_images`` call in ``compute_many`` (>= 1).
        """
        self.fill = check_fill(fill)
        self.superpixel_size = check_int("superpixel_size", superpixel_size, 1, allow_none=True)
        self.batch_size = check_int("batch_size", batch_size, 1)

    def evaluations(self, image_shape: tuple[int, ...]) -> int:
        """2 forward passes (the image and its masked copy)."""
        return 2

    def get_config(self) -> dict[str, Any]:
        return {
            "fill": fill_config(self.fill),
            "superpixel_size": self.superpixel_size,
            "batch_size": self.batch_size,
        }

    def _check_inputs(self, ref_image: np.ndarray, sal_map: np.ndarray) -> None:
        check_fill_shape(self.fill, ref_image.shape)

    def soft_mask(self, sal_map: np.ndarray, image_hw: tuple[int, int]) -> np.ndarray:
        """The ``H x W`` soft mask: min-max normalised map, bicubic-upsampled (1 where the map is highest).

        :param sal_map: Finite ``H' x W'`` map.
        :param image_hw: ``(H, W)`` of the image.
        """
        if self.superpixel_size is not None:
            sal_map = superpixel_sum(upsample_nearest(sal_map, image_hw), self.superpixel_size)
        low, high = sal_map.min(), sal_map.max()
        if low == high:
            warnings.warn(
                "the saliency map is constant: no ordering; its normalised mask is taken as all ones",
                RuntimeWarning,
                stacklevel=6,
            )
            normalised = np.ones_like(sal_map)
        else:
            normalised = (sal_map - low) / (high - low)
        mask = bicubic_resize(normalised, image_hw)
        return 1.0 - mask if self._remove_salient else mask

    def _compute(
        self,
        ref_image: np.ndarray,
        sal_map: np.ndarray,
        blackbox: ClassifyImage,
        class_index: int,
    ) -> FaithfulnessResult:
        return self._compute_many([(ref_image, sal_map, class_index)], blackbox)[0]

    def _compute_many(
        self,
        checked: list[tuple[np.ndarray, np.ndarray, int]],
        blackbox: ClassifyImage,
    ) -> list[FaithfulnessResult]:
        def items():  # lazily: the unperturbed image, then its masked version
            for image, values, _ in checked:
                yield image, None, None
                yield image, build_fill(image, self.fill), self.soft_mask(values, image.shape[:2])

        all_labels = list(blackbox.get_labels())
        explained = sorted({index for _, _, index in checked})
        columns = np.array([explained.index(index) for _, _, index in checked for _ in range(2)])
        confidences = classify(
            blackbox,
            soft_mask_batches(items(), self.batch_size),
            [all_labels[i] for i in explained],
            probabilities=not self.takes_scores,
        )
        scores = confidences[np.arange(len(columns)), columns]
        return [self._scores(y, y_masked) for y, y_masked in zip(scores[0::2], scores[1::2], strict=True)]

    def _scores(self, y: float, y_masked: float) -> FaithfulnessResult:
        raise NotImplementedError


def _relative_drop(y: float, y_masked: float, name: str) -> float:
    if y == 0:
        warnings.warn(
            f"the reference confidence is 0: {name} (a drop relative to it) is nan",
            RuntimeWarning,
            stacklevel=5,
        )
        return float("nan")
    return (y - y_masked) / y


class AverageDrop(_SoftMaskMetric):
    """Average Drop (``ad``, lower is better) and Increase In Confidence (``iic``, higher is better).

    The image is kept where the map is high (soft mask ``m``, see the module docstring):
    ``ad = max(y - y_m, 0) / y`` (``nan`` with a warning when ``y = 0``), ``iic = 1.0 if y_m > y else 0.0``;
    their means over images are the usual AD and IIC. Chattopadhyay et al. 2018; Gomez et al. 2022.
    """

    _remove_salient = False
    score_help: ClassVar[dict[str, str]] = {
        "ad": "Average Drop: relative confidence lost when only the salient part is kept; lower is better",
        "iic": "Increase In Confidence: 1 when keeping only the salient part raises the confidence; higher is better",
    }

    @property
    def score_names(self) -> tuple[str, ...]:
        return ("ad", "iic")

    def _scores(self, y: float, y_masked: float) -> FaithfulnessResult:
        drop = _relative_drop(y, y_masked, "ad")
        return FaithfulnessResult(scores={"ad": max(drop, 0.0) if drop == drop else drop, "iic": float(y_masked > y)})


class AverageDropInDeletion(_SoftMaskMetric):
    """Average Drop in Deletion (``add``, higher is better; Gomez et al. 2022).

    The image is removed where the map is high (``image * (1 - m) + fill * m``);
    ``add = (y - y_m) / y`` (``nan`` with a warning when ``y = 0``).
    """

    _remove_salient = True
    score_help: ClassVar[dict[str, str]] = {
        "add": "Average Drop in Deletion: relative confidence lost when the salient part is removed; higher is better",
    }

    @property
    def score_names(self) -> tuple[str, ...]:
        return ("add",)

    def _scores(self, y: float, y_masked: float) -> FaithfulnessResult:
        return FaithfulnessResult(scores={"add": _relative_drop(y, y_masked, "add")})
