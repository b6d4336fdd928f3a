"""SaliencyRobustnessStudy end to end: a tiny model, resume after kills, the progress bar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from nrtk.impls.perturb_factory import PerturberStepFactory
from nrtk.impls.perturb_image.photometric.blur import AverageBlurPerturber
from nrtk.impls.perturb_image.photometric.enhance import BrightnessPerturber
from smqtk_core.configuration import to_config_dict
from study_helpers import FakeClassifier, FakeImages, SimulatedKill, as_json, fake_config, read_results
from xaitk_saliency.impls.gen_image_classifier_blackbox_sal.slidingwindow import SlidingWindowStack
from xaitk_saliency.impls.saliency_metric.entropy import Entropy

from xaitk_wcam.impls.comparison import SSD, XCorr
from xaitk_wcam.impls.faithfulness import Deletion
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM
from xaitk_wcam.study import (
    ResultsStore,
    SaliencyRobustnessStudy,
    config_hash,
    resolve_config,
)


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


def test_resume_after_kills_gives_the_same_csv(tmp_path: Path) -> None:
    config = fake_config(n=3, size=32)
    study = SaliencyRobustnessStudy(config)
    study.run(tmp_path / "full", progress=False, report=False)
    total_calls = FakeClassifier.calls
    expected = read_results(tmp_path / "full")
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
        got = read_results(out)
        pd.testing.assert_frame_equal(got, expected)
        assert not got.duplicated(["image_id", "perturbation", "method"]).any()
        # committed items were kept, not recomputed: their timing survives the resume
        kept = {k: ResultsStore(out).load_item(k) for k in committed}
        assert all(kept[k] is not None for k in committed)


def test_a_finished_study_resumed_starts_no_executor_and_loads_no_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the tables and the report are written again: no worker pool, cluster or model is started for nothing;
    a study with an item left to do starts its executor."""
    from xaitk_wcam.study import runner

    opened: list[str] = []
    original = runner.open_executor

    def counting(spec: str, *args: Any, **kwargs: Any) -> Any:
        opened.append(spec)
        return original(spec, *args, **kwargs)

    monkeypatch.setattr(runner, "open_executor", counting)
    study = SaliencyRobustnessStudy(fake_config(n=3, size=32))
    first = study.run(tmp_path / "out", progress=False, report=False)
    assert opened == ["local"]
    FakeClassifier.calls = 0
    again = study.run(tmp_path / "out", resume=True, executor="processes:2", progress=False, report=True)
    assert opened == ["local"] and FakeClassifier.calls == 0
    pd.testing.assert_frame_equal(again, first)
    assert (tmp_path / "out" / "report.html").is_file()
    last = sorted((tmp_path / "out" / "items").glob("*.json"))[-1]
    last.unlink()  # the last image's last item is left to do
    study.run(tmp_path / "out", resume=True, progress=False, report=False)
    assert opened == ["local", "local"] and FakeClassifier.calls > 0


def test_progress_bar_has_a_total_and_an_eta(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    SaliencyRobustnessStudy(fake_config(n=2)).run(tmp_path / "out", progress=True, report=False)
    err = capsys.readouterr().err
    assert "/6 " in err  # 2 images x (reference + 2 blurs), known from the source's length
    assert "<" in err and "?" not in err.rsplit("\r", 1)[-1]  # an ETA, not tqdm's unknown-total form
