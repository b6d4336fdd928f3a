"""A study's verdicts and robustness link on known answers: a perturbation that changes nothing never "moves", one
that moves the evidence does, every number counts its images, and a metric that fails fails only its column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from nrtk.impls.perturb_image.photometric.blur import AverageBlurPerturber
from nrtk.interfaces import PerturbImage
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from smqtk_core.configuration import to_config_dict
from study_helpers import as_json
from xaitk_saliency.impls.gen_image_classifier_blackbox_sal.rise import RISEStack
from xaitk_saliency.impls.gen_image_classifier_blackbox_sal.slidingwindow import SlidingWindowStack
from xaitk_saliency.interfaces.saliency_metric import SaliencyMetric

from xaitk_wcam.impls.comparison import SSD, SpearmanRank, XCorr
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM
from xaitk_wcam.interfaces.image_source import ImageSource
from xaitk_wcam.study import SaliencyRobustnessStudy
from xaitk_wcam.study.verdicts import ROBUSTNESS_COLUMNS, VERDICT_COLUMNS

N_IMAGES = 6
IDENTITY = "AverageBlurPerturber(ksize=1)"


class RedMass(ClassifyImage):
    """Two classes: "red" from the image's red excess (red minus green, wherever it lies), "other" from nothing."""

    def get_labels(self) -> list[str]:
        return ["red", "other"]

    def classify_images(self, img_iter: Any) -> Any:
        for image in img_iter:
            x = np.asarray(image, dtype=np.float64) / 255
            logit = 40 * (x[..., 0] - x[..., 1]).mean()
            p = 1 / (1 + np.exp(-(logit - 1)))
            yield {"red": p, "other": 1 - p}

    def get_config(self) -> dict[str, Any]:
        return {}


class RedPatchImages(ImageSource):
    """Grey noise with a red 8 x 8 patch in the left half, at a height and of a red that depend on the image."""

    def __init__(self, n: int = N_IMAGES, limit: int | None = None) -> None:
        super().__init__(limit=limit)
        self.n = n

    def _count(self) -> int:
        return self.n

    def _iter_images(self) -> Any:
        rng = np.random.default_rng(0)
        for i in range(self.n):
            image = rng.integers(90, 110, (32, 32, 3), dtype=np.uint8)
            y = 4 * (i % 6)
            image[y : y + 8, 4:12] = (150 + 20 * i, 30, 30)
            yield f"patch{i}", image, None

    def get_config(self) -> dict[str, Any]:
        return {"n": self.n, "limit": self.limit}


class Desaturate(PerturbImage):
    """Blends every pixel towards its grey by ``amount``: the red cue weakens, more for a stronger amount."""

    def __init__(self, amount: float = 0.5) -> None:
        self.amount = amount

    def perturb(self, *, image: np.ndarray, boxes: Any = None, **kwargs: Any) -> tuple[np.ndarray, Any]:
        x = image.astype(np.float64)
        grey = x.mean(axis=2, keepdims=True)
        return np.round(grey + (x - grey) * (1 - self.amount)).astype(image.dtype), boxes

    def get_config(self) -> dict[str, Any]:
        return {"amount": self.amount}


class RollRight(PerturbImage):
    """Rolls the image 16 pixels to the right: the red patch, the model's only cue, moves to the right half."""

    def perturb(self, *, image: np.ndarray, boxes: Any = None, **kwargs: Any) -> tuple[np.ndarray, Any]:
        return np.roll(image, 16, axis=1), boxes

    def get_config(self) -> dict[str, Any]:
        return {}


def known_answer_config(**extra: Any) -> dict[str, Any]:
    return as_json(
        {
            "classifier": to_config_dict(RedMass()),
            "images": to_config_dict(RedPatchImages()),
            "perturbers": [
                to_config_dict(AverageBlurPerturber(ksize=1)),
                to_config_dict(RollRight()),
                *(to_config_dict(Desaturate(amount=a)) for a in (0.3, 0.7)),
            ],
            "saliency": {
                "wcam": to_config_dict(WCAM(levels=2, grid_size=8, nb_design=16, batch_size=256)),
                "rise": to_config_dict(RISEStack(n=60, s=4, p1=0.5, seed=0)),
                "sw": to_config_dict(SlidingWindowStack(window_size=(8, 8), stride=(8, 8))),
            },
            "metrics": {
                "ssd": to_config_dict(SSD()),
                "xcorr": to_config_dict(XCorr()),
                "spearman": to_config_dict(SpearmanRank()),
            },
            **extra,
        }
    )


@pytest.fixture(scope="module")
def known_answer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("study") / "out"
    SaliencyRobustnessStudy(known_answer_config()).run(out, progress=False)
    return out


def test_a_perturbation_that_changes_nothing_never_moves(known_answer: Path) -> None:
    verdicts = pd.read_csv(known_answer / "verdicts.csv")
    assert list(verdicts.columns) == list(VERDICT_COLUMNS)
    identity = verdicts[verdicts["perturbation"] == IDENTITY]
    assert len(identity) == 3 * 3  # seeded (wcam, rise) and deterministic (sw) methods x three comparisons
    assert (identity["verdict"] != "moves").all(), identity
    # the same pixels get the same map (the seed follows the pixels): no change at all beyond a negative noise
    frame = pd.read_csv(known_answer / "results.csv")
    rows = frame[frame["perturbation"] == IDENTITY]
    assert np.allclose(rows["xcorr"], 1.0) and np.allclose(rows["ssd"], 0.0)
    assert (identity["change"] <= 1e-9).all() and (identity["n_images"] == N_IMAGES).all()


def test_a_perturbation_that_moves_the_evidence_moves_the_maps(known_answer: Path) -> None:
    verdicts = pd.read_csv(known_answer / "verdicts.csv").set_index(["method", "metric", "perturbation"])
    for method in ("wcam", "sw"):
        for metric in ("ssd", "xcorr"):
            row = verdicts.loc[(method, metric, "RollRight()")]
            assert row["verdict"] == "moves" and row["ci_low"] > 0 and row["p_value"] < 0.05, (method, metric, row)
            assert row["n_images"] == N_IMAGES


def test_the_robustness_link_names_its_features_outcomes_and_counts(known_answer: Path) -> None:
    robustness = pd.read_csv(known_answer / "robustness.csv")
    assert list(robustness.columns) == list(ROBUSTNESS_COLUMNS)
    wcam = robustness[(robustness["method"] == "wcam") & (robustness["perturbation"] == "Desaturate(amount=0.7)")]
    features = set(wcam["feature"])
    assert {"ssd change", "xcorr change", "spearman change"} <= features
    assert {"reference approximation share", "fine share shift"} <= features  # a wavelet method's scale shares
    assert set(wcam["outcome"]) == {"confidence drop", "flip"} and (wcam["n_images"] == N_IMAGES).all()
    spearman = wcam[wcam["statistic"] == "spearman"]
    finite = spearman[np.isfinite(spearman["value"])]
    assert len(finite) and finite["value"].between(-1, 1).all()
    assert (finite["ci_low"] <= finite["value"] + 1e-12).all() and (finite["value"] <= finite["ci_high"] + 1e-12).all()
    margin = robustness[robustness["statistic"].str.startswith("warning margin")]
    for _, group in margin.groupby(["method", "perturbation", "feature"]):
        assert group["value"].sum() == group["n_images"].iloc[0]  # every image in exactly one class
    report = (known_answer / "report.html").read_text()
    assert "What this study found" in report and "Under RollRight: moves beyond its noise on ssd" in report
    assert "only the model broke on" in report
    assert (known_answer / "figures" / "verdicts.png").is_file()


class Unreadable(SaliencyMetric):
    """A metric that fails on every map."""

    def compute(self, sal_map: np.ndarray) -> float:
        raise ValueError("cannot read this map")

    def get_config(self) -> dict[str, Any]:
        return {}


def test_a_metric_that_fails_fails_only_its_own_column(tmp_path: Path) -> None:
    """An error in one metric leaves the row's other values: the means, curves and verdicts still count the
    image (they used to drop the whole row)."""
    config = known_answer_config()
    config["saliency"] = {"sw": config["saliency"]["sw"]}  # one method suffices (it moves under RollRight): 3 s, not 9
    config["metrics"]["unreadable"] = to_config_dict(Unreadable())
    frame = SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False)
    compared = frame[~frame["perturbation"].isin(["reference", "noise_floor"])]
    assert compared["status"].str.startswith("unreadable: ValueError: cannot read this map").all()
    assert compared["unreadable"].isna().all() and compared[["ssd", "xcorr"]].notna().all().all()
    verdicts = pd.read_csv(tmp_path / "out" / "verdicts.csv")
    assert (verdicts["n_images"] == N_IMAGES).all() and "moves" in set(verdicts["verdict"])
    report = (tmp_path / "out" / "report.html").read_text()
    assert "n_images" in report and "moves beyond its noise" in report
