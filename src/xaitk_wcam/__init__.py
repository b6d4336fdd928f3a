"""xaitk-wcam: wavelet-scale attribution (WCAM) for the xaitk-saliency / nrtk / MAITE stack.

Every public class is importable from here, e.g. ``from xaitk_wcam import WCAM``. Names are resolved on
first use (PEP 562, through scientific-python's ``lazy_loader``, as scikit-image does), so importing the
package, or smqtk's plugin discovery importing its plugin modules, costs almost nothing: heavy dependencies
(transformers, captum, dask, pandas, matplotlib, ...) load only where a class that needs them is used.
"""

from __future__ import annotations

import lazy_loader

__version__ = "0.3.0.dev0"

#: Submodule -> the public names it defines.
_SUBMOD_ATTRS = {
    "classifiers.huggingface": ["HuggingFaceImageClassifier"],
    "classifiers.maite": ["MaiteImageClassifier"],
    "datasets.scale_shapes": ["ScaleShapesSample", "scale_shapes"],
    "impls.comparison.ssd": ["SSD"],
    "impls.comparison.spearman": ["SpearmanRank"],
    "impls.comparison.topk": ["TopKIntersection"],
    "impls.comparison.wasserstein": ["Wasserstein"],
    "impls.comparison.xcorr": ["XCorr"],
    "impls.faithfulness.average_drop": ["AverageDrop", "AverageDropInDeletion"],
    "impls.faithfulness.deletion_insertion": ["Deletion", "Insertion"],
    "impls.faithfulness.mu_fidelity": ["MuFidelity"],
    "impls.faithfulness.reconstruction_depth": ["ReconstructionDepth"],
    "impls.gen_image_classifier_blackbox_sal.fourier_sobol": ["FourierSobol"],
    "impls.gen_image_classifier_blackbox_sal.random": ["RandomSaliency"],
    "impls.gen_image_classifier_blackbox_sal.sobol_attribution": ["SobolAttribution"],
    "impls.gen_image_classifier_blackbox_sal.wcam": ["WCAM", "WCAMResult"],
    "impls.gen_image_classifier_whitebox_sal.grad_cam": ["GradCAM"],
    "impls.gen_image_classifier_whitebox_sal.gradients": ["GradientTimesInput", "SmoothGrad", "VanillaGradients"],
    "impls.gen_image_classifier_whitebox_sal.integrated_gradients": ["IntegratedGradients"],
    "impls.saliency_metric.scale_share": ["FineScaleShare", "ScaleShare"],
    "impls.saliency_metric.spatial_spread": ["SpatialSpread"],
    "interfaces.blackbox_explainer": ["BlackboxExplainer"],
    "interfaces.explanation": ["Explanation", "MapExplanation"],
    "interfaces.faithfulness": ["FaithfulnessMetric", "FaithfulnessResult"],
    "interfaces.whitebox": ["GenerateImageClassifierWhiteboxSaliency"],
    "interfaces.image_source": ["ImageSource"],
    "interfaces.saliency_comparison": ["SaliencyComparison"],
    "sources.folder_images": ["FolderImages"],
    "sources.hf_dataset_images": ["HFDatasetImages"],
    "sources.maite_dataset_images": ["MaiteDatasetImages"],
    "sources.skimage_images": ["SkimageImages"],
    "study.runner": ["SaliencyRobustnessStudy"],
    "wavelets.sufficient": ["sufficient_image", "sufficient_images"],
}

__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submod_attrs=_SUBMOD_ATTRS)
