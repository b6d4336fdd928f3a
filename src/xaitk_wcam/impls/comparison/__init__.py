"""Map comparisons (``SaliencyComparison`` plugins).

SSD, XCorr, SpearmanRank, TopKIntersection and Wasserstein compare the map of a perturbed image with the
map of its reference image.
"""

from xaitk_wcam.impls.comparison.spearman import SpearmanRank
from xaitk_wcam.impls.comparison.ssd import SSD
from xaitk_wcam.impls.comparison.topk import TopKIntersection
from xaitk_wcam.impls.comparison.wasserstein import Wasserstein
from xaitk_wcam.impls.comparison.xcorr import XCorr

__all__ = ["SSD", "SpearmanRank", "TopKIntersection", "Wasserstein", "XCorr"]
