"""Shared helpers of the faithfulness tests: blackboxes, analytic models and the list of metrics."""

from __future__ import annotations

import numpy as np
import torch
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.impls.faithfulness import AverageDrop, AverageDropInDeletion, Deletion, Insertion, MuFidelity

ALL_METRICS = (Deletion, Insertion, AverageDrop, AverageDropInDeletion, MuFidelity)


class FnBlackbox(ClassifyImage):
    """Blackbox from a function ``N x H x W [x C] float64 -> N x n_labels``; records every batch it sees."""

    def __init__(self, fn, labels=("a", "b")):
        self.fn = fn
        self.labels = labels
        self.batches: list[tuple[tuple[int, ...], np.dtype]] = []

    def get_labels(self):
        return list(self.labels)

    def classify_images(self, img_iter):
        batch = np.asarray(img_iter)
        self.batches.append((batch.shape, batch.dtype))
        out = self.fn(batch.astype(np.float64))
        return iter([dict(zip(self.labels, row, strict=True)) for row in out])

    def get_config(self):
        return {}


def channel0_mean(batch: np.ndarray) -> np.ndarray:
    """Confidence of "a" = mean of channel 0: falls linearly as (positive) pixels are removed."""
    a = batch[..., 0].reshape(len(batch), -1).mean(axis=1)
    return np.stack([a, 1.0 - a], axis=1)


def constant_model(batch: np.ndarray) -> np.ndarray:
    return np.tile([0.7, 0.3], (len(batch), 1))


class TorchBlackbox(ClassifyImage):
    """Wraps a torch model (``N x C x H x W`` float32 -> softmax ``N x n``) as a ClassifyImage."""

    def __init__(self, model: torch.nn.Module, n_labels: int):
        self.model = model
        self.labels = [f"class{i}" for i in range(n_labels)]

    def get_labels(self):
        return self.labels

    def classify_images(self, img_iter):
        batch = np.asarray(img_iter)
        assert batch.dtype == np.float32 and batch.ndim == 4
        with torch.no_grad():
            out = self.model(torch.from_numpy(np.ascontiguousarray(batch.transpose(0, 3, 1, 2)))).numpy()
        return iter([dict(zip(self.labels, row.tolist(), strict=True)) for row in out])

    def get_config(self):
        return {}


def _as_torch(image: np.ndarray, sal_map: np.ndarray):
    return torch.from_numpy(image.transpose(2, 0, 1)[None].copy()), torch.from_numpy(sal_map[None, None].copy())


def _independent_deletion_curve(values_in_order: np.ndarray, n_pixels: int, start: float) -> np.ndarray:
    return start - np.concatenate([[0.0], np.cumsum(values_in_order)]) / n_pixels
