"""Relative Input, Output and Representation Stability (Agarwal et al. 2022) of one (reference, perturbed) pair.

Agarwal, Johnson, Pawelczyk, Krishna, Saxena, Zitnik and Lakkaraju, "Rethinking Stability for Attribution-based
Explanations", ICLR 2022 PAIR^2Struct workshop, arXiv:2203.06877. The relative change of the explanation
``||(e_x - e_x') / e_x||_2`` divided by the relative change of the input, the change of the model's output, or the
relative change of an internal representation. The objectives, ``eps_min`` and norms are those of Quantus 0.6
(``relative_input_stability_objective``, ``relative_output_stability_objective``,
``relative_representation_stability_objective``): a zero entry of a divisor is replaced by ``eps_min``, a zero
denominator norm by ``eps_min``, and every norm is the L2 norm over all entries.

Per pair, not Quantus' maximum: Agarwal et al. and Quantus take the maximum of the objective over their own noise
draws around ``x``; here ``x'`` is whatever perturbation the caller made (a study's blur or noise, one row each),
so a blur and a noise sweep land on one scale, and the maximum (or any other aggregate) over the caller's
perturbations is the caller's choice. With one draw, Quantus' value equals this one (a test checks it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xaitk_wcam.interfaces.stability import RelativeStabilityMetric

__all__ = ["RelativeInputStability", "RelativeOutputStability", "RelativeRepresentationStability"]


class _Relative(RelativeStabilityMetric):
    def get_config(self) -> dict[str, Any]:
        return {"eps_min": self.eps_min, "nan_when_prediction_changes": self.nan_when_prediction_changes}


class RelativeInputStability(_Relative):
    """RIS: ``||(e_x - e_x') / e_x||_2 / max(||(x - x') / x||_2, eps_min)`` for one pair; lower is more stable.

    Agarwal et al. 2022, Eq. 2 (without the maximum over ``x'``, see the module doc); Quantus 0.6's
    ``relative_input_stability_objective``. ``x`` is the reference image and ``e_x`` its map, both as given by the
    caller (images as float in ``[0, 1]``). Needs the two images; costs nothing beyond them.

    :param eps_min: Replaces a zero entry of ``e_x`` or ``x`` and a zero denominator norm (Quantus: ``1e-6``).
    :param nan_when_prediction_changes: ``nan`` when the top class of the perturbed image's output differs from the
        reference's (Quantus' ``return_nan_when_prediction_changes``, whose default is ``True``); then the outputs
        are needed too.
    """

    needs = frozenset({"images"})

    def _compute(self, explanation: np.ndarray, reference_explanation: np.ndarray, inputs: dict) -> float:
        x_perturbed, x = inputs["images"]
        change = (x - x_perturbed) / (x + (x == 0) * self.eps_min)
        denominator = self.nonzero(float(np.linalg.norm(change.ravel())))
        return self.relative_map_change(explanation, reference_explanation) / denominator


class RelativeOutputStability(_Relative):
    """ROS: ``||(e_x - e_x') / e_x||_2 / max(||h(x) - h(x')||_2, eps_min)`` for one pair; lower is more stable.

    Agarwal et al. 2022, Eq. 5 (without the maximum over ``x'``, see the module doc); Quantus 0.6's
    ``relative_output_stability_objective``: the output change is absolute, not relative. ``h`` is the model's
    output vector: logits in the paper and in Quantus; an smqtk classifier gives probabilities, whose changes are
    smaller, so the value is larger: compare values computed on the same kind of output. Needs the two outputs.

    :param eps_min: Replaces a zero entry of ``e_x`` and a zero denominator norm (Quantus: ``1e-6``).
    :param nan_when_prediction_changes: ``nan`` when the top class changes (Quantus' default: ``True``).
    """

    needs = frozenset({"outputs"})

    def _compute(self, explanation: np.ndarray, reference_explanation: np.ndarray, inputs: dict) -> float:
        h_perturbed, h = inputs["outputs"]
        denominator = self.nonzero(float(np.linalg.norm(h - h_perturbed)))
        return self.relative_map_change(explanation, reference_explanation) / denominator


class RelativeRepresentationStability(_Relative):
    """RRS: ``||(e_x - e_x') / e_x||_2 / max(||(L(x) - L(x')) / L(x)||_2, eps_min)`` for one pair; lower is more
    stable.

    Agarwal et al. 2022, Eq. 3 (without the maximum over ``x'``, see the module doc); Quantus 0.6's
    ``relative_representation_stability_objective``. ``L`` is an internal representation of the model, flattened:
    the output of the module named ``layer``, or, with ``layer=None``, the input of the classification head (the
    penultimate features); :meth:`representation` computes it for a white-box model and
    :func:`~xaitk_wcam.impls.stability.representation.capture_representations` records it during a forward pass the
    caller makes anyway. A black-box model has none (``TypeError``). Needs the two representations.

    :param layer: Name of a module (``model.named_modules()``) whose output is the representation, or ``None`` for
        the classification head's input.
    :param eps_min: Replaces a zero entry of ``e_x`` or ``L(x)`` and a zero denominator norm (Quantus: ``1e-6``).
    :param nan_when_prediction_changes: ``nan`` when the top class changes (Quantus' default: ``True``).
    """

    needs = frozenset({"representations"})

    def __init__(
        self, *, layer: str | None = None, eps_min: float = 1e-6, nan_when_prediction_changes: bool = False
    ) -> None:
        if layer is not None and (not isinstance(layer, str) or not layer):
            raise TypeError(f"layer must be a module name (str) or None, got {layer!r}")
        super().__init__(eps_min=eps_min, nan_when_prediction_changes=nan_when_prediction_changes)
        self.layer = layer

    def representation(self, model: Any, images: Any) -> np.ndarray:
        """``N x D`` float64 representations of ``images`` under ``model`` at this metric's ``layer`` (one forward
        pass; :func:`~xaitk_wcam.impls.stability.representation.representations`)."""
        from xaitk_wcam.impls.stability.representation import representations

        return representations(model, images, layer=self.layer)

    def _compute(self, explanation: np.ndarray, reference_explanation: np.ndarray, inputs: dict) -> float:
        l_perturbed, l_ref = inputs["representations"]
        change = (l_ref - l_perturbed) / (l_ref + (l_ref == 0) * self.eps_min)
        denominator = self.nonzero(float(np.linalg.norm(change)))
        return self.relative_map_change(explanation, reference_explanation) / denominator

    def get_config(self) -> dict[str, Any]:
        return {"layer": self.layer, **super().get_config()}
