"""xaitk-wcam: wavelet-scale attribution (WCAM) for the xaitk-saliency / nrtk / MAITE stack.

Every public class is importable from here, e.g. ``from xaitk_wcam import WCAM``.
"""

from xaitk_wcam.classifiers import HuggingFaceImageClassifier, MaiteImageClassifier
from xaitk_wcam.datasets import ScaleShapesSample, scale_shapes
from xaitk_wcam.impls.comparison import SSD, SpearmanRank, TopKIntersection, Wasserstein, XCorr
from xaitk_wcam.impls.faithfulness import (
    AverageDrop,
    AverageDropInDeletion,
    Deletion,
    Insertion,
    MuFidelity,
    ReconstructionDepth,
)
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal import FourierSobol, RandomSaliency, SobolAttribution
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM, WCAMResult
from xaitk_wcam.impls.gen_image_classifier_whitebox_sal import (
    GradCAM,
    GradientTimesInput,
    IntegratedGradients,
    SmoothGrad,
    VanillaGradients,
)
from xaitk_wcam.impls.saliency_metric import FineScaleShare, ScaleShare, SpatialSpread
from xaitk_wcam.interfaces import (
    FaithfulnessMetric,
    FaithfulnessResult,
    GenerateImageClassifierWhiteboxSaliency,
    ImageSource,
    SaliencyComparison,
)
from xaitk_wcam.sources import FolderImages, HFDatasetImages, MaiteDatasetImages, SkimageImages
from xaitk_wcam.study import SaliencyRobustnessStudy
from xaitk_wcam.wavelets.sufficient import sufficient_image, sufficient_images

__all__ = [
    "SSD",
    "WCAM",
    "AverageDrop",
    "AverageDropInDeletion",
    "Deletion",
    "FaithfulnessMetric",
    "FaithfulnessResult",
    "FineScaleShare",
    "FolderImages",
    "FourierSobol",
    "GenerateImageClassifierWhiteboxSaliency",
    "GradCAM",
    "GradientTimesInput",
    "HFDatasetImages",
    "HuggingFaceImageClassifier",
    "ImageSource",
    "Insertion",
    "IntegratedGradients",
    "MaiteDatasetImages",
    "MaiteImageClassifier",
    "MuFidelity",
    "RandomSaliency",
    "ReconstructionDepth",
    "SaliencyComparison",
    "SaliencyRobustnessStudy",
    "ScaleShapesSample",
    "ScaleShare",
    "SkimageImages",
    "SmoothGrad",
    "SobolAttribution",
    "SpatialSpread",
    "SpearmanRank",
    "TopKIntersection",
    "VanillaGradients",
    "WCAMResult",
    "Wasserstein",
    "XCorr",
    "scale_shapes",
    "sufficient_image",
    "sufficient_images",
]
__version__ = "0.1.0"
