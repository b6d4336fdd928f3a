"""The per-item loop: failing images, the noise floor rows, and each metric reading a map space it accepts (or the
pair listed as not applicable)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from smqtk_core.configuration import to_config_dict
from study_helpers import as_json, fake_config

from xaitk_wcam.impls.faithfulness import Deletion
from xaitk_wcam.study import (
    SaliencyRobustnessStudy,
)


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


def test_noise_floor_rows_are_a_second_independent_draw(tmp_path: Path) -> None:
    config = {**fake_config(n=2), "noise_floor": True}
    study = SaliencyRobustnessStudy(config)
    assert study.plan.seeded == ["wcam"] and study.plan.noise_floor_index == 3  # reference, 2 blurs, noise floor
    frame = study.run(tmp_path / "out", progress=False)
    floor = frame[frame["perturbation"] == "noise_floor"]
    assert list(floor["method"]) == ["wcam", "wcam"]  # the sliding window is deterministic: no row
    assert (floor["status"] == "ok").all() and floor[["SSD", "XCorr"]].notna().all().all()
    assert floor["Entropy"].isna().all()  # comparisons only
    # the second map is WCAM with a seed of its own: its XCorr with the reference map is below 1
    assert (floor["XCorr"] < 1).all()
    verdicts = pd.read_csv(tmp_path / "out" / "verdicts.csv")
    assert set(verdicts["metric"]) == {"SSD", "XCorr"} and set(verdicts["method"]) == {"wcam", "sw"}
    assert set(verdicts["verdict"]) == {"too few images"} and (verdicts["n_images"] == 2).all()  # 2 < 5 images
    report = (tmp_path / "out" / "report.html").read_text()
    assert "Verdicts: does each map move beyond its noise?" in report and "What this study found" in report
    off = SaliencyRobustnessStudy(fake_config(n=2)).run(tmp_path / "off", progress=False, report=False)
    assert "noise_floor" not in set(off["perturbation"]) and len(off) == len(frame) - 2


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
    assert "ScaleShare accepts wavelet maps of 2 levels; sw gives pixel maps: not applicable" in report
