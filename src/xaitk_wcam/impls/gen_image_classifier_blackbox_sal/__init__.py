"""Black-box saliency generators for image classifiers (xaitk-saliency's use case of the same name)."""

from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.fourier_sobol import FourierSobol
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.random import RandomSaliency
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.sobol_attribution import SobolAttribution
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM, WCAMResult

__all__ = ["WCAM", "FourierSobol", "RandomSaliency", "SobolAttribution", "WCAMResult"]
