"""Scoring: each metric reads a map space it accepts, or the pair is listed as not applicable."""

from __future__ import annotations

from pathlib import Path

from smqtk_core.configuration import to_config_dict
from study_helpers import as_json, fake_config

from xaitk_wcam.impls.faithfulness import Deletion
from xaitk_wcam.study import (
    SaliencyRobustnessStudy,
)


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
