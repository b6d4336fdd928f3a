"""User-chosen names cannot collide: method names with the stored image or each other's maps, metric names with
the study's own columns (issue 20: each test failed before maps were stored under (method, space))."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from smqtk_core.configuration import to_config_dict
from study_helpers import FakeImages, fake_config
from xaitk_saliency.impls.gen_image_classifier_blackbox_sal.slidingwindow import SlidingWindowStack
from xaitk_saliency.impls.saliency_metric.entropy import Entropy

from xaitk_wcam.impls.comparison import XCorr
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM
from xaitk_wcam.study import ResultsStore, SaliencyRobustnessStudy, StudyConfigError


def _study(saliency: dict, metrics: list | dict | None = None) -> dict:
    config = fake_config(n=1, size=32)
    config["saliency"] = {name: to_config_dict(generator) for name, generator in saliency.items()}
    if metrics is not None:
        config["metrics"] = metrics
    return config


def _rows(frame, method: str):
    return frame[frame["method"] == method].drop(columns=["seconds", "method"]).reset_index(drop=True)


def test_methods_named_x_and_x__pixel_keep_their_own_maps(tmp_path: Path) -> None:
    wcam = WCAM(levels=2, grid_size=4, nb_design=2, batch_size=16, output="spatial")  # XCorr reads its pixel map
    alone = SaliencyRobustnessStudy(_study({"x": wcam})).run(tmp_path / "a", progress=False, report=False)
    both = SaliencyRobustnessStudy(
        _study({"x": wcam, "x__pixel": SlidingWindowStack(window_size=(8, 8), stride=(8, 8))})
    ).run(tmp_path / "b", progress=False, report=False)
    assert (both["status"] == "ok").all()
    # x's comparisons read x's own reference maps, whatever another method is called
    np.testing.assert_array_equal(_rows(both, "x")["XCorr"], _rows(alone, "x")["XCorr"])
    maps = ResultsStore(tmp_path / "b").load_arrays("000000-0000").maps
    assert set(maps) == {"x", "x__pixel"} and set(maps["x"]) == {"wavelet", "pixel"}
    assert not np.array_equal(maps["x"]["pixel"], maps["x__pixel"]["pixel"])


def test_a_method_named_image_does_not_replace_the_stored_image(tmp_path: Path) -> None:
    config = _study({"image": WCAM(levels=2, grid_size=4, nb_design=2, batch_size=16)})
    frame = SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False, report=True)
    assert (frame["status"] == "ok").all()
    arrays = ResultsStore(tmp_path / "out").load_arrays("000000-0000")
    image = next(iter(FakeImages(n=1, size=32)))[1]
    np.testing.assert_array_equal(arrays.image, image)
    assert set(arrays.maps["image"]) == {"wavelet", "pixel"}


@pytest.mark.parametrize("name", ["status", "seconds", "image_id", "target_confidence", "scale_share_0", "method"])
def test_a_metric_named_like_a_results_column_is_refused_before_running(name: str) -> None:
    config = _study({"sw": SlidingWindowStack(window_size=(8, 8), stride=(8, 8))}, {name: to_config_dict(Entropy())})
    with pytest.raises(StudyConfigError, match=rf"metric column '{name}' is one of the study's own columns"):
        SaliencyRobustnessStudy(config)


def test_metric_names_that_only_look_reserved_are_accepted() -> None:
    metrics = {"scale_share_x": to_config_dict(Entropy()), "xcorr": to_config_dict(XCorr())}
    study = SaliencyRobustnessStudy(_study({"sw": SlidingWindowStack(window_size=(8, 8), stride=(8, 8))}, metrics))
    assert "scale_share_x" in study.plan.row_columns()


def test_a_wavelet_metric_reads_only_maps_of_its_levels(tmp_path: Path) -> None:
    """ScaleShare(levels=2) on a 3-level WCAM map would read the wrong bands: it is left empty and listed."""
    from xaitk_wcam.impls.saliency_metric import ScaleShare

    config = _study(
        {"wcam2": WCAM(levels=2, grid_size=4, nb_design=2, batch_size=16),
         "wcam3": WCAM(levels=3, grid_size=4, nb_design=2, batch_size=16)},
        {"coarse": to_config_dict(ScaleShare(level=0, levels=2))},
    )  # fmt: skip
    study = SaliencyRobustnessStudy(config)
    reasons = [reason for method, _, reason in study.plan.not_applicable() if method == "wcam3"]
    assert reasons == ["coarse accepts wavelet maps of 2 levels; wcam3 gives wavelet (3 levels)/pixel maps"]
    frame = study.run(tmp_path / "out", progress=False, report=False)
    assert frame[frame["method"] == "wcam2"]["coarse"].notna().all()
    assert frame[frame["method"] == "wcam3"]["coarse"].isna().all() and (frame["status"] == "ok").all()
