"""The study plan: metric columns and the example configs."""

from __future__ import annotations

from pathlib import Path

import pytest
from smqtk_core.configuration import to_config_dict
from study_helpers import as_json, fake_config
from xaitk_saliency.impls.saliency_metric.entropy import Entropy

from xaitk_wcam.study import (
    load_config,
    resolve_config,
)
from xaitk_wcam.study.plan import StudyPlan


def test_metric_column_names_are_unique() -> None:
    config = fake_config()
    config["metrics"] = as_json([to_config_dict(Entropy(clip_range=c)) for c in (None, (0, 1), (-1, 0))])
    plan = StudyPlan.from_resolved(resolve_config(config), "")
    assert [c.column for c in plan.columns] == [
        "Entropy[clip_range=None]",
        "Entropy[clip_range=[0,1]]",
        "Entropy[clip_range=[-1,0]]",
    ]


@pytest.mark.parametrize("name", ["blur-study.json", "noise-study.yaml"])
def test_example_configs_resolve(name: str) -> None:
    path = Path(__file__).resolve().parents[2] / "examples" / name
    resolved = resolve_config(load_config(path))
    plan = StudyPlan.from_resolved(resolved, "")
    assert len(plan.perturbations) >= 3 and "wcam" in plan.method_names
