"""xaitk-wcam: wavelet-scale attribution (WCAM) for the xaitk-saliency / nrtk / MAITE stack.

Every public class is importable from here, e.g. ``from xaitk_wcam import WCAM``. Names are resolved on
first use (PEP 562), so importing the package, or smqtk's plugin discovery importing its plugin modules,
costs almost nothing: heavy dependencies (transformers, captum, dask, pandas, matplotlib, ...) load only
where a class that needs them is used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0.dev0"

#: Public name -> module that defines it.
_EXPORTS = {
    "HuggingFaceImageClassifier": "xaitk_wcam.classifiers.huggingface",
    "MaiteImageClassifier": "xaitk_wcam.classifiers.maite",
    "ScaleShapesSample": "xaitk_wcam.datasets.scale_shapes",
    "scale_shapes": "xaitk_wcam.datasets.scale_shapes",
    "SSD": "xaitk_wcam.impls.comparison.ssd",
    "SpearmanRank": "xaitk_wcam.impls.comparison.spearman",
    "TopKIntersection": "xaitk_wcam.impls.comparison.topk",
    "Wasserstein": "xaitk_wcam.impls.comparison.wasserstein",
    "XCorr": "xaitk_wcam.impls.comparison.xcorr",
    "AverageDrop": "xaitk_wcam.impls.faithfulness.average_drop",
    "AverageDropInDeletion": "xaitk_wcam.impls.faithfulness.average_drop",
    "Deletion": "xaitk_wcam.impls.faithfulness.deletion_insertion",
    "Insertion": "xaitk_wcam.impls.faithfulness.deletion_insertion",
    "MuFidelity": "xaitk_wcam.impls.faithfulness.mu_fidelity",
    "ReconstructionDepth": "xaitk_wcam.impls.faithfulness.reconstruction_depth",
    "FourierSobol": "xaitk_wcam.impls.gen_image_classifier_blackbox_sal.fourier_sobol",
    "RandomSaliency": "xaitk_wcam.impls.gen_image_classifier_blackbox_sal.random",
    "SobolAttribution": "xaitk_wcam.impls.gen_image_classifier_blackbox_sal.sobol_attribution",
    "WCAM": "xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam",
    "WCAMResult": "xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam",
    "GradCAM": "xaitk_wcam.impls.gen_image_classifier_whitebox_sal.grad_cam",
    "GradientTimesInput": "xaitk_wcam.impls.gen_image_classifier_whitebox_sal.gradients",
    "SmoothGrad": "xaitk_wcam.impls.gen_image_classifier_whitebox_sal.gradients",
    "VanillaGradients": "xaitk_wcam.impls.gen_image_classifier_whitebox_sal.gradients",
    "IntegratedGradients": "xaitk_wcam.impls.gen_image_classifier_whitebox_sal.integrated_gradients",
    "FineScaleShare": "xaitk_wcam.impls.saliency_metric.scale_share",
    "ScaleShare": "xaitk_wcam.impls.saliency_metric.scale_share",
    "SpatialSpread": "xaitk_wcam.impls.saliency_metric.spatial_spread",
    "BlackboxExplainer": "xaitk_wcam.interfaces.blackbox_explainer",
    "Explanation": "xaitk_wcam.interfaces.explanation",
    "MapExplanation": "xaitk_wcam.interfaces.explanation",
    "FaithfulnessMetric": "xaitk_wcam.interfaces.faithfulness",
    "FaithfulnessResult": "xaitk_wcam.interfaces.faithfulness",
    "GenerateImageClassifierWhiteboxSaliency": "xaitk_wcam.interfaces.whitebox",
    "ImageSource": "xaitk_wcam.interfaces.image_source",
    "SaliencyComparison": "xaitk_wcam.interfaces.saliency_comparison",
    "FolderImages": "xaitk_wcam.sources.folder_images",
    "HFDatasetImages": "xaitk_wcam.sources.hf_dataset_images",
    "MaiteDatasetImages": "xaitk_wcam.sources.maite_dataset_images",
    "SkimageImages": "xaitk_wcam.sources.skimage_images",
    "SaliencyRobustnessStudy": "xaitk_wcam.study.runner",
    "sufficient_image": "xaitk_wcam.wavelets.sufficient",
    "sufficient_images": "xaitk_wcam.wavelets.sufficient",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'xaitk_wcam' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
