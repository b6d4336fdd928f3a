"""Stability test helpers: a tiny torch classifier, its gradient explainer in both layouts, Quantus adapters."""

from __future__ import annotations

import numpy as np
import torch


class TinyNet(torch.nn.Module):
    """3 x 8 x 8 images -> 3 logits: conv, ReLU, pooling, a named ``fc`` head."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.fc = torch.nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.nn.functional.adaptive_avg_pool2d(torch.relu(self.conv(x)), 2).flatten(1)
        return self.fc(h)


def gradient_maps(model: torch.nn.Module, chw: np.ndarray, target: int) -> np.ndarray:
    """``N x H x W`` vanilla gradients of logit ``target``, summed over channels (``N x C x H x W`` input)."""
    x = torch.tensor(np.asarray(chw, dtype=np.float32), requires_grad=True)
    model(x)[:, target].sum().backward()
    return x.grad.sum(dim=1).double().numpy()


def hwc_explainer(model: torch.nn.Module, target: int):
    """The explainer as this package's callables take it: ``N x H x W x C`` in ``[0, 1]`` -> ``N x H x W``."""
    return lambda batch: gradient_maps(model, np.moveaxis(batch, -1, 1), target)


def hwc_predictor(model: torch.nn.Module):
    """The model as a callable: ``N x H x W x C`` -> ``N x 3`` logits."""

    def predict(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.Tensor(np.moveaxis(batch, -1, 1))).double().numpy()

    return predict


def quantus_explainer(model_fn):
    """A Quantus ``explain_func`` computing the same maps on ``N x C x H x W`` inputs (``N x 1 x H x W`` out)."""

    def explain_func(model, inputs, targets, **kwargs):
        return gradient_maps(model_fn, inputs, int(np.asarray(targets).ravel()[0]))[:, None]

    return explain_func


def replaying(draws: list[np.ndarray]):
    """A Quantus ``perturb_func`` that returns ``draws`` (``H x W x C`` each) in order, in its channel-first layout."""
    queue = [np.moveaxis(d, -1, 0).reshape(1, -1) for d in draws]

    def perturb_func(arr, indices, **kwargs):
        return queue.pop(0).copy()

    return perturb_func
