"""What every wavelet-space faithfulness metric shares: its ``wavelet`` and ``levels``, the map checks, the
coefficients of the image and the classification of images rebuilt from subsets of them.

A wavelet-space metric reads wavelet maps only (``map_spaces = ("wavelet",)``): ``H x W`` maps in the layout of
a ``levels``-level DWT of the image (WCAM's and WAM's ``wavelet_maps``), and perturbs the image by zeroing
coefficients (:class:`~xaitk_wcam.wavelets.coefficients.CoefficientImages`), never pixels. A map made with other
``levels`` (or another wavelet) orders other coefficients: :meth:`WaveletMetric.check_geometry` refuses it, from
``compute_explanation`` and from ``compute`` given a map that carries its space (an explanation's ``wavelet_maps``,
``spatial_maps`` or ``maps_in``): a pixel map is refused too. Ties in the map are broken as
:meth:`~xaitk_wcam.wavelets.coefficients.CoefficientImages.ranks` says (a constant map warns).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.interfaces.explanation import WAVELET
from xaitk_wcam.interfaces.faithfulness import FaithfulnessMetric
from xaitk_wcam.utils.checks import check_int
from xaitk_wcam.utils.confidences import classify
from xaitk_wcam.wavelets.coefficients import CoefficientImages
from xaitk_wcam.wavelets.layout import check_decomposable, check_levels
from xaitk_wcam.wavelets.transform import check_wavelet

#: Stack level of the constant-map warning of :meth:`CoefficientImages.ranks` called from ``_compute``: the caller of
#: ``compute``.
RANK_STACKLEVEL = 3


class WaveletMetric(FaithfulnessMetric):
    """Base of the wavelet-space faithfulness metrics (abstract: subclasses define ``score_names``, ``_compute``).

    :param wavelet: The wavelet the maps were computed with (WCAM's and WAM's ``wavelet``).
    :param levels: The decomposition levels of the maps (WCAM's and WAM's ``levels``).
    :param batch_size: Images per ``classify_images`` call (``>= 1``).
    """

    map_spaces = (WAVELET,)

    def __init__(self, *, wavelet: str = "haar", levels: int = 3, batch_size: int = 32) -> None:
        check_wavelet(wavelet)
        self.wavelet = wavelet
        self.levels = check_levels(levels)
        self.batch_size = check_int("batch_size", batch_size, 1)

    def get_config(self) -> dict[str, Any]:
        return {"wavelet": self.wavelet, "levels": self.levels, "batch_size": self.batch_size}

    def check_geometry(self, space: str, geometry: dict) -> None:
        """Refuse a map that is not a wavelet map, or one of other ``levels`` (or another wavelet, when known)."""
        super().check_geometry(space, geometry)
        levels, wavelet = geometry.get("levels"), geometry.get("wavelet")
        if levels is not None and int(levels) != self.levels:
            raise ValueError(
                f"{self.name} has levels={self.levels} but the wavelet map has levels={levels}: its layout orders "
                "other coefficients; configure the metric with the method's levels"
            )
        if wavelet is not None and wavelet != self.wavelet:
            raise ValueError(f"{self.name} has wavelet={self.wavelet!r} but the wavelet map was made with {wavelet!r}")

    def _check_inputs(self, ref_image: np.ndarray, sal_map: np.ndarray) -> None:
        """A wavelet map of the image's shape (a map that carries its space was checked by ``compute`` already:
        :func:`~xaitk_wcam.interfaces.explanation.check_map_space`)."""
        if sal_map.shape != ref_image.shape[:2]:
            raise ValueError(
                f"sal_map must be a wavelet-layout map of the image's shape {ref_image.shape[:2]}, got {sal_map.shape}"
            )
        check_decomposable(ref_image.shape, self.wavelet, self.levels)

    def _coefficients(self, ref_image: np.ndarray) -> CoefficientImages:
        return CoefficientImages(ref_image, wavelet=self.wavelet, levels=self.levels)

    def _classify(
        self, coefficients: CoefficientImages, keep: Iterable[np.ndarray], blackbox: ClassifyImage
    ) -> np.ndarray:
        """Confidences of every label for the images rebuilt from each row of ``keep`` (``n x Hp*Wp`` booleans),
        ``batch_size`` images per call: ``n x n_labels``."""
        rows = np.asarray(keep)

        def batches() -> Iterator[np.ndarray]:
            for start in range(0, len(rows), self.batch_size):
                yield coefficients.images(rows[start : start + self.batch_size])

        return classify(blackbox, batches(), probabilities=not self.takes_scores)
