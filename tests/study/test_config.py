"""Study configs: named metrics, and the bounds that hold before anything is expanded or built."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from nrtk.impls.perturb_image.photometric.blur import AverageBlurPerturber
from smqtk_core.configuration import to_config_dict
from study_helpers import fake_config
from xaitk_saliency.impls.saliency_metric.entropy import Entropy

from xaitk_wcam.impls.comparison import SSD
from xaitk_wcam.impls.faithfulness import Deletion
from xaitk_wcam.study import (
    SaliencyRobustnessStudy,
    StudyConfigError,
    load_config,
)
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


def test_a_near_miss_import_path_in_a_config_imports_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 20, failure 1: the config let ``"module:attr "`` through and the MAITE adapter imported ``module``."""
    import builtins
    import sys

    from xaitk_wcam.classifiers import MaiteImageClassifier

    (tmp_path / "study_trap.py").write_text("import builtins\nbuiltins.STUDY_TRAP_IMPORTED = True\nmake = None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    key = f"{MaiteImageClassifier.__module__}.{MaiteImageClassifier.__name__}"
    for text in ["study_trap:make ", "study_trap:make\t", "study_trap:makeé"]:
        config = fake_config()
        config["classifier"] = {"type": key, key: {"model": text}}
        with pytest.raises(ValueError, match="model"):
            SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False, report=False)
        assert "study_trap" not in sys.modules and not hasattr(builtins, "STUDY_TRAP_IMPORTED"), text


def test_plugin_types_and_perturber_names_are_parsed_before_lookup() -> None:
    config = fake_config()
    factory = config["perturbers"][0]
    for bad in [factory["type"] + " ", factory["type"] + "\n", factory["type"].replace(".", "..", 1)]:
        with pytest.raises(StudyConfigError, match=r"perturbers\[0\]: type"):
            SaliencyRobustnessStudy({**config, "perturbers": [{"type": bad, bad: factory[factory["type"]]}]})
    params = factory[factory["type"]]
    for bad in [params["perturber"] + " ", params["perturber"] + "\t", "os.system", "os:system"]:
        entry = {"type": factory["type"], factory["type"]: {**params, "perturber": bad}}
        with pytest.raises(StudyConfigError, match=r"perturbers\[0\].*perturber"):
            SaliencyRobustnessStudy({**config, "perturbers": [entry]})


def _deprecated(name: str) -> type:
    import importlib

    return getattr(importlib.import_module("nrtk.impls.perturb_image_factory"), name)


def test_a_deprecated_factory_is_counted_not_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 20, failure 6: nrtk's deprecated factories were built to be counted (``len`` of a 5e8-step sweep: 77 s,
    4.9 GB) and the deprecated multivariate factory builds its product in its constructor."""

    step, multi = _deprecated("PerturberStepFactory"), _deprecated("PerturberMultivariateFactory")
    base = fake_config()
    small_step = to_config_dict(step(perturber=AverageBlurPerturber, theta_key="ksize", start=3, stop=9, step=2))
    grid = to_config_dict(
        multi(perturber=AverageBlurPerturber, theta_keys=["ksize"], thetas=[[1, 3, 5, 7]])  # 4 perturbations
    )
    plan = SaliencyRobustnessStudy({**base, "perturbers": [small_step, grid]}).plan
    assert len(plan.perturbations) == 3 + 4

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("a factory over max_perturbations was built to be counted")

    monkeypatch.setattr(step, "__init__", never)
    monkeypatch.setattr(multi, "__init__", never)
    huge_step = json.loads(json.dumps(small_step))
    huge_step[huge_step["type"]]["stop"] = 1e9  # (1e9 - 3) / 2: 5e8 perturbations
    huge_grid = json.loads(json.dumps(grid))
    params = huge_grid[huge_grid["type"]]
    params["theta_keys"], params["thetas"] = ["ksize"] * 4, [list(range(1, 60, 2))] * 4  # 30**4 = 810,000
    start = time.perf_counter()
    with pytest.raises(StudyConfigError, match=r"499,999,999 perturbations, more than max_perturbations=10,000"):
        SaliencyRobustnessStudy({**base, "perturbers": [huge_step]})
    with pytest.raises(StudyConfigError, match=r"810,000 perturbations"):
        SaliencyRobustnessStudy({**base, "perturbers": [huge_grid]})
    assert time.perf_counter() - start < 5.0


def test_a_factory_that_cannot_be_counted_from_its_parameters_is_refused() -> None:
    from nrtk.interfaces import PerturbFactory

    from xaitk_wcam.study import plugins

    class UncountableFactory(PerturbFactory):
        """A sweep whose size only its own code knows."""

        @property
        def thetas(self) -> list[int]:
            return [1, 2, 3]

        def get_config(self) -> dict:
            return super().get_config()

    UncountableFactory.__module__ = "test_config_uncountable"
    plugins._CACHE.clear()
    try:
        from nrtk.impls.perturb_image.photometric.blur import AverageBlurPerturber

        entry = to_config_dict(UncountableFactory(perturber=AverageBlurPerturber, theta_key="ksize"))
        with pytest.raises(StudyConfigError, match=r"UncountableFactory cannot be counted"):
            SaliencyRobustnessStudy({**fake_config(), "perturbers": [entry]})
    finally:
        plugins._CACHE.clear()


def test_unknown_plugin_type_lists_the_available_ones() -> None:
    config = fake_config()
    config["saliency"]["wcam"] = {"type": "my.Missing", "my.Missing": {}}
    with pytest.raises(StudyConfigError, match=r"saliency\['wcam'\].*unknown plugin type 'my.Missing'") as info:
        SaliencyRobustnessStudy(config)
    assert "xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam.WCAM" in str(info.value)
    assert "SlidingWindowStack" in str(info.value)


def test_wrong_parameter_names_plugin_and_parameter() -> None:
    config = fake_config()
    key = config["saliency"]["wcam"]["type"]
    config["saliency"]["wcam"][key]["grid"] = 4
    with pytest.raises(StudyConfigError, match=r"plugin .*WCAM has no parameter 'grid'.*grid_size"):
        SaliencyRobustnessStudy(config)
    config = fake_config()
    config["saliency"]["wcam"][key]["grid_size"] = -1
    with pytest.raises(StudyConfigError, match=r"saliency\['wcam'\]: plugin .*WCAM rejected.*grid_size"):
        SaliencyRobustnessStudy(config)
    config = fake_config()
    config["perturbers"][0][config["perturbers"][0]["type"]]["start"] = 0  # ksize 0 is invalid
    with pytest.raises(StudyConfigError, match=r"perturbers\[0\].*ksize"):
        SaliencyRobustnessStudy(config)


def test_config_never_imports_unregistered_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "evil_study_module.py").write_text("import builtins\nbuiltins.EVIL_IMPORTED = True\nclass Evil: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for section in ("classifier", "images"):
        config = fake_config()
        config[section] = {"type": "evil_study_module.Evil", "evil_study_module.Evil": {}}
        with pytest.raises(StudyConfigError, match="unknown plugin type"):
            SaliencyRobustnessStudy(config)
    config = fake_config()
    config["perturbers"] = [{"type": "os.system", "os.system": {"command": "echo hi"}}]
    with pytest.raises(StudyConfigError, match=r"unknown plugin type 'os\.system'"):
        SaliencyRobustnessStudy(config)
    # a registered wrapper that would import an object from a "module:attribute" string is refused too
    from xaitk_wcam.classifiers import MaiteImageClassifier

    key = f"{MaiteImageClassifier.__module__}.{MaiteImageClassifier.__name__}"
    config = fake_config()
    config["classifier"] = {"type": key, key: {"model": "evil_study_module:Evil"}}
    with pytest.raises(StudyConfigError, match=r"parameter 'model' .* is an import path"):
        SaliencyRobustnessStudy(config)
    assert "evil_study_module" not in sys.modules
    import builtins

    assert not hasattr(builtins, "EVIL_IMPORTED")


def test_malformed_configs() -> None:
    base = fake_config()
    cases = [
        ({**base, "targets": "x"}, "unknown config key 'targets'"),
        ({k: v for k, v in base.items() if k != "saliency"}, "missing the key 'saliency'"),
        ({**base, "target": "best"}, "target must be one of"),
        ({**base, "saliency": {}}, "non-empty mapping"),
        ({**base, "saliency": {"bad/name": base["saliency"]["wcam"]}}, "saliency name"),
        ({**base, "metrics": {"type": "x"}}, "metrics must be a list"),
        ({**base, "metrics": [base["metrics"][0], base["metrics"][0]]}, "repeats another metric"),
        ({**base, "classifier": "FakeClassifier"}, "expected a plugin config"),
        ({**base, "perturbers": "blur"}, "perturbers must be a list"),
    ]
    for config, message in cases:
        with pytest.raises(StudyConfigError, match=message):
            SaliencyRobustnessStudy(config)


def test_yaml_config_and_defaults_hash_equal(tmp_path: Path) -> None:
    import yaml

    config = fake_config(n=1)
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(config))
    assert load_config(path) == config
    # omitted defaults resolve to the same hash as spelled-out ones
    minimal = json.loads(json.dumps(config))
    key = minimal["saliency"]["sw"]["type"]
    minimal["saliency"]["sw"][key] = {"window_size": [8, 8], "stride": [8, 8]}
    assert SaliencyRobustnessStudy(minimal).config_hash == SaliencyRobustnessStudy(config).config_hash
    (tmp_path / "x.txt").write_text("{}")
    with pytest.raises(StudyConfigError, match=r"\.json, \.yaml or \.yml"):
        load_config(tmp_path / "x.txt")


def test_a_plugins_own_keyword_check_runs_when_the_config_is_read() -> None:
    """A torch classifier given ONNX Runtime's threads is refused when the config is read, not when a worker builds
    the model (the classifier's check_config, the same check its constructor runs)."""
    from study_helpers import fake_config

    config = fake_config(n=1)
    key = "xaitk_wcam.classifiers.huggingface.HuggingFaceImageClassifier"
    config["classifier"] = {"type": key, key: {"model_name_or_path": "no-such-model-is-loaded", "threads": 2}}
    with pytest.raises(StudyConfigError, match=r"classifier: plugin .*Classifier: threads, .* apply to backend"):
        SaliencyRobustnessStudy(config)
