"""A worker's context: which class each item explains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from study_helpers import fake_config

from xaitk_wcam.study import (
    SaliencyRobustnessStudy,
)


def test_ground_truth_and_prediction_targets(tmp_path: Path) -> None:
    config = fake_config(n=2, size=32)
    config["target"] = "ground_truth"
    frame = SaliencyRobustnessStudy(config).run(tmp_path / "gt", progress=False, report=False)
    assert list(frame.groupby("image_id", sort=False)["target_label"].unique().map(list)) == [["red"], ["green"]]
    config["target"] = "prediction"
    frame = SaliencyRobustnessStudy(config).run(tmp_path / "pred", progress=False, report=False)
    assert (frame["target_label"] == frame["predicted_label"]).all()


def test_the_dry_run_hooks_of_a_classification_study() -> None:
    """One target per item; the classifier timed through the task; a stand-in with the classifier's labels that never
    runs the classifier."""
    from study_helpers import FakeClassifier

    from xaitk_wcam.study.tasks.classification import ClassificationTask

    classifier = FakeClassifier()
    task = ClassificationTask(classifier, ClassificationTask.resolve_settings({}))
    assert ClassificationTask.max_targets(task.settings) == 1
    image = np.full((16, 16, 3), 100, np.uint8)
    before = FakeClassifier.calls
    task.run_model([image, image])
    assert FakeClassifier.calls == before + 2
    stand_in, targets = task.stand_in(image)
    assert targets == [0] and stand_in.get_labels() == list(classifier.get_labels())
    (answer,) = stand_in.classify_images([image])
    assert sum(answer.values()) == pytest.approx(1.0) and FakeClassifier.calls == before + 2
