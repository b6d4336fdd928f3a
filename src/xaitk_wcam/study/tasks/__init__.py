"""The kinds of model a study explains (:mod:`.base`): classifiers (:mod:`.classification`) and detectors
(:mod:`.detection`), each registered under the config section that names its model."""

from xaitk_wcam.study.tasks.base import ModelTask, Targets, model_tasks, register_task
from xaitk_wcam.study.tasks.classification import ClassificationTask
from xaitk_wcam.study.tasks.detection import DetectionTask

register_task(ClassificationTask)
register_task(DetectionTask)

__all__ = ["ClassificationTask", "DetectionTask", "ModelTask", "Targets", "model_tasks", "register_task"]
