"""The ``FaithfulnessMetric`` interface: score a saliency map by perturbing the image it explains.

A faithfulness metric removes (or inserts) image regions in the order given by a saliency map and
watches the black-box confidence of the explained class change (Petsiuk et al. 2018, "RISE";
Gomez et al. 2022, "Computing and evaluating saliency maps for image classification: a tutorial";
Bhatt et al. 2020, "Evaluating and aggregating feature-based model explanations").

Implementations live in :mod:`xaitk_wcam.impls.faithfulness`; this module only fixes the contract:
:meth:`FaithfulnessMetric.compute` checks its inputs, then hands them to ``_compute``.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from smqtk_core.plugfigurable import Plugfigurable

from xaitk_wcam.interfaces.explanation import PIXEL, Explanation, accepted_spaces, check_map_space, choose_space
from xaitk_wcam.utils.checks import check_image, check_int, check_map


@dataclass
class FaithfulnessResult:
    """Scores of one saliency map, plus the perturbation curve when the metric has one.

    :param scores: Score name -> value (``nan`` where the score is undefined, see each metric).
    :param curve_x: ``n_points`` fractions in ``[0, 1]`` of the features removed (Deletion) or
        inserted (Insertion) at each step, or ``None`` for single-step metrics.
    :param curve_y: ``n_points`` confidences of the explained class at each step, or ``None``.
    """

    scores: dict[str, float]
    curve_x: np.ndarray | None = None
    curve_y: np.ndarray | None = None


def _check_map(sal_map: object, image_shape: tuple[int, ...]) -> np.ndarray:
    values = check_map(sal_map, nan_as_min=True)
    if values.shape[0] > image_shape[0] or values.shape[1] > image_shape[1]:
        raise ValueError(
            f"sal_map of shape {values.shape} cannot be upsampled to the image's {image_shape[:2]}: "
            "each side of the map must be at most the image's"
        )
    return values


def _check_class_index(class_index: object, blackbox: ClassifyImage) -> int:
    if not isinstance(blackbox, ClassifyImage):
        raise TypeError(f"blackbox must be a smqtk_classifier ClassifyImage, got {type(blackbox).__name__}")
    class_index = check_int("class_index", class_index, 0)
    n_labels = len(blackbox.get_labels())
    if not 0 <= int(class_index) < n_labels:
        raise ValueError(f"class_index must be in [0, {n_labels}) (the blackbox's labels), got {class_index}")
    return int(class_index)


class FaithfulnessMetric(Plugfigurable):
    """Scores how faithfully a saliency map ranks the image regions a black-box classifier relies on.

    ``compute`` is a template: it validates the image, the map and the class index (raising
    ``ValueError``/``TypeError`` before any black-box call) and then calls ``_compute`` with a float64
    copy of the map (NaN entries replaced by the map's minimum, with a warning).

    The maps scored are pixel maps (:data:`map_spaces`): regions of the image are removed or inserted in
    the map's order. A metric that reads another kind of map (e.g. wavelet maps) overrides ``map_spaces``.
    """

    #: Map spaces this metric reads (see :mod:`xaitk_wcam.interfaces.explanation`).
    map_spaces: tuple[str, ...] = (PIXEL,)

    #: Whether the metric's scores mean something for any classifier output (scores, logits). ``False`` (the
    #: default): it reads probabilities (drops relative to the confidence, areas under a confidence curve), and a
    #: confidence outside ``[0, 1]`` is a ``ValueError`` rather than a silently wrong score. A metric that takes
    #: scores says so here and in its docstring.
    takes_scores: bool = False

    #: Score name -> one line saying what it measures and which direction is better (a study report's legend).
    score_help: ClassVar[dict[str, str]] = {}

    @property
    @abc.abstractmethod
    def score_names(self) -> tuple[str, ...]:
        """Names of the scores in :attr:`FaithfulnessResult.scores`, e.g. ``("dauc", "dc")``."""

    def compute(
        self,
        ref_image: np.ndarray,
        sal_map: np.ndarray,
        blackbox: ClassifyImage,
        class_index: int,
    ) -> FaithfulnessResult:
        """Score one saliency map.

        :param ref_image: Image explained, ``H x W`` or ``H x W x C``, uint8 or float. Not modified.
        :param sal_map: Saliency map ``H' x W'`` with ``H' <= H`` and ``W' <= W`` (upsampled to the
            image by each metric); larger values mean more important. Not modified.
        :param blackbox: Classifier; it receives ``N x H x W [x C]`` batches of the image's dtype.
        :param class_index: Index of the explained class in ``blackbox.get_labels()``.
        :return: The metric's scores (and curve, for multi-step metrics).
        :raises ValueError: Image or map of a wrong shape, an all-NaN map, a class index out of range, or a map
            that carries its space (one read from an explanation) in a space this metric does not read or of other
            wavelet ``levels`` (:meth:`check_geometry`), before any black-box call.
        """
        image, values, index = self._validate(ref_image, sal_map, blackbox, class_index)
        return self._compute(image, values, blackbox, index)

    def compute_explanation(
        self,
        ref_image: np.ndarray,
        explanation: Explanation,
        blackbox: ClassifyImage,
        class_index: int,
        *,
        row: int = 0,
    ) -> FaithfulnessResult:
        """Score row ``row`` of an explanation's maps in the space this metric reads (its own space first).

        :raises ValueError: The explanation has no map in a space this metric reads (a pixel map given to a
            wavelet metric), or its map cannot be scored by this metric (:meth:`check_geometry`: a wavelet map
            of other ``levels``), before any black-box call.
        """
        space = choose_space(explanation.spaces, accepted_spaces(self))
        if space is None:
            raise ValueError(
                f"{self.name} reads {', '.join(accepted_spaces(self))} maps; this explanation has "
                f"{', '.join(explanation.spaces)} maps"
            )
        self.check_geometry(space, explanation.geometry(space))
        return self.compute(ref_image, explanation.maps_in(space)[row], blackbox, class_index)

    def check_geometry(self, space: str, geometry: dict) -> None:
        """Raise ``ValueError`` when a map of ``space`` with ``geometry`` (:meth:`Explanation.geometry`, e.g.
        ``{"levels": 3}``) cannot be scored by this metric; a study calls it to decide a metric applies.
        Any map of an accepted space is fine by default."""
        if space not in accepted_spaces(self):
            raise ValueError(f"{self.name} reads {', '.join(accepted_spaces(self))} maps, not {space!r} maps")

    def compute_many(
        self,
        images: Sequence[np.ndarray],
        sal_maps: Sequence[np.ndarray],
        blackbox: ClassifyImage,
        class_indices: Sequence[int],
    ) -> tuple[list[FaithfulnessResult], dict[str, float]]:
        """Score several maps; every input is validated before the first black-box call.

        :param images: ``n`` images (see :meth:`compute`).
        :param sal_maps: ``n`` maps, one per image.
        :param blackbox: Classifier shared by all images.
        :param class_indices: ``n`` class indices, one per image.
        :return: The ``n`` per-image results and, for each score name, its mean over images
            ignoring ``nan`` (``nan`` when every image gives ``nan``).
        """
        if not len(images) == len(sal_maps) == len(class_indices):
            raise ValueError(
                "images, sal_maps and class_indices must have the same length, got "
                f"{len(images)}, {len(sal_maps)}, {len(class_indices)}"
            )
        checked = [
            self._validate(img, sal, blackbox, idx)
            for img, sal, idx in zip(images, sal_maps, class_indices, strict=True)
        ]
        results = self._compute_many(checked, blackbox)
        means: dict[str, float] = {}
        for name in self.score_names:
            column = np.array([r.scores[name] for r in results], dtype=np.float64)
            means[name] = float(np.nanmean(column)) if np.isfinite(column).any() else float("nan")
        return results, means

    def __call__(
        self,
        ref_image: np.ndarray,
        sal_map: np.ndarray,
        blackbox: ClassifyImage,
        class_index: int,
    ) -> FaithfulnessResult:
        """Alias of :meth:`compute`."""
        return self.compute(ref_image, sal_map, blackbox, class_index)

    @property
    def name(self) -> str:
        """The implementation's class name."""
        return self.__class__.__name__

    def _validate(
        self,
        ref_image: np.ndarray,
        sal_map: np.ndarray,
        blackbox: ClassifyImage,
        class_index: int,
    ) -> tuple[np.ndarray, np.ndarray, int]:
        image = check_image(ref_image)
        check_map_space(self, sal_map)
        values = _check_map(sal_map, image.shape)
        index = _check_class_index(class_index, blackbox)
        self._check_inputs(image, values)
        return image, values, index

    def _check_inputs(self, ref_image: np.ndarray, sal_map: np.ndarray) -> None:
        """Hook for implementation-specific checks (e.g. a baseline image's shape); raise ``ValueError``."""

    def _compute_many(
        self,
        checked: list[tuple[np.ndarray, np.ndarray, int]],
        blackbox: ClassifyImage,
    ) -> list[FaithfulnessResult]:
        """Score validated ``(image, map, class_index)`` triples; override to batch across images."""
        return [self._compute(image, values, blackbox, index) for image, values, index in checked]

    @abc.abstractmethod
    def _compute(
        self,
        ref_image: np.ndarray,
        sal_map: np.ndarray,
        blackbox: ClassifyImage,
        class_index: int,
    ) -> FaithfulnessResult:
        """Score one validated map (float64 ``H' x W'``, finite) for class ``class_index``."""
