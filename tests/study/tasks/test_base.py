"""A new kind of model runs in a study by registering one task (and the adapter of its explainers): nothing in the
study's loop, store or report changes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from nrtk.impls.perturb_image.photometric.blur import AverageBlurPerturber
from smqtk_core.configuration import to_config_dict
from smqtk_core.plugfigurable import Plugfigurable
from study_helpers import FakeImages, as_json

from xaitk_wcam.impls.comparison import SSD, XCorr
from xaitk_wcam.interfaces import explainer as explainer_module
from xaitk_wcam.interfaces.explainer import Explainer, register_explainer
from xaitk_wcam.interfaces.explanation import PIXEL, Explanation, MapExplanation
from xaitk_wcam.study import SaliencyRobustnessStudy, StudyConfigError
from xaitk_wcam.study import plugins as study_plugins
from xaitk_wcam.study.tasks import ModelTask, Targets, model_tasks, register_task
from xaitk_wcam.study.tasks import base as tasks_base


# -- a made-up kind of model: regressors of one value per image --------------------------------------------------
class RegressImage(Plugfigurable):
    """The made-up model interface: one number per image."""

    def regress(self, images: list[np.ndarray]) -> np.ndarray:
        raise NotImplementedError


class RedLevel(RegressImage):
    """The mean of the red channel, in [0, 1]."""

    def regress(self, images: list[np.ndarray]) -> np.ndarray:
        return np.array([np.asarray(image, dtype=np.float64)[..., 0].mean() / 255 for image in images])

    def get_config(self) -> dict[str, Any]:
        return {}


class GenerateRegressorSaliency(Plugfigurable):
    """The made-up kind of explainer of regressors."""


class PatchOcclusion(GenerateRegressorSaliency):
    """How much greying each ``patch x patch`` block changes the value (deterministic)."""

    def __init__(self, patch: int = 8) -> None:
        self.patch = patch

    def get_config(self) -> dict[str, Any]:
        return {"patch": self.patch}

    def occlusion(self, image: np.ndarray, model: RegressImage) -> np.ndarray:
        base = model.regress([image])[0]
        out = np.zeros(image.shape[:2])
        for y in range(0, image.shape[0], self.patch):
            for x in range(0, image.shape[1], self.patch):
                grey = image.copy()
                grey[y : y + self.patch, x : x + self.patch] = 128
                out[y : y + self.patch, x : x + self.patch] = abs(base - model.regress([grey])[0])
        return out


class RegressorExplainer(Explainer):
    model_kind = "regressor"

    @property
    def map_spaces(self) -> tuple[str, ...]:
        return (PIXEL,)

    @property
    def wavelet_levels(self) -> None:
        return None

    def check_model(self, model: Any) -> None:
        if not isinstance(model, RegressImage):
            raise TypeError("needs a RegressImage")

    def check_targets(self, model: Any, targets: Any) -> list[int]:
        if list(targets) != [0]:
            raise ValueError("a regressor has one output, 0")
        return [0]

    def _explain(self, image: np.ndarray, model: Any, targets: list[int]) -> Explanation:
        return MapExplanation({PIXEL: self.generator.occlusion(image, model)[None]}, ["value"])


class ValueTarget(Targets):
    def __init__(self, value: float | None = None) -> None:
        self.value = value
        self.positions = np.zeros(1, dtype=np.int64)

    @property
    def explained(self) -> list[int]:
        return [0]

    def record(self) -> dict[str, Any]:
        return {"target_index": 0}

    def outcome(self, position: int) -> dict[str, Any]:
        return {"value": self.value}


class RegressionTask(ModelTask):
    section = "regressor"
    study_name = "regression"
    model_interface = RegressImage
    columns = ("value",)
    outcome_column = "value"
    legend = (("value", "the regressor's output on the item's image"),)

    @classmethod
    def resolve_settings(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        return {}

    def reference(self, image: np.ndarray, label: Any) -> Targets:
        return ValueTarget(float(self.model.regress([image])[0]))

    def follow(self, perturber: Any, image: np.ndarray, reference: Targets, label: Any) -> tuple[np.ndarray, Targets]:
        perturbed, _ = perturber(image=np.copy(image))
        return perturbed, ValueTarget(float(self.model.regress([perturbed])[0]))

    @classmethod
    def targets_from_record(cls, record: Mapping[str, Any]) -> Targets:
        return ValueTarget()


@pytest.fixture
def regression_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks_base, "_TASKS", dict(tasks_base._TASKS))
    monkeypatch.setattr(explainer_module, "EXPLAINERS", explainer_module.EXPLAINERS.copy())
    monkeypatch.setattr(study_plugins, "_CACHE", {})
    register_task(RegressionTask)
    register_explainer(GenerateRegressorSaliency, RegressorExplainer)


def test_a_new_model_kind_runs_in_a_study_by_registering_its_task(regression_kind: None, tmp_path: Path) -> None:
    config = as_json(
        {
            "regressor": to_config_dict(RedLevel()),
            "images": to_config_dict(FakeImages(n=2, size=32)),
            "perturbers": [to_config_dict(AverageBlurPerturber(ksize=k)) for k in (3, 9)],
            "saliency": {"occlusion": to_config_dict(PatchOcclusion(patch=8))},
            "metrics": {"ssd": to_config_dict(SSD()), "xcorr": to_config_dict(XCorr())},
        }
    )
    study = SaliencyRobustnessStudy(config)
    assert study.plan.model_kind == "regressor" and study.plan.noise_floor_index is None  # deterministic
    frame = study.run(tmp_path / "out", progress=False)
    assert (frame["status"] == "ok").all(), frame["status"].tolist()
    assert list(frame.columns[:5]) == ["image_id", "perturbation", "method", "status", "value"]
    assert len(frame) == 2 * 3 and frame["value"].between(0, 1).all()
    perturbed = frame[frame["perturbation"] != "reference"]
    assert perturbed[["ssd", "xcorr"]].notna().all().all()
    heavy = perturbed[perturbed["perturbation"].str.contains("ksize=9")]
    light = perturbed[perturbed["perturbation"].str.contains("ksize=3")]
    assert (heavy["ssd"].to_numpy() > light["ssd"].to_numpy()).all()  # a stronger blur moves the map further
    report = (tmp_path / "out" / "report.html").read_text()
    assert "the regressor&#x27;s output" in report or "the regressor's output" in report
    # resuming reads the targets and maps back through the task
    again = SaliencyRobustnessStudy(config).run(tmp_path / "out", resume=True, progress=False, report=False)
    assert again.drop(columns="seconds").equals(frame.drop(columns="seconds"))


def test_a_new_model_kind_is_refused_with_the_wrong_methods(regression_kind: None) -> None:
    from study_helpers import fake_config

    config = {**fake_config(n=1), "regressor": to_config_dict(RedLevel())}
    with pytest.raises(StudyConfigError, match="exactly one model, 'classifier' or 'detector' or 'regressor'"):
        SaliencyRobustnessStudy(config)
    del config["classifier"]
    with pytest.raises(StudyConfigError, match="explains a classifier, but this study's model is a regressor"):
        SaliencyRobustnessStudy(config)


def test_register_task_refuses_what_is_no_task_and_a_taken_section() -> None:
    with pytest.raises(TypeError, match="ModelTask subclass"):
        register_task(object)  # type: ignore[arg-type]

    class Other(RegressionTask):
        section = "classifier"

    with pytest.raises(ValueError, match="'classifier' is already the model of ClassificationTask"):
        register_task(Other)
    assert set(model_tasks()) >= {"classifier", "detector"}
