"""Metric kinds are adapters: each kind's scorer says what it reads and writes, and a new kind of metric runs in a
study by registering one scorer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
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
    monkeypatch.setattr(scorers_module, "_SCORERS", dict(scorers_module._SCORERS))
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
