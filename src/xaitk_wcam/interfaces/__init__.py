"""Interfaces this package adds to xaitk-saliency's (each a smqtk ``Plugfigurable``)."""

from xaitk_wcam.interfaces.faithfulness import FaithfulnessMetric, FaithfulnessResult
from xaitk_wcam.interfaces.image_source import ImageSource
from xaitk_wcam.interfaces.saliency_comparison import SaliencyComparison
from xaitk_wcam.interfaces.stability import LocalStabilityMetric, RelativeStabilityMetric
from xaitk_wcam.interfaces.whitebox import GenerateImageClassifierWhiteboxSaliency, WhiteboxClassifier

__all__ = [
    "FaithfulnessMetric",
    "FaithfulnessResult",
    "GenerateImageClassifierWhiteboxSaliency",
    "ImageSource",
    "LocalStabilityMetric",
    "RelativeStabilityMetric",
    "SaliencyComparison",
    "WhiteboxClassifier",
]
