"""Tests of the ``xaitk-wcam`` command line, run in-process with click's ``CliRunner``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from nrtk.impls.perturb_image.photometric.blur import AverageBlurPerturber
from smqtk_core.configuration import to_config_dict
from xaitk_saliency.impls.saliency_metric.entropy import Entropy

from xaitk_wcam.cli import main
from xaitk_wcam.impls.comparison import XCorr
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM


def _png(path: Path, size: int = 32, seed: int = 0) -> Path:
    from PIL import Image

    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path)
    return path


def _config(model_dir: Path, images: Path) -> dict[str, Any]:
    from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier
    from xaitk_wcam.sources import FolderImages

    return json.loads(
        json.dumps(
            {
                "classifier": to_config_dict(HuggingFaceImageClassifier(str(model_dir), device="cpu", batch_size=16)),
                "images": to_config_dict(FolderImages(str(images))),
                "perturbers": [to_config_dict(AverageBlurPerturber(ksize=3))],
                "saliency": {"wcam": to_config_dict(WCAM(levels=2, grid_size=4, nb_design=2, batch_size=16))},
                "metrics": [to_config_dict(Entropy()), to_config_dict(XCorr())],
                "noise_floor": False,
            }
        )
    )


def test_plugins_lists_saliency_metric_and_perturber_plugins() -> None:
    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 0, result.output
    for name in (
        "xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam.WCAM",
        "xaitk_saliency.impls.gen_image_classifier_blackbox_sal.slidingwindow.SlidingWindowStack",
        "xaitk_saliency.impls.gen_image_classifier_blackbox_sal.rise.RISEStack",
        "nrtk.impls.perturb_image.photometric.blur.AverageBlurPerturber",
        "nrtk.impls.perturb_factory.PerturberLinspaceFactory",
        "xaitk_saliency.impls.saliency_metric.entropy.Entropy",
        "xaitk_wcam.impls.comparison.xcorr.XCorr",
        "xaitk_wcam.impls.faithfulness.deletion_insertion.Deletion",
        "xaitk_wcam.classifiers.huggingface.HuggingFaceImageClassifier",
    ):
        assert name in result.output
    as_json = CliRunner().invoke(main, ["plugins", "--json"])
    table = json.loads(as_json.output)
    assert set(table) == {"classifier", "detector", "images", "perturbers", "saliency", "metrics"}
    assert not any(name.rsplit(".", 1)[1].startswith("_") for names in table.values() for name in names)


def test_study_command_runs_resumes_and_refuses(tiny_resnet_dir: Path, tmp_path: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    _png(images / "a.png", seed=0)
    _png(images / "b.png", seed=1)
    config = tmp_path / "study.json"
    config.write_text(json.dumps(_config(tiny_resnet_dir, images)))
    out = tmp_path / "out"
    runner = CliRunner()

    result = runner.invoke(main, ["study", str(config), str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "4 rows (0 with errors)" in result.output
    frame = pd.read_csv(out / "results.csv")
    assert list(frame["image_id"]) == ["a.png", "a.png", "b.png", "b.png"]
    assert (out / "report.html").exists()

    again = runner.invoke(main, ["study", str(config), str(out), "--quiet"])
    assert again.exit_code != 0 and "--resume" in again.output

    resumed = runner.invoke(main, ["study", str(config), str(out), "--resume", "--quiet", "--no-report"])
    assert resumed.exit_code == 0, resumed.output
    pd.testing.assert_frame_equal(pd.read_csv(out / "results.csv"), frame)
    retried = runner.invoke(
        main, ["study", str(config), str(out), "--resume", "--retry-failed", "--max-worker-deaths", "2", "--quiet"]
    )
    assert retried.exit_code == 0, retried.output
    pd.testing.assert_frame_equal(pd.read_csv(out / "results.csv"), frame)  # nothing had failed

    bad = runner.invoke(main, ["study", str(config), str(tmp_path / "o2"), "--executor", "threads:2"])
    assert bad.exit_code != 0 and "executor" in bad.output

    broken = json.loads(config.read_text())
    broken["saliency"]["wcam"] = {"type": "nope.Nope", "nope.Nope": {}}
    config.write_text(json.dumps(broken))
    unknown = runner.invoke(main, ["study", str(config), str(tmp_path / "o3")])
    assert unknown.exit_code != 0
    assert "unknown plugin type 'nope.Nope'" in unknown.output and "WCAM" in unknown.output


def test_explain_writes_one_png(tiny_resnet_dir: Path, tmp_path: Path) -> None:
    image = _png(tmp_path / "img.png", size=48)
    out = tmp_path / "figs" / "wcam.png"
    args = ["explain", str(image), "--out", str(out), "--model", str(tiny_resnet_dir)]
    result = CliRunner().invoke(main, [*args, "--levels", "2", "--grid-size", "4", "--nb-design", "2"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(out) as png:
        assert png.size[0] > png.size[1] > 100  # one wide figure

    wrong = CliRunner().invoke(main, [*args, "--grid-size", "4", "--nb-design", "2", "--label", "durian"])
    assert wrong.exit_code != 0 and "durian" in wrong.output


@pytest.mark.parametrize(("method", "passes"), [("wam-sg", 25), ("wam-ig", 25)])
def test_explain_with_wam_writes_its_figure(tiny_resnet_dir: Path, tmp_path: Path, method: str, passes: int) -> None:
    image = _png(tmp_path / "img.png", size=48)
    out = tmp_path / f"{method}.png"
    args = ["explain", str(image), "--out", str(out), "--model", str(tiny_resnet_dir), "--levels", "2"]
    result = CliRunner().invoke(main, [*args, "--method", method])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    wrong = CliRunner().invoke(main, [*args, "--method", "wam"])
    assert wrong.exit_code == 2 and "wam-sg" in wrong.output


@pytest.mark.parametrize("argv", [["study", "missing.json", "out"], ["explain", "missing.png", "--out", "x.png"]])
def test_missing_inputs_are_usage_errors(argv: list[str]) -> None:
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2
    assert "does not exist" in result.output


# -- quiet by default, one error line ----------------------------------------------------------------------------
def test_discovery_messages_of_other_packages_only_with_verbose() -> None:
    quiet = CliRunner().invoke(main, ["plugins"])
    assert quiet.exit_code == 0 and "Failed to import" not in quiet.output
    loud = CliRunner().invoke(main, ["-v", "plugins"])
    assert loud.exit_code == 0


def test_expected_failures_are_one_error_line(tmp_path: Path, tiny_resnet_dir: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    _png(images / "a.png")
    config = _config(tiny_resnet_dir, images)

    def run(*args: str) -> Any:
        result = CliRunner().invoke(main, list(args))
        assert result.exit_code == 1, result.output
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
        assert "Traceback" not in result.output
        return result.output

    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("classifier: [unclosed\n")
    assert "cannot parse" in run("study", str(bad_yaml), str(tmp_path / "o1"))
    missing_model = tmp_path / "missing.json"
    cfg = json.loads(json.dumps(config))
    cfg["classifier"][cfg["classifier"]["type"]]["model_name_or_path"] = str(tmp_path / "no-model")
    missing_model.write_text(json.dumps(cfg))
    assert "no-model" in run("study", str(missing_model), str(tmp_path / "o2"))
    cuda = tmp_path / "cuda.json"
    cfg = json.loads(json.dumps(config))
    cfg["classifier"][cfg["classifier"]["type"]]["device"] = "cuda"
    cuda.write_text(json.dumps(cfg))
    import torch

    if not torch.cuda.is_available():  # the CPU build this project pins
        assert "CUDA is not available" in run("study", str(cuda), str(tmp_path / "o3"))
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps(config))
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    assert "file-not-folder" in run("study", str(ok), str(blocked / "out"))
    assert "unknown" in run(
        "explain",
        str(images / "a.png"),
        "--out",
        str(tmp_path / "x.png"),
        "--model",
        str(tiny_resnet_dir),
        "--label",
        "unknown",
        "--grid-size",
        "4",
        "--nb-design",
        "2",
    )
    debug = CliRunner().invoke(main, ["--debug", "study", str(bad_yaml), str(tmp_path / "o4")])
    assert debug.exit_code != 0 and debug.exception is not None  # the exception itself, with its traceback


# -- explain: prediction, confidence warning, budget, backend, threads, wall time, progress ---------------------
def _explain_args(tmp_path: Path, model_dir: Path, *extra: str) -> list[str]:
    image = _png(tmp_path / "img.png", size=48)
    return ["explain", str(image), "--out", str(tmp_path / "out.png"), "--model", str(model_dir), "--levels", "2",
            "--grid-size", "4", *extra]  # fmt: skip


def test_explain_reports_prediction_cost_and_wall_time(
    tiny_resnet_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xaitk_wcam.cli as cli

    monkeypatch.setattr(cli, "LOW_CONFIDENCE", 0.0)  # no class is below: no warning
    result = CliRunner().invoke(main, _explain_args(tmp_path, tiny_resnet_dir, "--nb-design", "2"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert re.fullmatch(r"prediction: \w+ \(0\.\d{3}\)", lines[0]), lines
    assert lines[1] == "WCAM: 36 forward passes (grid 4, nb_design 2)"
    assert re.fullmatch(
        r"\w+ \(0\.\d{3}\): .*out\.png \(36 passes in \d+\.\d s(, stability -?\d\.\d\d)?; \d+\.\d s in all\)", lines[-1]
    ), lines
    assert "warning" not in result.output and "explaining:" not in result.output

    monkeypatch.setattr(cli, "LOW_CONFIDENCE", 1.01)  # every class is below
    top = CliRunner().invoke(main, _explain_args(tmp_path, tiny_resnet_dir, "--nb-design", "2"))
    assert top.exit_code == 0, top.output
    assert re.search(r"warning: the model is unsure \(\w+: 0\.\d{3} < 1\.01\); the map explains a weak prediction",
                     top.output), top.output  # fmt: skip
    predicted = re.match(r"prediction: (\w+)", top.output).group(1)
    other = next(label for label in ("apple", "banana") if label != predicted)
    weak = CliRunner().invoke(main, _explain_args(tmp_path, tiny_resnet_dir, "--nb-design", "2", "--label", other))
    assert weak.exit_code == 0, weak.output
    assert re.search(rf"explaining: {other} \(0\.\d{{3}}\)", weak.output), weak.output
    assert f"warning: the model gives this class a low confidence ({other}: 0." in weak.output


def test_explain_budget_grows_the_design_within_it(tiny_resnet_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, _explain_args(tmp_path, tiny_resnet_dir, "--budget", "400"))
    assert result.exit_code == 0, result.output
    assert "WCAM: up to 400 forward passes (grid 4, nb_design from 8 until the map's stability reaches 0.80)" in (
        result.output
    )
    passes = int(re.search(r"\((\d+) passes in", result.output).group(1))
    assert 8 * (16 + 2) <= passes <= 400

    def usage(*extra: str) -> str:
        wrong = CliRunner().invoke(main, _explain_args(tmp_path, tiny_resnet_dir, *extra))
        assert wrong.exit_code == 2, wrong.output
        return wrong.output

    assert "--budget and --nb-design" in usage("--budget", "400", "--nb-design", "8")
    assert "--method wcam only" in usage("--budget", "400", "--method", "wam-sg")
    too_small = CliRunner().invoke(main, _explain_args(tmp_path, tiny_resnet_dir, "--budget", "100"))
    assert too_small.exit_code == 1 and "max_evaluations=100 is below one minimal design" in too_small.output


def test_explain_passes_backend_and_threads(
    tiny_resnet_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    import xaitk_wcam.classifiers.huggingface as huggingface

    built: list[dict[str, Any]] = []
    real = huggingface.HuggingFaceImageClassifier

    def recording(name: str, **kwargs: Any) -> Any:
        built.append({"name": name, **kwargs, "threads": torch.get_num_threads()})
        return real(name, **{**kwargs, "backend": "torch"})  # the ONNX export is tested in tests/classifiers

    monkeypatch.setattr(huggingface, "HuggingFaceImageClassifier", recording)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)  # so that --threads 1 shows, whatever the default (1 under pytest -n 2)
        args = _explain_args(tmp_path, tiny_resnet_dir, "--nb-design", "2", "--backend", "onnxruntime")
        result = CliRunner().invoke(main, [*args, "--threads", "1"])
    finally:
        torch.set_num_threads(threads)
    assert result.exit_code == 0, result.output
    assert built == [{"name": str(tiny_resnet_dir), "backend": "onnxruntime", "threads": 1}]
    wrong = CliRunner().invoke(main, _explain_args(tmp_path, tiny_resnet_dir, "--backend", "tensorflow"))
    assert wrong.exit_code == 2 and "onnxruntime" in wrong.output
    zero = CliRunner().invoke(main, _explain_args(tmp_path, tiny_resnet_dir, "--threads", "0"))
    assert zero.exit_code == 2 and "--threads" in zero.output


def test_explain_progress_bar_forced_by_the_environment_and_quiet(
    tiny_resnet_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = _explain_args(tmp_path, tiny_resnet_dir, "--nb-design", "2")
    assert "WCAM:" not in CliRunner().invoke(main, args).output.replace("WCAM: 36 forward", "")  # not a terminal
    monkeypatch.setenv("XAITK_WCAM_PROGRESS", "1")
    shown = CliRunner().invoke(main, args)
    assert shown.exit_code == 0 and re.search(r"WCAM: 100%\|[^|]*\| 36/36", shown.output), shown.output
    quiet = CliRunner().invoke(main, [*args, "--quiet"])
    assert quiet.exit_code == 0 and "36/36" not in quiet.output


def test_explain_names_close_labels(tiny_resnet_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, _explain_args(tmp_path, tiny_resnet_dir, "--label", "banan"))
    assert result.exit_code == 1 and "closest: ['banana']" in result.output


# -- model loads: quiet unless -v ------------------------------------------------------------------------------
def test_model_load_hides_other_packages_unless_verbose(caplog: pytest.LogCaptureFixture) -> None:
    import warnings

    import transformers.utils.logging as hf_logging

    import xaitk_wcam.cli as cli_module
    from xaitk_wcam.cli import quiet_model_load

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # huggingface_hub: "HF_HUB_DISABLE_PROGRESS_BARS has priority"
        hf_logging.enable_progress_bar()
    try:
        with caplog.at_level("DEBUG", logger="xaitk_wcam.cli"), warnings.catch_warnings(record=True) as shown:
            warnings.simplefilter("always")
            with quiet_model_load(verbose=False):
                assert hf_logging.get_verbosity() == hf_logging.ERROR and not hf_logging.is_progress_bar_enabled()
                warnings.warn_explicit("weights not initialised", UserWarning, "/elsewhere/transformers/x.py", 1)
                warnings.warn_explicit("this package's own warning", UserWarning, cli_module.__file__, 1)
        assert [str(w.message) for w in shown] == ["this package's own warning"]
        assert "UserWarning: weights not initialised" in caplog.text
        assert hf_logging.get_verbosity() == verbosity and hf_logging.is_progress_bar_enabled()  # restored

        with warnings.catch_warnings(record=True) as shown:
            warnings.simplefilter("always")
            with quiet_model_load(verbose=True):
                assert hf_logging.get_verbosity() == verbosity and hf_logging.is_progress_bar_enabled()
                warnings.warn_explicit("weights not initialised", UserWarning, "/elsewhere/transformers/x.py", 1)
        assert [str(w.message) for w in shown] == ["weights not initialised"]
    finally:
        hf_logging.set_verbosity(verbosity)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (hf_logging.enable_progress_bar if bars else hf_logging.disable_progress_bar)()


def test_verbose_flag_reaches_the_model_load(
    tiny_resnet_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xaitk_wcam.cli as cli

    seen: list[bool] = []
    real = cli.quiet_model_load

    def recording(verbose: bool) -> Any:
        seen.append(verbose)
        return real(verbose)

    monkeypatch.setattr(cli, "quiet_model_load", recording)
    args = _explain_args(tmp_path, tiny_resnet_dir, "--nb-design", "2")
    assert CliRunner().invoke(main, args).exit_code == 0
    assert CliRunner().invoke(main, ["-v", *args]).exit_code == 0
    assert seen == [False, True]


# -- plugins NAME, --json ----------------------------------------------------------------------------------------
def test_plugins_name_prints_parameters_defaults_and_summary() -> None:
    result = CliRunner().invoke(main, ["plugins", "BrightnessPerturber"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "nrtk.impls.perturb_image.photometric.enhance.BrightnessPerturber  [perturbers]"
    assert "  factor = 1.0" in lines and "Adjusts image stimulus brightness." in result.output

    wcam = CliRunner().invoke(main, ["plugins", "wcam"])  # a class name, any case
    assert wcam.exit_code == 0, wcam.output
    for line in ("  grid_size = 28", '  estimator = "importance"', "  max_evaluations = null", "  progress = null"):
        assert line in wcam.output.splitlines(), line
    assert "Wavelet sCale Attribution Method" in wcam.output and ":data:" not in wcam.output  # plain text

    factory = CliRunner().invoke(main, ["plugins", "nrtk.impls.perturb_factory.PerturberLinspaceFactory"])
    assert factory.exit_code == 0 and "  theta_key (required)" in factory.output.splitlines()
    assert factory.output.count("[perturbers]") == 1  # a type string selects one plugin


def test_plugins_unknown_name_suggests_close_ones() -> None:
    result = CliRunner().invoke(main, ["plugins", "brightnes"])
    assert result.exit_code == 1 and result.output.startswith("Error: no plugin named 'brightnes' (closest: ")
    assert "BrightnessPerturber" in result.output
    nothing = CliRunner().invoke(main, ["plugins", "qqqqqq"])
    assert nothing.exit_code == 1 and "`xaitk-wcam plugins` lists them" in nothing.output


def test_plugins_json_holds_every_plugins_parameters() -> None:
    table = json.loads(CliRunner().invoke(main, ["plugins", "--json"]).output)
    wcam = table["saliency"]["xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam.WCAM"]
    assert wcam["summary"].startswith("Wavelet sCale Attribution Method")
    assert wcam["parameters"]["grid_size"] == {"default": 28, "required": False, "description": wcam["parameters"][
        "grid_size"]["description"]} and wcam["parameters"]["grid_size"]["description"]  # fmt: skip
    assert all(set(info) == {"class", "summary", "parameters"} for names in table.values() for info in names.values())
    one = json.loads(CliRunner().invoke(main, ["plugins", "BrightnessPerturber", "--json"]).output)
    (key,) = one
    assert one[key]["section"] == "perturbers" and one[key]["parameters"]["factor"]["default"] == 1.0
