"""Metric kinds are adapters: each kind's scorer says what it reads and writes, and a new kind of metric runs in a
study by registering one scorer."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from smqtk_core.configuration import to_config_dict
from smqtk_core.plugfigurable import Plugfigurable
from study_helpers import fake_config
from xaitk_saliency.impls.saliency_metric.entropy import Entropy

from xaitk_wcam.impls.comparison import SSD
from xaitk_wcam.impls.faithfulness import Deletion
from xaitk_wcam.interfaces.explanation import PIXEL
from xaitk_wcam.study import SaliencyRobustnessStudy
from xaitk_wcam.study import plugins as study_plugins
from xaitk_wcam.study import scorers as scorers_module
from xaitk_wcam.study.scorers import (
    ComparisonScorer,
    FaithfulnessScorer,
    MapMetricScorer,
    MapScoring,
    Scorer,
    as_scorer,
    register_scorer,
)


def test_each_kind_of_metric_gets_its_scorer_and_declares_what_it_reads() -> None:
    entropy, ssd, deletion = as_scorer(Entropy()), as_scorer(SSD()), as_scorer(Deletion(max_steps=4))
    assert type(entropy) is MapMetricScorer and entropy.scores() == (None,) and not entropy.compares
    assert type(ssd) is ComparisonScorer and ssd.compares and not ssd.reads_classes
    assert type(deletion) is FaithfulnessScorer and deletion.reads_classes and deletion.scores() == ("dauc", "dc")
    assert as_scorer(ssd) is ssd
    with pytest.raises(TypeError, match="no metric of a known kind; accepted: SaliencyMetric, SaliencyComparison"):
        as_scorer(object())
    a, b = np.eye(4), np.ones((4, 4))
    assert ssd.score(PIXEL, MapScoring({PIXEL: a}, {PIXEL: b}, np.zeros((4, 4)), None)) == {None: SSD()(a, b)}


# -- a made-up kind of metric: it reads the map and the item's image ---------------------------------------------
class ImageAwareMetric(Plugfigurable):
    """The made-up kind: ``agreement(map, image)``."""

    def agreement(self, sal_map: np.ndarray, image: np.ndarray) -> float:
        raise NotImplementedError


class BrightAgreement(ImageAwareMetric):
    """Correlation of the map with the image's brightness."""

    map_spaces = (PIXEL,)

    def __init__(self, channel: int = 0) -> None:
        self.channel = channel

    @property
    def name(self) -> str:
        return "BrightAgreement"

    def agreement(self, sal_map: np.ndarray, image: np.ndarray) -> float:
        return float(np.corrcoef(sal_map.ravel(), image[..., self.channel].astype(float).ravel())[0, 1])

    def get_config(self) -> dict[str, Any]:
        return {"channel": self.channel}


class ImageAwareScorer(Scorer):
    def score(self, space: str, scoring: MapScoring) -> dict[str | None, float]:
        return {None: self.metric.agreement(scoring.maps[space], scoring.image)}


@pytest.fixture
def image_aware_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scorers_module, "SCORERS", scorers_module.SCORERS.copy())
    monkeypatch.setattr(study_plugins, "_CACHE", {})
    register_scorer(ImageAwareMetric, ImageAwareScorer)


def test_a_new_metric_kind_runs_in_a_study_by_registering_one_scorer(image_aware_kind: None, tmp_path: Path) -> None:
    config = fake_config(n=2, size=32)
    config["metrics"] = {"bright": to_config_dict(BrightAgreement(channel=1)), "ssd": to_config_dict(SSD())}
    frame = SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False)
    assert (frame["status"] == "ok").all(), frame["status"].tolist()
    pixel = frame[frame["method"] == "sw"]  # the sliding window's pixel maps; WCAM gives its pixel map too
    assert frame["bright"].notna().all() and frame["bright"].between(-1, 1).all() and len(pixel) == 6
    assert frame[frame["perturbation"] == "reference"]["ssd"].isna().all()


def test_register_scorer_refuses_what_is_no_scorer() -> None:
    with pytest.raises(TypeError, match="subclass of Scorer"):
        register_scorer(ImageAwareMetric, object)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="interface class"):
        register_scorer("ImageAwareMetric", ImageAwareScorer)  # type: ignore[arg-type]


# -- the stability metrics as study columns (issue 28) ---------------------------------------------------------
def test_relative_stability_columns_fill_every_perturbed_row_at_no_extra_forward_pass(tmp_path: Path) -> None:
    from nrtk.impls.perturb_image.photometric.noise import GaussianNoisePerturber
    from study_helpers import FakeClassifier

    from xaitk_wcam.impls.stability import RelativeInputStability, RelativeOutputStability

    plain = {**fake_config(n=2, size=32), "noise_floor": True}
    plain["perturbers"].append(to_config_dict(GaussianNoisePerturber(seed=0, mean=0.0, var=0.01)))
    SaliencyRobustnessStudy(plain).run(tmp_path / "plain", progress=False, report=False)
    calls_without = FakeClassifier.calls
    FakeClassifier.calls = 0
    config = {**fake_config(n=2, size=32), "noise_floor": True}
    config["perturbers"].append(to_config_dict(GaussianNoisePerturber(seed=0, mean=0.0, var=0.01)))
    config["metrics"] = {
        "xcorr": config["metrics"][2],
        "ris": to_config_dict(RelativeInputStability()),
        "ros": to_config_dict(RelativeOutputStability()),
    }
    frame = SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False)
    assert FakeClassifier.calls == calls_without  # the images, outputs and maps are the item's own
    perturbed = frame[~frame["perturbation"].isin(["reference", "noise_floor"])]
    assert len(perturbed) == 2 * 3 * 2 and (perturbed["status"] == "ok").all()  # images x (2 blurs, 1 noise) x methods
    assert np.isfinite(perturbed[["ris", "ros"]].to_numpy()).all() and (perturbed[["ris", "ros"]] >= 0).all().all()
    others = frame[frame["perturbation"].isin(["reference", "noise_floor"])]
    assert others[["ris", "ros"]].isna().all().all()  # the reference has nothing to compare; no noise-floor verdict
    verdicts = pd.read_csv(tmp_path / "out" / "verdicts.csv")
    assert set(verdicts["metric"]) == {"xcorr"}
    assert (tmp_path / "out" / "figures" / "relative_stability.png").is_file()  # every perturbation on one axis
    assert "Relative stability of every perturbation on one scale" in (tmp_path / "out" / "report.html").read_text()
    robustness = pd.read_csv(tmp_path / "out" / "robustness.csv")
    assert {"ris", "ros", "xcorr change"} <= set(robustness["feature"])
    # the value is Quantus' objective on the row's own images, outputs and maps
    from xaitk_wcam.study import ResultsStore

    store = ResultsStore(tmp_path / "out")
    reference, blurred = store.load_arrays("000000-0000"), store.load_arrays("000000-0001")
    row = frame[(frame["image_id"] == "img0") & (frame["method"] == "sw")].iloc[1]
    expected = RelativeInputStability().compute(
        blurred.maps["sw"]["pixel"], reference.maps["sw"]["pixel"], image=blurred.image, reference_image=reference.image
    )
    assert row["ris"] == pytest.approx(expected, rel=1e-12)


def test_representation_stability_reads_the_items_own_forward_pass(tiny_resnet_dir: Path, tmp_path: Path) -> None:
    from nrtk.impls.perturb_image.photometric.enhance import BrightnessPerturber
    from study_helpers import FakeImages, as_json

    from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier
    from xaitk_wcam.impls.gen_image_classifier_whitebox_sal import VanillaGradients
    from xaitk_wcam.impls.stability import RelativeRepresentationStability
    from xaitk_wcam.impls.stability.representation import representations

    classifier = HuggingFaceImageClassifier(str(tiny_resnet_dir), device="cpu", batch_size=8)
    config = as_json(
        {
            "classifier": to_config_dict(classifier),
            "images": to_config_dict(FakeImages(n=2, size=32)),
            "perturbers": [to_config_dict(BrightnessPerturber(factor=0.5))],
            "saliency": {"grad": to_config_dict(VanillaGradients())},
            "metrics": {"rrs": to_config_dict(RelativeRepresentationStability())},
        }
    )
    frame = SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False, report=False)
    perturbed = frame[frame["perturbation"] != "reference"]
    assert (perturbed["status"] == "ok").all() and np.isfinite(perturbed["rrs"]).all()
    from xaitk_wcam.study import ResultsStore

    store = ResultsStore(tmp_path / "out")
    reference, bright = store.load_arrays("000000-0000"), store.load_arrays("000000-0001")
    features = representations(classifier, np.stack([bright.image, reference.image]))  # the head's input
    expected = RelativeRepresentationStability().compute(
        bright.maps["grad"]["pixel"], reference.maps["grad"]["pixel"],
        representation=features[0], reference_representation=features[1],
    )  # fmt: skip
    assert perturbed.iloc[0]["rrs"] == pytest.approx(expected, rel=1e-6)


def test_local_stability_is_scored_on_reference_rows_only(tmp_path: Path) -> None:
    from xaitk_wcam.impls.stability import MaxSensitivity

    config = fake_config(n=2, size=32)
    config["metrics"] = {"maxsens": to_config_dict(MaxSensitivity(n_samples=2, radius=0.05))}
    frame = SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False, report=False)
    reference = frame[frame["perturbation"] == "reference"]
    assert (reference["status"] == "ok").all() and (reference["maxsens"] >= 0).all()
    assert frame[frame["perturbation"] != "reference"]["maxsens"].isna().all()


def test_a_detection_study_refuses_what_its_model_does_not_provide_in_one_line() -> None:
    from study_helpers import as_json

    from xaitk_wcam.impls.stability import RelativeOutputStability
    from xaitk_wcam.study import StudyConfigError

    sys.path.insert(0, str(Path(__file__).parent / "tasks"))
    from test_detection import detection_config

    config = detection_config(n=1)
    config["metrics"]["ros"] = as_json(to_config_dict(RelativeOutputStability()))
    with pytest.raises(StudyConfigError, match="metric 'ros' reads the model's outputs, and this is a detection study"):
        SaliencyRobustnessStudy(config)


def test_representation_stability_needs_a_white_box_model_on_torch(tmp_path: Path) -> None:
    from xaitk_wcam.impls.stability import RelativeRepresentationStability
    from xaitk_wcam.study import StudyConfigError

    config = fake_config(n=1, size=32)
    config["metrics"] = {"rrs": to_config_dict(RelativeRepresentationStability())}
    with pytest.raises(StudyConfigError, match=r"white-box and run on torch .* got FakeClassifier"):
        SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False)
    assert not (tmp_path / "out" / "study.json").exists()  # refused before the study starts
