"""Black-box saliency generators for object detectors (xaitk-saliency's use case of the same name)."""

from xaitk_wcam.impls.gen_object_detector_blackbox_sal.wcam_detector import ReferenceDetection, WCAMDetector

__all__ = ["ReferenceDetection", "WCAMDetector"]
