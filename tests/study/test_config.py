"""Study configs: named metrics, and the bounds that hold before anything is expanded or built."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from smqtk_core.configuration import to_config_dict
from test_study import fake_config
from xaitk_saliency.impls.saliency_metric.entropy import Entropy

from xaitk_wcam.impls.comparison import SSD
from xaitk_wcam.impls.faithfulness import Deletion
from xaitk_wcam.study import SaliencyRobustnessStudy, StudyConfigError, load_config
from xaitk_wcam.study.config import MAX_CONFIG_NODES, check_size


def test_named_metrics_name_their_columns_and_the_list_form_keeps_its_names(tmp_path: Path) -> None:
    config = fake_config(n=1)
    config["metrics"] = {
        "entropy": to_config_dict(Entropy()),
        "entropy_pos": to_config_dict(Entropy(clip_range=(0, 1))),
        "ssd": to_config_dict(SSD()),
        "deletion": to_config_dict(Deletion(max_steps=4, fill="mean")),
    }
    config = json.loads(json.dumps(config))
    frame = SaliencyRobustnessStudy(config).run(tmp_path / "named", progress=False, report=False)
    assert ["entropy", "entropy_pos", "ssd", "deletion_dauc", "deletion_dc"] == list(frame.columns[8:13])
    scored = frame[frame["perturbation"] != "noise_floor"]  # noise-floor rows hold comparisons only
    assert scored["entropy_pos"].notna().all() and scored["deletion_dauc"].notna().all()
    listed = fake_config(n=1)
    listed["metrics"] = [config["metrics"]["entropy"], config["metrics"]["entropy_pos"]]
    columns = SaliencyRobustnessStudy(listed).plan.row_columns()
    assert "Entropy[clip_range=None]" in columns and "Entropy[clip_range=[0,1]]" in columns  # 0.1 names
    with pytest.raises(StudyConfigError, match="metric name"):
        SaliencyRobustnessStudy({**config, "metrics": {"bad name": config["metrics"]["ssd"]}})
    clash = {"a_dauc": config["metrics"]["ssd"], "a": config["metrics"]["deletion"]}
    with pytest.raises(StudyConfigError, match="same column"):
        SaliencyRobustnessStudy({**config, "metrics": clash})


def test_yaml_aliases_are_refused_before_expansion(tmp_path: Path) -> None:
    # Eight nested aliases of ten make 10**8 leaves: refused at parse time, in milliseconds.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\nclassifier: *a7\n")
    start = time.perf_counter()
    with pytest.raises(StudyConfigError, match="aliases"):
        load_config(bomb)
    assert time.perf_counter() - start < 1.0
    with pytest.raises(StudyConfigError, match="cannot parse"):
        (tmp_path / "broken.yaml").write_text("classifier: [unclosed\n")
        load_config(tmp_path / "broken.yaml")


def test_a_shared_python_structure_is_counted_without_expanding_it() -> None:
    node: list = ["x"] * 10
    for _ in range(8):
        node = [node] * 10  # 10**9 leaves through shared references
    start = time.perf_counter()
    with pytest.raises(StudyConfigError, match="MAX_CONFIG_NODES"):
        check_size({"classifier": node})
    assert time.perf_counter() - start < 1.0
    with pytest.raises(StudyConfigError, match="MAX_CONFIG_NODES"):
        SaliencyRobustnessStudy({**fake_config(), "classifier": node})
    check_size(fake_config())  # a real config is far below the limit
    assert MAX_CONFIG_NODES == 100_000


def test_a_huge_factory_is_counted_not_built() -> None:
    config = fake_config()
    factory = config["perturbers"][0]
    params = factory[factory["type"]]
    config["perturbers"] = [{**factory, factory["type"]: {**params, "start": 3, "stop": 1e9, "step": 2}}]
    start = time.perf_counter()
    with pytest.raises(StudyConfigError, match="max_perturbations=10,000"):
        SaliencyRobustnessStudy(config)
    assert time.perf_counter() - start < 5.0
    # The key moves the cap both ways (nrtk's factories index in O(n), so building many is slow: keep it small).
    config["perturbers"][0][factory["type"]]["stop"] = 3 + 2 * 12
    with pytest.raises(StudyConfigError, match="12 perturbations"):
        SaliencyRobustnessStudy({**config, "max_perturbations": 11})
    assert len(SaliencyRobustnessStudy({**config, "max_perturbations": 12}).plan.perturbations) == 12
    with pytest.raises(StudyConfigError, match="max_perturbations must be"):
        SaliencyRobustnessStudy({**config, "max_perturbations": 0})
