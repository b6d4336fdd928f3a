"""Tests of the saliency-robustness study: config resolution, work items, resume, errors, executors, report."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from nrtk.impls.perturb_factory import PerturberStepFactory
from nrtk.impls.perturb_image.photometric.blur import AverageBlurPerturber
from nrtk.impls.perturb_image.photometric.enhance import BrightnessPerturber
from smqtk_core.configuration import to_config_dict
from study_helpers import TIMING, FakeClassifier, FakeImages, SimulatedKill, as_json, fake_config
from xaitk_saliency.impls.gen_image_classifier_blackbox_sal.slidingwindow import SlidingWindowStack
from xaitk_saliency.impls.saliency_metric.entropy import Entropy

from xaitk_wcam.impls.comparison import SSD, XCorr
from xaitk_wcam.impls.faithfulness import Deletion
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM
from xaitk_wcam.study import (
    OutDirError,
    ResultsStore,
    SaliencyRobustnessStudy,
    StudyConfigError,
    config_hash,
    load_config,
    parse_executor,
    resolve_config,
)
from xaitk_wcam.study.executors import DaskExecutor, LocalExecutor, ProcessExecutor
from xaitk_wcam.study.plan import StudyPlan


def _csv(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "results.csv").drop(columns=TIMING)


# -- a full study with a tiny local model ------------------------------------------------------------------
def test_full_study_tiny_model(tiny_resnet_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier

    classifier = HuggingFaceImageClassifier(str(tiny_resnet_dir), device="cpu", batch_size=16)
    config = as_json(
        {
            "classifier": to_config_dict(classifier),
            "images": to_config_dict(FakeImages(n=2, size=32)),
            "perturbers": [
                to_config_dict(
                    PerturberStepFactory(perturber=AverageBlurPerturber, theta_key="ksize", start=3, stop=6, step=2)
                ),
                to_config_dict(BrightnessPerturber(factor=0.5)),
            ],
            "saliency": {
                "wcam": to_config_dict(WCAM(levels=2, grid_size=4, nb_design=2, batch_size=16)),
                "sliding": to_config_dict(SlidingWindowStack(window_size=(8, 8), stride=(8, 8))),
            },
            "metrics": [
                to_config_dict(Entropy()),
                to_config_dict(Entropy(clip_range=(0, 1))),
                to_config_dict(SSD()),
                to_config_dict(XCorr()),
                to_config_dict(Deletion(max_steps=4)),
            ],
            "target": "reference_prediction",
            "noise_floor": False,  # tested on its own (test_noise_floor_rows_and_band)
        }
    )
    # each method's map is generated once per item: the reference map is never recomputed
    generated: list[tuple[str, int]] = []
    original = SlidingWindowStack._generate

    def spy(self: Any, ref_image: np.ndarray, blackbox: Any) -> np.ndarray:
        generated.append(("sliding", int(ref_image.sum())))
        return original(self, ref_image, blackbox)

    monkeypatch.setattr(SlidingWindowStack, "_generate", spy)

    out = tmp_path / "out"
    frame = SaliencyRobustnessStudy(config).run(out, progress=False)

    expected_cols = [
        "image_id", "perturbation", "method", "status", "predicted_label", "predicted_confidence",
        "target_label", "target_confidence", "Entropy[clip_range=None]", "Entropy[clip_range=[0,1]]",
        "SSD", "XCorr", "dauc", "dc", "scale_share_0", "scale_share_1", "scale_share_2", "seconds",
    ]  # fmt: skip
    assert list(frame.columns) == expected_cols
    perturbations = ["reference", "AverageBlurPerturber(ksize=3)", "AverageBlurPerturber(ksize=5)",
                     "BrightnessPerturber(factor=0.5)"]  # fmt: skip
    assert len(frame) == 2 * 4 * 2
    assert list(frame["image_id"]) == ["img0"] * 8 + ["img1"] * 8
    assert list(frame["perturbation"][:8]) == [p for p in perturbations for _ in range(2)]
    assert list(frame["method"][:2]) == ["wcam", "sliding"]
    assert (frame["status"] == "ok").all(), frame["status"].tolist()
    assert len(generated) == 2 * 4  # images x items, once each

    labels = list(classifier.get_labels())
    assert frame["predicted_label"].isin(labels).all()
    # target = the reference prediction, for every perturbation of the image
    for _, group in frame.groupby("image_id"):
        ref_pred = group[group["perturbation"] == "reference"]["predicted_label"].iloc[0]
        assert (group["target_label"] == ref_pred).all()
    ref = frame[frame["perturbation"] == "reference"]
    pert = frame[frame["perturbation"] != "reference"]
    assert ref[["SSD", "XCorr"]].isna().all().all()
    assert np.isfinite(pert[["SSD", "XCorr", "dauc", "dc"]].to_numpy()).all()
    wcam = frame[frame["method"] == "wcam"]
    shares = wcam[["scale_share_0", "scale_share_1", "scale_share_2"]].to_numpy()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, atol=1e-6)
    assert frame[frame["method"] == "sliding"][["scale_share_0"]].isna().all().all()

    # comparisons are against the reference map of the same image and method, read back from maps/
    store = ResultsStore(out)
    ref_maps = store.load_arrays("000001-0000")
    blur_maps = store.load_arrays("000001-0002")
    assert {m: set(s) for m, s in ref_maps.maps.items()} == {"wcam": {"wavelet", "pixel"}, "sliding": {"pixel"}}
    row = frame[(frame["image_id"] == "img1") & (frame["perturbation"] == perturbations[2])]
    for method, space in (("wcam", "wavelet"), ("sliding", "pixel")):
        value = row[row["method"] == method]["XCorr"].iloc[0]
        assert value == pytest.approx(XCorr().compute(blur_maps.maps[method][space], ref_maps.maps[method][space]))
    np.testing.assert_array_equal(blur_maps.image, AverageBlurPerturber(ksize=5)(image=ref_maps.image)[0])

    # outputs
    for name in ("results.csv", "results.parquet", "config.json", "report.html", "study.json"):
        assert (out / name).is_file(), name
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), frame)
    csv = pd.read_csv(out / "results.csv")
    np.testing.assert_array_equal(csv["XCorr"].to_numpy(), frame["XCorr"].to_numpy())
    resolved = json.loads((out / "config.json").read_text())
    assert config_hash(resolved) == json.loads((out / "study.json").read_text())["config_hash"]
    assert resolve_config(resolved) == resolved  # the resolved config is a fixed point
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert "image_000000.png" in figures and "image_000001.png" in figures
    assert any(f.startswith("curves_") and "AverageBlur" in f for f in figures)
    assert any(f.startswith("curves_") and "Brightness" in f for f in figures)
    assert any(f.startswith("profile_") for f in figures)
    report = (out / "report.html").read_text()
    assert report.count("data:image/png;base64,") == len(figures)
    assert 'src="http' not in report and "<link" not in report
    assert "<table" in report


# -- resume ----------------------------------------------------------------------------------------------
def test_resume_after_kills_gives_the_same_csv(tmp_path: Path) -> None:
    config = fake_config(n=3, size=32)
    study = SaliencyRobustnessStudy(config)
    study.run(tmp_path / "full", progress=False, report=False)
    total_calls = FakeClassifier.calls
    expected = _csv(tmp_path / "full")
    assert len(expected) == 3 * 3 * 2

    for kill_after in (1, total_calls // 5, total_calls // 2, total_calls - 1):
        out = tmp_path / f"killed_{kill_after}"
        FakeClassifier.calls, FakeClassifier.kill_after = 0, kill_after
        with pytest.raises(SimulatedKill):
            study.run(out, progress=False, report=False)
        committed = ResultsStore(out).committed_keys()
        assert len(committed) < 9
        FakeClassifier.kill_after = None
        SaliencyRobustnessStudy(config).run(out, resume=True, progress=False, report=False)
        got = _csv(out)
        pd.testing.assert_frame_equal(got, expected)
        assert not got.duplicated(["image_id", "perturbation", "method"]).any()
        # committed items were kept, not recomputed: their timing survives the resume
        kept = {k: ResultsStore(out).load_item(k) for k in committed}
        assert all(kept[k] is not None for k in committed)


def test_kill_inside_a_commit_leaves_no_half_item(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = fake_config(n=2, size=32)
    SaliencyRobustnessStudy(config).run(tmp_path / "full", progress=False, report=False)
    expected = _csv(tmp_path / "full")

    import xaitk_wcam.study.store as store_mod

    replaced = {"n": 0}
    real_replace = os.replace

    def replace(src: str, dst: str) -> None:
        replaced["n"] += 1
        if replaced["n"] == 6:  # config.json, study.json, item 1 (maps, JSON), item 2 maps: not its JSON
            raise SimulatedKill("killed between the maps and the item record")
        real_replace(src, dst)

    monkeypatch.setattr(store_mod.os, "replace", replace)
    out = tmp_path / "killed"
    with pytest.raises(SimulatedKill):
        SaliencyRobustnessStudy(config).run(out, progress=False, report=False)
    monkeypatch.setattr(store_mod.os, "replace", real_replace)
    assert ResultsStore(out).committed_keys() == {"000000-0000"}
    assert (out / "maps" / "000000-0001.npz").exists()  # orphan maps: not a committed item
    assert not list((out / "items").glob("*.tmp")) and not list((out / "items").glob(".*"))
    SaliencyRobustnessStudy(config).run(out, resume=True, progress=False, report=False)
    pd.testing.assert_frame_equal(_csv(out), expected)


# -- failing images ------------------------------------------------------------------------------------------
def test_bad_images_are_recorded_and_the_study_goes_on(tmp_path: Path) -> None:
    config = fake_config(n=5, size=32, bad=1, black=2, unreadable=3)
    frame = SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False, report=True)
    assert len(frame) == 5 * 3 * 2
    by_image = {k: g for k, g in frame.groupby("image_id", sort=False)}
    assert list(by_image) == ["img0", "img1", "img2", "img3", "img4"]
    assert (by_image["img0"]["status"] == "ok").all()
    assert (by_image["img4"]["status"] == "ok").all()
    assert by_image["img1"]["status"].str.contains("shape").all()
    assert by_image["img1"]["predicted_label"].isna().all()
    black = by_image["img2"]
    assert black[black["perturbation"] == "reference"]["status"].str.contains("all-black").all()
    assert black[black["perturbation"] != "reference"]["status"].str.startswith("reference failed").all()
    assert (by_image["img3"]["status"] == "OSError: cannot read img3").all()
    assert (tmp_path / "out" / "report.html").exists()


def test_ground_truth_and_prediction_targets(tmp_path: Path) -> None:
    config = fake_config(n=2, size=32)
    config["target"] = "ground_truth"
    frame = SaliencyRobustnessStudy(config).run(tmp_path / "gt", progress=False, report=False)
    assert list(frame.groupby("image_id", sort=False)["target_label"].unique().map(list)) == [["red"], ["green"]]
    config["target"] = "prediction"
    frame = SaliencyRobustnessStudy(config).run(tmp_path / "pred", progress=False, report=False)
    assert (frame["target_label"] == frame["predicted_label"]).all()


# -- executors ---------------------------------------------------------------------------------------------
def test_parse_executor() -> None:
    assert parse_executor("local") == (LocalExecutor, {})
    assert parse_executor("processes:3") == (ProcessExecutor, {"workers": 3})
    assert parse_executor("dask:local:2") == (DaskExecutor, {"workers": 2})
    assert parse_executor("dask:tcp://10.0.0.1:8786") == (DaskExecutor, {"address": "tcp://10.0.0.1:8786"})
    for bad in ("threads", "processes:0", "processes:x", "dask:", "dask:local:-1", "local:2"):
        with pytest.raises(ValueError, match="executor"):
            parse_executor(bad)


def _write_pngs(folder: Path, n: int, size: int = 32) -> None:
    from PIL import Image

    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(folder / f"im{i}.png")


def _registered_config(model_dir: Path, images_dir: Path) -> dict[str, Any]:
    """Only registered plugins, so that fresh worker processes resolve it."""
    from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier
    from xaitk_wcam.sources import FolderImages

    return as_json(
        {
            "classifier": to_config_dict(HuggingFaceImageClassifier(str(model_dir), device="cpu", batch_size=16)),
            "images": to_config_dict(FolderImages(str(images_dir))),
            "perturbers": [
                to_config_dict(AverageBlurPerturber(ksize=3)),
                to_config_dict(AverageBlurPerturber(ksize=5)),
            ],
            "saliency": {
                "wcam": to_config_dict(WCAM(levels=2, grid_size=4, nb_design=2, batch_size=16)),
                "sliding": to_config_dict(SlidingWindowStack(window_size=(8, 8), stride=(8, 8))),
            },
            "metrics": [to_config_dict(Entropy()), to_config_dict(SSD()), to_config_dict(XCorr())],
            "noise_floor": False,  # tested on its own (test_noise_floor_rows_and_band)
        }
    )


@pytest.fixture(scope="module")
def local_run(tiny_resnet_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """A registered-plugins config and its local run, to compare the other executors with."""
    root = tmp_path_factory.mktemp("executors")
    _write_pngs(root / "images", 3)
    config = _registered_config(tiny_resnet_dir, root / "images")
    local = SaliencyRobustnessStudy(config).run(root / "local", progress=False, report=False)
    assert (local["status"] == "ok").all()
    return config, root / "local"


@pytest.mark.slow
def test_dask_local_cluster_equals_local(local_run: tuple[dict[str, Any], Path], tmp_path: Path) -> None:
    config, local = local_run
    SaliencyRobustnessStudy(config).run(tmp_path / "dask", executor="dask:local:2", progress=False, report=False)
    pd.testing.assert_frame_equal(_csv(tmp_path / "dask"), _csv(local))


@pytest.mark.slow
def test_process_pool_equals_local(local_run: tuple[dict[str, Any], Path], tmp_path: Path) -> None:
    config, local = local_run
    SaliencyRobustnessStudy(config).run(tmp_path / "procs", executor="processes:2", progress=False, report=False)
    pd.testing.assert_frame_equal(_csv(tmp_path / "procs"), _csv(local))


# -- config errors --------------------------------------------------------------------------------------------
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


def test_metric_column_names_are_unique() -> None:
    config = fake_config()
    config["metrics"] = as_json([to_config_dict(Entropy(clip_range=c)) for c in (None, (0, 1), (-1, 0))])
    plan = StudyPlan.from_resolved(resolve_config(config), "")
    assert [c.column for c in plan.columns] == [
        "Entropy[clip_range=None]",
        "Entropy[clip_range=[0,1]]",
        "Entropy[clip_range=[-1,0]]",
    ]


def test_out_dir_guard(tmp_path: Path) -> None:
    config = fake_config(n=1, size=32)
    out = tmp_path / "out"
    SaliencyRobustnessStudy(config).run(out, progress=False, report=False)
    with pytest.raises(OutDirError, match="pass --resume"):
        SaliencyRobustnessStudy(config).run(out, progress=False, report=False)
    other = fake_config(n=1, size=32)
    other["metrics"] = other["metrics"][:1]
    for resume in (False, True):
        with pytest.raises(OutDirError, match="different config"):
            SaliencyRobustnessStudy(other).run(out, resume=resume, progress=False, report=False)
    before = (out / "results.csv").read_text()
    FakeClassifier.calls = 0
    SaliencyRobustnessStudy(config).run(out, resume=True, progress=False, report=False)
    assert FakeClassifier.calls == 0  # everything was already done
    assert (out / "results.csv").read_text() == before
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("x")
    with pytest.raises(OutDirError, match="holds no study"):
        SaliencyRobustnessStudy(config).run(tmp_path / "junk", progress=False, report=False)


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


@pytest.mark.parametrize("name", ["blur-study.json", "noise-study.yaml"])
def test_example_configs_resolve(name: str) -> None:
    path = Path(__file__).resolve().parents[2] / "examples" / name
    resolved = resolve_config(load_config(path))
    plan = StudyPlan.from_resolved(resolved, "")
    assert len(plan.perturbations) >= 3 and "wcam" in plan.method_names


# -- metrics dispatch on the declared map space ----------------------------------------------------------------
def test_spectrum_maps_get_no_pixel_metric_and_the_report_says_so(tmp_path: Path) -> None:
    from xaitk_wcam.impls.faithfulness import Insertion
    from xaitk_wcam.impls.gen_image_classifier_blackbox_sal import FourierSobol
    from xaitk_wcam.impls.saliency_metric import ScaleShare, SpatialSpread

    config = fake_config(n=1)
    config["saliency"]["fourier"] = to_config_dict(FourierSobol(grid_size=4, nb_design=2, batch_size=16))
    config["metrics"] += [
        to_config_dict(Deletion(max_steps=4, fill="mean")),  # the fake classifier refuses all-black images
        to_config_dict(Insertion(max_steps=4, fill="mean")),
        to_config_dict(SpatialSpread()),
        to_config_dict(ScaleShare(level=0, levels=2)),
    ]
    study = SaliencyRobustnessStudy(as_json(config))
    frame = study.run(tmp_path / "out", progress=False)
    assert (frame["status"] == "ok").all(), frame["status"].tolist()
    fourier, wcam, sw = (frame[frame["method"] == m] for m in ("fourier", "wcam", "sw"))
    pixel_only = ["dauc", "dc", "iauc", "ic", "SpatialSpread"]
    assert fourier[[*pixel_only, "ScaleShare"]].isna().all().all()  # spectrum maps: not applicable
    assert fourier[["Entropy", "SSD"]].iloc[1:].notna().all().all()  # map metrics and comparisons apply
    assert wcam[[*pixel_only, "ScaleShare"]].notna().all().all()  # WCAM: pixel map for pixel metrics, wavelet map
    assert sw["ScaleShare"].isna().all() and sw[pixel_only].notna().all().all()  # a pixel method: no wavelet map
    report = (tmp_path / "out" / "report.html").read_text()
    assert "dauc accepts pixel maps; fourier gives spectrum maps: not applicable" in report
    assert "ScaleShare accepts wavelet maps; sw gives pixel maps: not applicable" in report


# -- the noise floor -----------------------------------------------------------------------------------------
def test_noise_floor_rows_and_band(tmp_path: Path) -> None:
    from xaitk_wcam.study.report import noise_floor_table

    config = {**fake_config(n=2), "noise_floor": True}
    study = SaliencyRobustnessStudy(config)
    assert study.plan.seeded == ["wcam"] and study.plan.noise_floor_index == 3  # reference, 2 blurs, noise floor
    frame = study.run(tmp_path / "out", progress=False)
    floor = frame[frame["perturbation"] == "noise_floor"]
    assert list(floor["method"]) == ["wcam", "wcam"]  # the sliding window is deterministic: no row
    assert (floor["status"] == "ok").all() and floor[["SSD", "XCorr"]].notna().all().all()
    assert floor["Entropy"].isna().all()  # comparisons only
    # the second map is WCAM with seed + 1: its XCorr with the reference map is below 1
    assert (floor["XCorr"] < 1).all()
    table = noise_floor_table(frame, study.plan)
    assert set(table["metric"]) == {"SSD", "XCorr"} and set(table["exceeds noise floor"]) <= {"yes", "no"}
    report = (tmp_path / "out" / "report.html").read_text()
    assert "Perturbation effect versus the noise floor" in report and "exceeds noise floor" in report
    off = SaliencyRobustnessStudy(fake_config(n=2)).run(tmp_path / "off", progress=False, report=False)
    assert "noise_floor" not in set(off["perturbation"]) and len(off) == len(frame) - 2


def test_progress_bar_has_a_total_and_an_eta(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    SaliencyRobustnessStudy(fake_config(n=2)).run(tmp_path / "out", progress=True, report=False)
    err = capsys.readouterr().err
    assert "/6 " in err  # 2 images x (reference + 2 blurs), known from the source's length
    assert "<" in err and "?" not in err.rsplit("\r", 1)[-1]  # an ETA, not tqdm's unknown-total form
