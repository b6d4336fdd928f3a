"""Saliency-robustness studies: nrtk perturbers x saliency generators x metrics, resumable and distributable.

Read it top-down:

- :mod:`.runner`: :class:`SaliencyRobustnessStudy` resolves a config (:mod:`.config`, :mod:`.plugins`) into a
  :class:`~xaitk_wcam.study.plan.StudyPlan` once, hands it to an executor (:mod:`.executors`), streams the
  images to it and assembles the tables (:mod:`.store`) and the report (:mod:`.report`);
- :mod:`.plan`: what the study computes (perturbations, methods, metric columns, the model kind);
- :mod:`.worker`: what each process builds once (:class:`~xaitk_wcam.study.worker.StudyWorker`) and the one loop
  over an image's items (reference, perturbations, noise floor), whatever the model: each method called through its
  explainer adapter (:mod:`xaitk_wcam.interfaces.explainer`), each metric through its scorer (:mod:`.scorers`);
- :mod:`.tasks`: what differs between kinds of model (classifiers, detectors): targets, outcomes, columns;
- :mod:`.items`, :mod:`.store`: an item's record and the output folder it is committed to.
"""

from xaitk_wcam.study.config import config_hash, load_config, resolve_config
from xaitk_wcam.study.errors import StudyConfigError, StudySetupError
from xaitk_wcam.study.executors import parse_executor
from xaitk_wcam.study.runner import SaliencyRobustnessStudy
from xaitk_wcam.study.store import OutDirError, ResultsStore

__all__ = [
    "OutDirError",
    "ResultsStore",
    "SaliencyRobustnessStudy",
    "StudyConfigError",
    "StudySetupError",
    "config_hash",
    "load_config",
    "parse_executor",
    "resolve_config",
]
