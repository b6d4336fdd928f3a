"""Explanation-stability metrics (``RelativeStabilityMetric`` and ``LocalStabilityMetric`` plugins).

Per (reference, perturbed) pair, from what the caller has: RelativeInputStability, RelativeOutputStability and
RelativeRepresentationStability (Agarwal et al. 2022). Around one image, from their own seeded noise: MaxSensitivity
(Quantus' or Captum's), AvgSensitivity, LocalLipschitzEstimate and Captum's Infidelity. All declare
``direction`` (``"distance"``: lower is more stable), ``map_spaces``, ``needs`` and their cost
(:mod:`xaitk_wcam.interfaces.stability`).
"""

from xaitk_wcam.impls.stability.infidelity import Infidelity
from xaitk_wcam.impls.stability.relative import (
    RelativeInputStability,
    RelativeOutputStability,
    RelativeRepresentationStability,
)
from xaitk_wcam.impls.stability.sensitivity import AvgSensitivity, LocalLipschitzEstimate, MaxSensitivity

__all__ = [
    "AvgSensitivity",
    "Infidelity",
    "LocalLipschitzEstimate",
    "MaxSensitivity",
    "RelativeInputStability",
    "RelativeOutputStability",
    "RelativeRepresentationStability",
]
