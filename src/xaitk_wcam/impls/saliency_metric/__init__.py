"""Map metrics (xaitk-saliency ``SaliencyMetric`` plugins): WCAM scale shares and spatial spread.

Entropy (positive / negative / total) is xaitk-saliency's own ``Entropy(clip_range)``; it is not
duplicated here.
"""

from xaitk_wcam.impls.saliency_metric.scale_share import FineScaleShare, ScaleShare
from xaitk_wcam.impls.saliency_metric.spatial_spread import SpatialSpread

__all__ = ["FineScaleShare", "ScaleShare", "SpatialSpread"]
