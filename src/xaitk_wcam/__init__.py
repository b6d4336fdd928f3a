"""xaitk-wcam: wavelet-scale attribution (WCAM) for the xaitk-saliency / nrtk / MAITE stack.

Every public class is importable from here, e.g. ``from xaitk_wcam import WCAM``. Names are resolved on
first use (PEP 562, through scientific-python's ``lazy_loader``, as scikit-image does), so importing the
package, or smqtk's plugin discovery importing its plugin modules, costs almost nothing: heavy dependencies
(transformers, captum, dask, pandas, matplotlib, ...) load only where a class that needs them is used.
"""

from __future__ import annotations

import lazy_loader

__version__ = "0.4.0.dev0"

#: Submodule -> the public names it defines.
_SUBMOD_ATTRS = {
    "classifiers.huggingface": ["HuggingFaceImageClassifier"],
    "classifiers.maite": ["MaiteImageClassifier"],
    "datasets.scale_shapes": ["ScaleShapesSample", "ScaleShapesScene", "scale_shapes", "scale_shapes_scenes"],
    "detectors.centernet": ["CenterNetDetector"],
    "detectors.huggingface": ["HuggingFaceObjectDetector"],
    "detectors.maite": ["MaiteObjectDetector"],
    "evaluation.sanity": ["CascadeResult", "cascading_randomisation"],
    "impls.comparison.ssd": ["SSD"],
    "impls.comparison.spearman": ["SpearmanRank"],
    "impls.comparison.topk": ["TopKIntersection"],
    "impls.comparison.wasserstein": ["Wasserstein"],
    "impls.comparison.xcorr": ["XCorr"],
    "impls.faithfulness.average_drop": ["AverageDrop", "AverageDropInDeletion"],
    "impls.faithfulness.deletion_insertion": ["Deletion", "Insertion"],
    "impls.faithfulness.mu_fidelity": ["MuFidelity"],
    "impls.faithfulness.reconstruction_depth": ["ReconstructionDepth"],
    "impls.faithfulness.wavelet_deletion_insertion": ["WaveletDeletion", "WaveletFaithfulness", "WaveletInsertion"],
    "impls.faithfulness.wavelet_mu_fidelity": ["WaveletMuFidelity"],
    "impls.gen_image_classifier_blackbox_sal.fourier_sobol": ["FourierSobol"],
    "impls.gen_image_classifier_blackbox_sal.random": ["RandomSaliency"],
    "impls.gen_image_classifier_blackbox_sal.sobol_attribution": ["SobolAttribution"],
    "impls.gen_image_classifier_blackbox_sal.wcam": ["WCAM", "WCAMResult"],
    "impls.gen_image_classifier_whitebox_sal.grad_cam": ["GradCAM"],
    "impls.gen_object_detector_blackbox_sal.wcam_detector": ["ReferenceDetection", "WCAMDetector"],
    "impls.gen_image_classifier_whitebox_sal.gradients": ["GradientTimesInput", "SmoothGrad", "VanillaGradients"],
    "impls.gen_image_classifier_whitebox_sal.integrated_gradients": ["IntegratedGradients"],
    "impls.gen_image_classifier_whitebox_sal.wam": ["WAM", "WAMExplanation"],
    "impls.saliency_metric.scale_share": ["FineScaleShare", "ScaleShare"],
    "impls.saliency_metric.spatial_spread": ["SpatialSpread"],
    "impls.stability.infidelity": ["Infidelity"],
    "impls.stability.relative": [
        "RelativeInputStability",
        "RelativeOutputStability",
        "RelativeRepresentationStability",
    ],
    "impls.stability.sensitivity": ["AvgSensitivity", "LocalLipschitzEstimate", "MaxSensitivity"],
    "interfaces.blackbox_explainer": ["BlackboxExplainer"],
    "interfaces.explanation": ["Explanation", "MapExplanation", "WaveletExplanation"],
    "interfaces.faithfulness": ["FaithfulnessMetric", "FaithfulnessResult"],
    "interfaces.whitebox": ["GenerateImageClassifierWhiteboxSaliency"],
    "interfaces.image_source": ["ImageSource"],
    "interfaces.saliency_comparison": ["SaliencyComparison"],
    "interfaces.stability": ["LocalStabilityMetric", "RelativeStabilityMetric"],
    "sources.folder_images": ["FolderImages"],
    "sources.hf_dataset_images": ["HFDatasetImages"],
    "sources.maite_dataset_images": ["MaiteDatasetImages"],
    "sources.skimage_images": ["SkimageImages"],
    "study.runner": ["SaliencyRobustnessStudy"],
    "utils.detections": ["DetectionSet", "drise_similarity"],
    "utils.target_class": ["TargetClassBlackbox"],
    "wavelets.sufficient": ["sufficient_image", "sufficient_images"],
}

__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submod_attrs=_SUBMOD_ATTRS)
