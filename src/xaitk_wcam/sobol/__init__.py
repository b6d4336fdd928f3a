"""Sobol sensitivity analysis: the replicated QMC design and total-order estimators (pure numpy/scipy)."""

from xaitk_wcam.sobol.design import SobolDesign, check_nb_design
from xaitk_wcam.sobol.estimators import ESTIMATORS, homma, janon, jansen

__all__ = ["ESTIMATORS", "SobolDesign", "check_nb_design", "homma", "janon", "jansen"]
