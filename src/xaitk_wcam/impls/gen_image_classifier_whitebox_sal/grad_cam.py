"""GradCAM through Captum (Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization", ICCV 2017).

GradCAM differentiates the class score with respect to a convolutional feature map ``A`` (not the
input), averages the gradients over space into one weight per channel and returns
``ReLU(sum_k weight_k A_k)``: a coarse ``h x w`` map (Captum ``LayerGradCam``).

Back onto the image: the map is upsampled bilinearly to the model's input grid ``H' x W'``
(Captum ``LayerAttribution.interpolate``), then carried onto the image grid ``H x W`` through the
adjoint of the classifier's own preprocessing (its resize and crop are linear in the pixels: the
adjoint of a centre crop is zero padding, that of a resize a resampling, and the per-channel
normalisation only scales the result). The map therefore aligns with the input image; pixels the
preprocessing crops away get 0, as they do for the gradient methods. With ``relu`` the carried map is
clipped at 0 again (the adjoint of a bicubic resize has small negative lobes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from xaitk_wcam.impls.gen_image_classifier_whitebox_sal._captum import MODEL_OUTPUTS, CaptumSaliency
from xaitk_wcam.interfaces.whitebox import WhiteboxClassifier
from xaitk_wcam.utils.checks import check_choice


def _conv_names(model: nn.Module) -> list[str]:
    return [name for name, module in model.named_modules() if isinstance(module, nn.Conv2d)]


def _contains(ancestor: str, name: str) -> bool:
    return ancestor == "" or name == ancestor or name.startswith(ancestor + ".")


def _record_outputs(model: nn.Module, run: Callable[[], Any]) -> list[tuple[str, tuple[int, ...] | None]]:
    """Run ``run`` with hooks on every module: ``(name, output shape or None)`` in completion order."""
    records: list[tuple[str, tuple[int, ...] | None]] = []
    handles = []
    for name, module in model.named_modules():

        def hook(_module: nn.Module, _inputs: Any, output: Any, name: str = name) -> None:
            records.append((name, tuple(output.shape) if isinstance(output, torch.Tensor) else None))

        handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            run()
    finally:
        for handle in handles:
            handle.remove()
    return records


def default_layer(records: list[tuple[str, tuple[int, ...] | None]], conv_names: list[str]) -> str:
    """The last convolutional stage: the module holding a ``Conv2d`` whose ``N x C x h x w`` output is
    produced last, provided everything after it is spatially global (pooling and the classifier head).

    :raises ValueError: No convolution, or one followed by non-global layers (a ViT's patch embedding).
    """
    candidate = None
    for position, (name, shape) in enumerate(records):
        if name and shape is not None and len(shape) == 4 and any(_contains(name, c) for c in conv_names):
            candidate = position
    if candidate is None:
        raise ValueError(
            "GradCAM: the model has no convolutional layer with an N x C x h x w output (e.g. a ViT); "
            "pass layer= the dotted name of a module that outputs a feature map"
        )
    chosen = records[candidate][0]
    for name, shape in records[candidate + 1 :]:
        if _contains(name, chosen) or shape is None:
            continue
        if len(shape) >= 3 and int(torch.tensor(shape[2:]).prod()) > 1:
            raise ValueError(
                f"GradCAM: the last convolutional layer {chosen!r} is followed by {name!r} whose output "
                f"{shape} is not spatially pooled (a transformer such as ViT has no convolutional stage); "
                "pass layer= the dotted name of a module that outputs a feature map"
            )
    return chosen


class GradCAM(CaptumSaliency):
    """Gradient-weighted Class Activation Mapping of one convolutional layer (Selvaraju et al. 2017).

    Cost: one forward and one backward pass for all classes, plus one forward pass to find and check
    the layer and one pass through the preprocessing to carry the map back onto the image.

    :param layer: Dotted name of the module in ``classifier.model`` whose output feature map is used
        (``model.get_submodule(layer)``), e.g. ``"resnet.encoder.stages.3"``; ``None`` (default): the last
        convolutional stage, i.e. the module containing a ``Conv2d`` whose ``N x C x h x w`` output comes
        last, when only global pooling and the head follow it (a ViT raises ``ValueError``).
    :param relu: Keep only positive evidence (``True``, Selvaraju et al.); maps are then in ``[0, 1]``.
    :param output: ``"logit"`` (default: Selvaraju et al. differentiate the pre-softmax score) or
        ``"probability"``.
    """

    def __init__(self, *, layer: str | None = None, relu: bool = True, output: str = "logit") -> None:
        super().__init__(output=output, reduction=None)
        if layer is not None and (not isinstance(layer, str) or not layer):
            raise ValueError(f"layer must be None or a non-empty dotted module name, got {layer!r}")
        if not isinstance(relu, bool):
            raise TypeError(f"relu must be a bool, got {type(relu).__name__}")
        self.layer, self.relu = layer, relu
        check_choice("output", output, MODEL_OUTPUTS)

    def get_config(self) -> dict[str, Any]:
        return {"layer": self.layer, "relu": self.relu, "output": self.output}

    def _check_classifier(self, classifier: WhiteboxClassifier) -> None:
        if not isinstance(classifier.model, nn.Module):
            raise TypeError(f"GradCAM needs classifier.model to be a torch.nn.Module, got {type(classifier.model)}")
        if self.layer is not None:
            try:
                classifier.model.get_submodule(self.layer)
            except AttributeError as error:
                examples = _conv_names(classifier.model)[-3:]
                raise ValueError(
                    f"layer={self.layer!r} is not a module of classifier.model; expected a dotted name from "
                    f"model.named_modules(), e.g. {examples}"
                ) from error

    def _attribute(
        self,
        inputs: torch.Tensor,
        forward: Callable[[torch.Tensor], torch.Tensor],
        targets: list[int],
        classifier: WhiteboxClassifier,
    ) -> torch.Tensor:
        from captum.attr import LayerGradCam

        model = classifier.model
        records = _record_outputs(model, lambda: forward(inputs[:1]))
        name = self.layer if self.layer is not None else default_layer(records, _conv_names(model))
        shapes = [shape for record, shape in records if record == name]
        if not shapes or shapes[-1] is None or len(shapes[-1]) != 4:
            found = "is not called by the model's forward" if not shapes else f"outputs {shapes[-1]}"
            raise ValueError(f"layer={name!r} {found}; GradCAM needs a module with an N x C x h x w output")

        cams = LayerGradCam(forward, model.get_submodule(name)).attribute(
            inputs, target=targets, relu_attributions=self.relu
        )  # K x 1 x h x w
        maps = self._onto_image(cams.detach(), inputs.detach(), classifier)
        # A bicubic resize has negative lobes, so its adjoint can dip below 0 next to strong positive
        # evidence; with relu the map is kept non-negative.
        return maps.clamp_min(0.0) if self.relu else maps

    @staticmethod
    def _onto_image(cams: torch.Tensor, inputs: torch.Tensor, classifier: WhiteboxClassifier) -> torch.Tensor:
        """``K x 1 x h x w`` layer maps -> ``K x 1 x H x W`` maps on the image grid (see the module doc)."""
        from captum.attr import LayerAttribution

        probe = torch.full_like(inputs, 0.5, requires_grad=True)  # any image: the geometry is linear
        with torch.enable_grad():
            pixels = classifier.preprocess(probe, channels_first=True)  # K x C' x H' x W'
            upsampled = LayerAttribution.interpolate(cams.to(pixels.dtype), tuple(pixels.shape[-2:]), "bilinear")
            (adjoint,) = torch.autograd.grad(pixels, probe, grad_outputs=upsampled.expand_as(pixels))
        return adjoint.sum(dim=1, keepdim=True)
