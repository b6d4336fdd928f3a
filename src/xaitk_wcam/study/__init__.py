"""Saliency-robustness studies: nrtk perturbers x saliency generators x metrics, resumable and distributable.

- :class:`SaliencyRobustnessStudy` runs a study from an smqtk-style config (:mod:`.config`);
- :mod:`.store` commits each work item atomically and assembles ``results.csv`` / ``results.parquet``;
- :mod:`.executors` dispatches images to ``local``, ``processes:N`` or Dask executors;
- :mod:`.report` draws the figures and writes ``report.html``.
"""

from xaitk_wcam.study.config import StudyConfigError, config_hash, load_config, resolve_config
from xaitk_wcam.study.executors import StudySetupError, parse_executor
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
