"""Detector adapters: HuggingFace object detectors, MAITE object-detection models and the small CenterNet of
the known-answer detector, as smqtk ``DetectImageObjects``.

Registered as an smqtk plugin package: the three are discoverable with ``DetectImageObjects.get_impls()``.
Each has ``get_labels()`` (the order of its score dicts' keys), which smqtk's interface lacks.
"""

from xaitk_wcam.detectors.centernet import CenterNetDetector
from xaitk_wcam.detectors.huggingface import HuggingFaceObjectDetector
from xaitk_wcam.detectors.maite import MaiteObjectDetector

__all__ = ["CenterNetDetector", "HuggingFaceObjectDetector", "MaiteObjectDetector"]
