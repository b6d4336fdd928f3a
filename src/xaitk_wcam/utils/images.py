"""Validation of input images and conversion of perturbed images back to the input's dtype and range.

Perturbed images are sent to a blackbox in the dtype and value range of the image they come from:
values are clipped, never min-max rescaled per image (rescaling changes brightness and contrast).
The range is the dtype's range for integer images and ``[min(0, image.min()), max(1, image.max())]``
for float images, so ``[0, 1]`` images stay in ``[0, 1]`` and ``[0, 255]`` float images in ``[0, 255]``.
"""

from __future__ import annotations

import numpy as np
import torch


def value_range(image: np.ndarray) -> tuple[float, float]:
    """The range perturbed versions of ``image`` are clipped to (see the module docstring)."""
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        return float(info.min), float(info.max)
    return min(0.0, float(image.min())), max(1.0, float(image.max()))


def split_alpha(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``H x W x C`` image -> (colour channels ``H x W x C'``, alpha ``H x W x 1`` or None).

    A 2-channel image is gray + alpha and a 4-channel image RGBA; alpha is not image content, so
    explanations leave it untouched.
    """
    if image.ndim == 3 and image.shape[2] in (2, 4):
        return image[..., :-1], image[..., -1:]
    return (image if image.ndim == 3 else image[..., None]), None


def to_input_dtype(images: torch.Tensor, like: np.ndarray, low: float, high: float) -> np.ndarray:
    """Clip float ``N x H x W x C`` images to ``[low, high]`` and cast to ``like.dtype`` (rounding integers).

    Works in place on ``images``.
    """
    out = np.empty(images.shape, dtype=like.dtype)
    write_input_dtype(images, torch.from_numpy(out), low, high)
    return out


def write_input_dtype(images: torch.Tensor, out: torch.Tensor, low: float, high: float) -> None:
    """Clip float images to ``[low, high]`` and write them into ``out`` in its dtype (rounding half up to
    integers). Works in place on ``images``; either may be a strided view (a crop, some channels).
    """
    images.clamp_(low, high)
    if not out.is_floating_point():
        images.add_(0.5)  # round half up: the cast truncates toward zero
        if low < 0:
            images.floor_()
    out.copy_(images)
