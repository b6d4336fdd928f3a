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

from xaitk_wcam.sobol import ESTIMATORS, SobolDesign
from xaitk_wcam.utils.images import split_alpha, to_input_dtype, value_range

# masks (n x g x g float32) -> perturbed colour images (n x H x W x C' float32, the input's units)
Perturber = Callable[[torch.Tensor], torch.Tensor]


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
    outputs = np.empty((len(design), len(labels)), dtype=np.float64)
    for start in range(0, len(design), batch_size):
        masks = torch.from_numpy(design.rows(start, start + batch_size)).view(-1, grid_size, grid_size)
        batch = to_input_dtype(perturb(masks).contiguous(), image, low, high)
        if alpha is not None:
            batch = np.concatenate([batch, np.broadcast_to(alpha, (*batch.shape[:3], 1))], axis=-1)
        elif image.ndim == 2:
            batch = batch[..., 0]
        outputs[start : start + len(batch)] = _confidences(blackbox.classify_images(batch), labels, len(batch))

    constant = ~(np.ptp(outputs, axis=0) > 0)
    if constant.any():
        warnings.warn(
            f"blackbox output does not vary for {int(constant.sum())} of {len(labels)} classes; "
            "their maps are all zero",
            RuntimeWarning,
            stacklevel=3,
        )
    indices = ESTIMATORS[estimator](outputs, nb_design)  # d x K
    return indices.T.reshape(len(labels), grid_size, grid_size), len(outputs)


def _confidences(results: Any, labels: list, expected: int) -> np.ndarray:
    """Blackbox label->confidence dicts -> ``n x K`` array in label order."""
    rows = []
    for result in results:
        try:
            rows.append([result[label] for label in labels])
        except KeyError as error:
            missing = [label for label in labels if label not in result]
            raise ValueError(
                f"blackbox result lacks {len(missing)} label(s) of get_labels(), e.g. {missing[:5]}; "
                "classify_images must return a confidence for every label"
            ) from error
    if len(rows) != expected:
        raise ValueError(f"blackbox returned {len(rows)} results for a batch of {expected} images")
    return np.asarray(rows, dtype=np.float64)
