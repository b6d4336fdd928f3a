"""Tests of the ``xaitk-wcam`` command line, run in-process with click's ``CliRunner``."""

from __future__ import annotations

import json
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
