"""The black-box half of every Sobol attribution method: stream the design through a classifier.

WCAM (masks on wavelet coefficients), pixel-space Sobol (Fel et al. 2021) and Fourier-Sobol differ
only in how a ``g x g`` mask becomes a perturbed image. This module owns everything else: the design,
the batch loop, handing images to the blackbox in the input's dtype and range (alpha untouched), reading
its confidences in label order, and the total-order estimator.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import torch
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.interfaces.blackbox_explainer import BlackboxExplainer
from xaitk_wcam.sobol import ESTIMATORS, SobolDesign, check_nb_design
from xaitk_wcam.utils.checks import check_int
from xaitk_wcam.utils.confidences import read_confidences
from xaitk_wcam.utils.images import split_alpha, to_input_dtype, value_range

#: Perturbed images built and cast together (a few MB of float32 at 224 x 224 x 3).
_CAST_CHUNK = 8

#: Classes per block of the estimator (bounds its temporaries to d x N x 64 floats).
_CLASS_BLOCK = 64

# masks (n x g x g float32) -> perturbed colour images (n x H x W x C' float32, the input's units)
Perturber = Callable[[torch.Tensor], torch.Tensor]


class SobolSaliency(BlackboxExplainer):
    """The keywords every Sobol method shares, validated; subclasses add theirs and the mask -> image step.

    :param grid_size: Side ``g`` of the grid of Sobol variables (``g**2`` variables).
    :param nb_design: Sobol design size ``N`` (a power of two); cost ``N * (g**2 + 2)`` forward passes.
    :param estimator: Total-order estimator: ``"jansen"``, ``"homma"`` or ``"janon"``.
    :param batch_size: Perturbed images per call to ``blackbox.classify_images``.
    :param seed: Seed of the Sobol scrambling; the same seed gives bit-identical maps.
    """

    def __init__(self, *, grid_size: int, nb_design: int, estimator: str, batch_size: int, seed: int) -> None:
        self.grid_size = check_int("grid_size", grid_size, 1)
        check_nb_design(nb_design)
        if not isinstance(estimator, str) or estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {sorted(ESTIMATORS)}, got {estimator!r}")
        self.nb_design, self.estimator = int(nb_design), estimator
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.seed = check_int("seed", seed, 0)

    @property
    def n_evaluations(self) -> int:
        """Forward passes per explanation: ``nb_design * (grid_size**2 + 2)``."""
        return self.nb_design * (self.grid_size**2 + 2)

    def get_config(self) -> dict[str, Any]:
        return {
            "grid_size": self.grid_size,
            "nb_design": self.nb_design,
            "estimator": self.estimator,
            "batch_size": self.batch_size,
            "seed": self.seed,
        }

    def _total_indices(
        self, image: np.ndarray, blackbox: ClassifyImage, labels: list[Hashable], perturb: Perturber
    ) -> tuple[np.ndarray, int]:
        """:func:`sobol_total_indices` with this method's keywords."""
        return sobol_total_indices(
            image,
            blackbox,
            labels,
            perturb,
            grid_size=self.grid_size,
            nb_design=self.nb_design,
            seed=self.seed,
            estimator=self.estimator,
            batch_size=self.batch_size,
        )


def normalise_max(maps: np.ndarray) -> np.ndarray:
    """Clip each map at 0 and divide it by its maximum (all-zero maps stay zero): float32 in ``[0, 1]``.

    Works in place when ``maps`` is already float32 and non-negative (large class stacks).
    """
    maps = maps.astype(np.float32, copy=False)
    np.clip(maps, 0.0, None, out=maps)
    peak = maps.reshape(len(maps), -1).max(axis=1, initial=0.0)
    np.divide(maps, np.where(peak > 0, peak, 1.0)[:, None, None], out=maps)
    return maps


def check_blackbox(blackbox: object) -> list[Hashable]:
    """The blackbox's labels, after checking it is a ``ClassifyImage``."""
    if not isinstance(blackbox, ClassifyImage):
        raise TypeError(f"blackbox must be a smqtk_classifier.ClassifyImage, got {type(blackbox).__name__}")
    return list(blackbox.get_labels())


def sobol_total_indices(
    image: np.ndarray,
    blackbox: ClassifyImage,
    labels: list[Hashable],
    perturb: Perturber,
    *,
    grid_size: int,
    nb_design: int,
    seed: int,
    estimator: str,
    batch_size: int,
) -> tuple[np.ndarray, int]:
    """Total Sobol index of every mask cell for every class, and the number of blackbox evaluations.

    :param image: Validated ``H x W [x C]`` image.
    :param perturb: Maps a batch of masks to perturbed colour images (alpha is split off before and
        re-attached after); float, in ``image``'s units, any range (clipped here).
    :return: ``(K x grid_size x grid_size indices, n_evaluations)``.
    """
    _, alpha = split_alpha(image)
    low, high = value_range(image)
    design = SobolDesign(grid_size**2, nb_design, seed)
    outputs = np.empty((len(design), len(labels)), dtype=np.float32)  # 25 MB for 6,288 x 1000 classes
    for start in range(0, len(design), batch_size):
        masks = torch.from_numpy(design.rows(start, start + batch_size)).view(-1, grid_size, grid_size)
        # Perturb and cast a few images at a time, so the float images are cast while still in cache.
        batch = np.concatenate(
            [
                to_input_dtype(perturb(masks[i : i + _CAST_CHUNK]).contiguous(), image, low, high)
                for i in range(0, len(masks), _CAST_CHUNK)
            ]
        )
        if alpha is not None:
            batch = np.concatenate([batch, np.broadcast_to(alpha, (*batch.shape[:3], 1))], axis=-1)
        elif image.ndim == 2:
            batch = batch[..., 0]
        outputs[start : start + len(batch)] = read_confidences(blackbox.classify_images(batch), labels, len(batch))

    constant = ~(np.ptp(outputs, axis=0) > 0)
    if constant.any():
        warnings.warn(
            f"blackbox output does not vary for {int(constant.sum())} of {len(labels)} classes; "
            "their maps are all zero",
            RuntimeWarning,
            stacklevel=3,
        )
    # The estimator works in float64 on blocks of classes, so its d x N x K temporaries stay small.
    step = _CLASS_BLOCK
    indices = np.concatenate(
        [ESTIMATORS[estimator](outputs[:, k : k + step], nb_design) for k in range(0, len(labels), step)], axis=1
    )  # d x K
    return indices.T.reshape(len(labels), grid_size, grid_size), len(outputs)
