"""Turn the image containers the adapters accept into ``N x C x H x W`` torch batches, without copies
where possible."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

__all__ = ["check_pixel_values", "chw_batches", "hwc_batches", "tensor_from_numpy"]

_CHANNELS = (1, 2, 3, 4)


def tensor_from_numpy(array: np.ndarray) -> torch.Tensor:
    """Zero-copy ``torch.from_numpy`` that accepts read-only and negatively strided arrays.

    :param array: uint8 or floating array.
    :raises ValueError: For other dtypes.
    """
    if not (array.dtype == np.uint8 or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(f"images: expected dtype uint8 or floating; got {array.dtype}")
    if any(s < 0 for s in array.strides):
        array = np.ascontiguousarray(array)
    with warnings.catch_warnings():
        # Read-only arrays are never written to: every preprocessing step returns a new tensor.
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(array)


#: How far outside ``[0, 1]`` a floating image may stray (resampling overshoot) before it is refused.
FLOAT_SLACK = 1e-3


def check_pixel_values(images: torch.Tensor) -> None:
    """Refuse a batch outside the adapters' pixel convention: ``uint8`` in ``[0, 255]``, or floating in ``[0, 1]``
    (within :data:`FLOAT_SLACK`) without NaN. A float image in ``[0, 255]`` would be read 255 times too bright, and a
    NaN image gives whatever the model makes of NaN; both are ``ValueError`` before the model runs. The one check of
    the HuggingFace classifier and detector and the CenterNet detector.

    :raises ValueError: Another dtype, a value outside ``[0, 1]`` or NaN (the message gives the range found).
    """
    if images.dtype == torch.uint8:
        return
    if not images.is_floating_point():
        raise ValueError(f"images: expected dtype uint8 or floating; got {images.dtype}")
    if not images.numel():
        return
    with torch.no_grad():
        low, high = (float(v) for v in torch.aminmax(images.detach()))  # NaN propagates
    if not (low >= -FLOAT_SLACK and high <= 1.0 + FLOAT_SLACK):
        found = "NaN" if np.isnan(low) or np.isnan(high) else f"values in [{low:.4g}, {high:.4g}]"
        raise ValueError(
            f"images: floating images must lie in [0, 1] (uint8 / 255) without NaN; got {found}. Pass uint8 images "
            "for the [0, 255] range."
        )


def _as_tensor(image: Any) -> torch.Tensor:
    if isinstance(image, torch.Tensor):
        return image
    return tensor_from_numpy(np.asarray(image))


def _check_hwc(shape: tuple[int, ...], where: str) -> None:
    if len(shape) not in (2, 3) or (len(shape) == 3 and shape[-1] not in _CHANNELS):
        raise ValueError(f"{where}: expected an H x W or H x W x C image with C in {_CHANNELS}; got shape {shape}")


def _check_chw(shape: tuple[int, ...], where: str) -> None:
    if len(shape) != 3 or shape[0] not in _CHANNELS:
        raise ValueError(f"{where}: expected a C x H x W image with C in {_CHANNELS}; got shape {shape}")


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _runs(tensors: Sequence[torch.Tensor]) -> Iterator[torch.Tensor]:
    """Stack consecutive tensors of equal shape and dtype into one batch each."""
    start = 0
    for i in range(1, len(tensors) + 1):
        if i == len(tensors) or tensors[i].shape != tensors[start].shape or tensors[i].dtype != tensors[start].dtype:
            yield torch.stack(list(tensors[start:i])) if i - start > 1 else tensors[start][None]
            start = i


def _chunk_runs(
    images: Any, batch_size: int, to_chw: Callable[[int, Any], torch.Tensor]
) -> Iterator[list[torch.Tensor]]:
    """Chunks of ``batch_size`` images of an iterable, each as runs of equal-shape ``n x C x H x W`` tensors."""
    for chunk in _chunks(images, batch_size):
        yield list(_runs([to_chw(k, image) for k, image in enumerate(chunk)]))


def hwc_batches(images: Any, batch_size: int) -> Iterator[list[torch.Tensor]]:
    """Group ``H x W x C`` images into ``N x C x H x W`` batches (views of the input where possible).

    :param images: An ``N x H x W x C`` or ``N x H x W`` array/tensor (a stacked batch), or an iterable of
        ``H x W x C`` / ``H x W`` arrays or tensors.
    :param batch_size: Maximum images per yielded chunk.
    :return: For each chunk of at most ``batch_size`` images, a list of ``n x C x H x W`` tensors (one per
        run of consecutive images with equal shape and dtype; a single tensor for stacked input).
    :raises ValueError: Wrong rank, channel count or dtype.
    """
    if isinstance(images, (np.ndarray, torch.Tensor)):
        shape = tuple(images.shape)
        if len(shape) not in (3, 4) or (len(shape) == 4 and shape[-1] not in _CHANNELS):
            raise ValueError(
                "images: expected a stacked batch N x H x W x C (C in 1, 2, 3, 4) or N x H x W, or an iterable "
                f"of H x W [x C] images; got an array of shape {shape}"
            )
        batch = _as_tensor(images)
        batch = batch[..., None] if batch.ndim == 3 else batch
        batch = batch.permute(0, 3, 1, 2)
        for start in range(0, batch.shape[0], batch_size):
            yield [batch[start : start + batch_size]]
        return

    def chw(k: int, image: Any) -> torch.Tensor:
        t = _as_tensor(image)
        _check_hwc(tuple(t.shape), f"images[{k}] of the chunk")
        return (t[..., None] if t.ndim == 2 else t).permute(2, 0, 1)

    yield from _chunk_runs(images, batch_size, chw)


def chw_batches(images: Any, batch_size: int) -> Iterator[list[torch.Tensor]]:
    """Like :func:`hwc_batches` for MAITE inputs: an ``N x C x H x W`` array or a sequence of
    ``C x H x W`` arrays."""
    if isinstance(images, (np.ndarray, torch.Tensor)) or (
        hasattr(images, "__array__") and not isinstance(images, (list, tuple))
    ):
        batch = _as_tensor(images)
        if batch.ndim != 4 or batch.shape[1] not in _CHANNELS:
            raise ValueError(
                "batch: expected N x C x H x W (C in 1, 2, 3, 4) or a sequence of C x H x W images; got an array "
                f"of shape {tuple(batch.shape)}"
            )
        for start in range(0, batch.shape[0], batch_size):
            yield [batch[start : start + batch_size]]
        return

    def chw(k: int, image: Any) -> torch.Tensor:
        t = _as_tensor(image)
        _check_chw(tuple(t.shape), f"batch[{k}] of the chunk")
        return t

    yield from _chunk_runs(images, batch_size, chw)
