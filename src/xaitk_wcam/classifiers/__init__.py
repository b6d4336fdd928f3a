"""Classifier adapters: HuggingFace image classifiers and MAITE models as smqtk ``ClassifyImage``.

Registered as an smqtk plugin package: ``HuggingFaceImageClassifier`` and ``MaiteImageClassifier`` are
discoverable with ``ClassifyImage.get_impls()``.
"""

from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier
from xaitk_wcam.classifiers.maite import MaiteImageClassifier

__all__ = ["HuggingFaceImageClassifier", "MaiteImageClassifier"]
