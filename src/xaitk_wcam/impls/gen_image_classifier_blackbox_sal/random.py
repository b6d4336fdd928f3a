"""Random saliency: the chance baseline every method is compared with (the "Random" method of the
CSEP 590B homework; Gomez et al. 2022 and Hooker et al. 2019 report it as the floor of every metric).
"""

from __future__ import annotations

import zlib
from collections.abc import Hashable
from typing import Any

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.interfaces.blackbox_explainer import BlackboxExplainer
from xaitk_wcam.interfaces.explanation import PIXEL, MapExplanation
from xaitk_wcam.utils.checks import check_int


class RandomSaliency(BlackboxExplainer):
    """Seeded Gaussian-noise maps, one per class label of the blackbox, scaled to ``[-1, 1]``.

    The noise is drawn from ``numpy.random.default_rng([seed, crc32(image bytes)])``: the same seed and
    image give bit-identical maps, while two different images (e.g. an image and its perturbed version)
    get independent maps, so a robustness study sees chance-level stability for this method, not a
    perfect one. Each map is divided by its maximum absolute value. The blackbox is not queried
    (0 forward passes); only its labels are counted.
    """

    def __init__(self, seed: int = 0) -> None:
        """:param seed: Non-negative int seed of the noise."""
        self.seed = check_int("seed", seed, 0)

    def evaluations(self, image_shape: tuple[int, ...], n_targets: int = 1) -> int:
        """0: the blackbox is not queried."""
        return 0

    def _explain(self, ref_image: np.ndarray, blackbox: ClassifyImage, labels: list[Hashable]) -> MapExplanation:
        """``n_classes x H x W`` float64 pixel maps in ``[-1, 1]`` (only the image's bytes and shape are used)."""
        n_classes = len(labels)
        image_key = zlib.crc32(np.ascontiguousarray(ref_image).tobytes()) ^ zlib.crc32(repr(ref_image.shape).encode())
        rng = np.random.default_rng([self.seed, image_key])
        maps = rng.standard_normal((n_classes, *ref_image.shape[:2]))
        scale = np.abs(maps).max(axis=(1, 2), keepdims=True)
        return MapExplanation({PIXEL: maps / np.where(scale > 0, scale, 1.0)}, labels)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}
