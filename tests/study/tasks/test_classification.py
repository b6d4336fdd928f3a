"""A worker's context: which class each item explains."""

from __future__ import annotations

from pathlib import Path

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
