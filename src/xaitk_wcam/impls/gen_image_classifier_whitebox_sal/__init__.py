"""White-box saliency generators for torch image classifiers, wrapping Captum (pixel maps; WAM: wavelet maps).

Each is a :class:`xaitk_wcam.interfaces.whitebox.GenerateImageClassifierWhiteboxSaliency` plugin.
"""

from xaitk_wcam.impls.gen_image_classifier_whitebox_sal.grad_cam import GradCAM
from xaitk_wcam.impls.gen_image_classifier_whitebox_sal.gradients import (
    GradientTimesInput,
    SmoothGrad,
    VanillaGradients,
)
from xaitk_wcam.impls.gen_image_classifier_whitebox_sal.integrated_gradients import IntegratedGradients
from xaitk_wcam.impls.gen_image_classifier_whitebox_sal.wam import WAM

__all__ = ["WAM", "GradCAM", "GradientTimesInput", "IntegratedGradients", "SmoothGrad", "VanillaGradients"]
