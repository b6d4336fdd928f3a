"""Internal representations of a white-box model, for Relative Representation Stability (Agarwal et al. 2022).

A representation is the flattened output of a named module (a torch forward hook, as Quantus 0.6's
``get_hidden_representations``), or, with ``layer=None``, the flattened *input* of the classification head: the
penultimate features. The head is the model's ``classifier`` module when it has one (every HuggingFace image
classifier of ``transformers`` this package was tried with: ResNet, ConvNeXt, ViT, EfficientNet-Lite0), else its
last ``torch.nn.Linear``.

- :func:`representations` runs one forward pass and returns the representations;
- :func:`capture_representations` records them during forward passes the caller makes anyway (a study's own
  classification of the item: no extra forward pass).

The model is a ``torch.nn.Module`` (fed the batch as given, as a float tensor of its parameters' dtype) or a
white-box classifier (:class:`~xaitk_wcam.interfaces.whitebox.WhiteboxClassifier`, e.g.
``HuggingFaceImageClassifier``: fed ``N x H x W [x C]`` images through its own ``preprocess``). A black-box
classifier exposes no representation: ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from xaitk_wcam.interfaces.whitebox import WhiteboxClassifier

__all__ = ["RepresentationRecorder", "capture_representations", "head_module", "representations"]


def _module_of(model: Any) -> Any:
    """The torch module of ``model``, or ``TypeError`` naming what is accepted."""
    import torch

    if isinstance(model, torch.nn.Module):
        return model
    if isinstance(model, WhiteboxClassifier) and isinstance(model.model, torch.nn.Module):
        return model.model
    raise TypeError(
        "an internal representation needs a white-box model: a torch.nn.Module or a classifier exposing model, "
        f"preprocess and get_labels (e.g. HuggingFaceImageClassifier); a black box has none, got {type(model).__name__}"
    )


def head_module(module: Any) -> Any:
    """The classification head of ``module``: its ``classifier`` submodule, else its last ``torch.nn.Linear``.

    :raises ValueError: Neither exists (name a ``layer`` instead).
    """
    import torch

    head = getattr(module, "classifier", None)
    if isinstance(head, torch.nn.Module):
        return head
    linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        raise ValueError(
            f"{type(module).__name__} has no 'classifier' module and no torch.nn.Linear: pass layer=<module name> "
            "(one of model.named_modules())"
        )
    return linears[-1]


def _layer(module: Any, layer: str | None) -> tuple[Any, bool]:
    """``(submodule, read_input)``: the named module (its output is read) or the head (its input is read)."""
    if layer is None:
        return head_module(module), True
    if not isinstance(layer, str) or not layer:
        raise TypeError(f"layer must be a module name (str) or None, got {layer!r}")
    named = dict(module.named_modules())
    if layer not in named:
        some = [name for name in named if name][:8]
        raise ValueError(f"layer={layer!r} is no module of {type(module).__name__}; accepted: names such as {some}")
    return named[layer], False


def _as_array(value: Any, where: str) -> np.ndarray:
    """A hooked tensor (or the first tensor of a tuple / model output) as a float64 ``N x D`` array."""
    import torch

    if not isinstance(value, torch.Tensor):
        items = value.to_tuple() if hasattr(value, "to_tuple") else value
        tensors = [v for v in items if isinstance(v, torch.Tensor)] if isinstance(items, (tuple, list)) else []
        if not tensors:
            raise TypeError(f"the {where} is no tensor (got {type(value).__name__}); name another layer")
        value = tensors[0]
    array = value.detach().cpu().numpy().astype(np.float64)
    return array.reshape(array.shape[0], -1)


class RepresentationRecorder:
    """What :func:`capture_representations` recorded: one ``n x D`` chunk per forward call of the layer."""

    def __init__(self) -> None:
        self.chunks: list[np.ndarray] = []

    def value(self) -> np.ndarray:
        """The recorded representations, rows in forward order: ``N x D`` float64.

        :raises RuntimeError: Nothing was recorded (no torch forward pass ran through the layer: e.g. a classifier
            on the ONNX Runtime backend).
        """
        if not self.chunks:
            raise RuntimeError(
                "no representation was recorded: no torch forward pass ran through the layer (an ONNX Runtime "
                "backend bypasses torch; use backend='torch')"
            )
        return np.concatenate(self.chunks)

    def clear(self) -> None:
        """Forget what was recorded."""
        self.chunks.clear()


@contextmanager
def capture_representations(model: Any, *, layer: str | None = None) -> Iterator[RepresentationRecorder]:
    """Record the representations of every forward pass of ``model`` inside the ``with`` block.

    The layer must run once per forward pass (rows are stacked in call order). The hook is removed on exit, also
    on an exception.

    :param model: A ``torch.nn.Module`` or a white-box classifier (its ``model``); a black box is a ``TypeError``.
    :param layer: A module name (its output is recorded) or ``None`` (the classification head's input).
    :raises ValueError: No such layer, or no head found for ``layer=None``.
    """
    module = _module_of(model)
    target, read_input = _layer(module, layer)
    recorder = RepresentationRecorder()
    where = "head's input" if read_input else f"output of {layer!r}"
    if read_input:
        handle = target.register_forward_pre_hook(lambda _m, args: recorder.chunks.append(_as_array(args, where)))
    else:
        handle = target.register_forward_hook(lambda _m, _a, out: recorder.chunks.append(_as_array(out, where)))
    try:
        yield recorder
    finally:
        handle.remove()


def representations(model: Any, images: Any, *, layer: str | None = None) -> np.ndarray:
    """``N x D`` float64 representations of ``images``: one forward pass without gradients.

    :param model: A ``torch.nn.Module`` (``images`` is its input batch, numpy or tensor, converted to a float tensor
        of its parameters' dtype and device) or a white-box classifier (``images``: ``N x H x W [x C]``, ``uint8``
        or float in ``[0, 1]``, through its ``preprocess``). A black box is a ``TypeError``.
    :param layer: A module name (its output; several calls in one pass are concatenated, as Quantus does) or
        ``None`` (the classification head's input, the penultimate features).
    :raises ValueError: No such layer, or no head for ``layer=None``.
    """
    import torch

    module = _module_of(model)
    with capture_representations(model, layer=layer) as recorder, torch.no_grad():
        if isinstance(model, torch.nn.Module):
            parameter = next(module.parameters(), None)
            dtype = parameter.dtype if parameter is not None else torch.float32
            device = parameter.device if parameter is not None else torch.device("cpu")
            module(torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images)
                   .to(device=device, dtype=dtype))  # fmt: skip
        else:
            module(model.preprocess(images))
    if not recorder.chunks:
        raise RuntimeError(f"the layer ({layer or 'classification head'}) did not run in the forward pass")
    return np.concatenate(recorder.chunks, axis=1)
