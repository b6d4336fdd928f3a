"""xaitk-wcam: wavelet-scale attribution (WCAM) for the xaitk-saliency / nrtk / MAITE stack.

Every public class is importable from here, e.g. ``from xaitk_wcam import WCAM``.
"""

from xaitk_wcam.classifiers import HuggingFaceImageClassifier, MaiteImageClassifier
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM, WCAMResult
from xaitk_wcam.sources import FolderImages, HFDatasetImages, MaiteDatasetImages, SkimageImages
from xaitk_wcam.wavelets.sufficient import sufficient_image, sufficient_images

__all__ = [
    "WCAM",
    "FolderImages",
    "HFDatasetImages",
    "HuggingFaceImageClassifier",
    "MaiteDatasetImages",
    "MaiteImageClassifier",
    "SkimageImages",
    "WCAMResult",
    "sufficient_image",
    "sufficient_images",
]
__version__ = "0.1.0"
