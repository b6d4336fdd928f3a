"""Sobol sensitivity analysis: designs, total-order estimators, importance sampling, growing runs (pure numpy/scipy)."""

from xaitk_wcam.sobol.design import SobolDesign, check_nb_design, sobol_points
from xaitk_wcam.sobol.estimators import ESTIMATORS, homma, janon, jansen, jansen_terms
from xaitk_wcam.sobol.runs import BASE_BLOCK, ClassicRun, Estimate, ImportanceRun

__all__ = [
    "BASE_BLOCK",
    "ESTIMATORS",
    "ClassicRun",
    "Estimate",
    "ImportanceRun",
    "SobolDesign",
    "check_nb_design",
    "homma",
    "janon",
    "jansen",
    "jansen_terms",
    "sobol_points",
]
