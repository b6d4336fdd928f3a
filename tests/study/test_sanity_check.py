"""The sanity check inside a study (Adebayo et al. 2018): a method whose map ignores the model fails, one that
reads the model passes, and a model without parameters to randomise says so in every row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from nrtk.impls.perturb_image.photometric.enhance import BrightnessPerturber
from smqtk_core.configuration import to_config_dict
from study_helpers import FakeImages, as_json, fake_config
from xaitk_saliency.interfaces.gen_image_classifier_blackbox_sal import GenerateImageClassifierBlackboxSaliency

from xaitk_wcam.impls.comparison import XCorr
from xaitk_wcam.impls.gen_image_classifier_whitebox_sal import SmoothGrad, VanillaGradients
from xaitk_wcam.study import SaliencyRobustnessStudy, StudyConfigError
from xaitk_wcam.study.sanity import NO_PARAMETERS, SANITY_COLUMNS, checkpoints, sanity_verdicts


class ImageEdges(GenerateImageClassifierBlackboxSaliency):
    """The image's edges, whatever the model: a map that cannot pass a sanity check."""

    def _generate(self, ref_image: np.ndarray, blackbox: Any) -> np.ndarray:
        grey = np.asarray(ref_image, dtype=np.float64).mean(axis=2)
        edges = np.hypot(*np.gradient(grey))
        return np.repeat((edges / edges.max())[None], len(blackbox.get_labels()), axis=0)

    def get_config(self) -> dict[str, Any]:
        return {}


def test_checkpoints_spread_over_the_layers_and_end_at_the_bottom() -> None:
    assert checkpoints(10, 4) == [0, 3, 6, 9] and checkpoints(3, 5) == [0, 1, 2]


def test_a_method_that_ignores_the_model_fails_and_one_that_reads_it_passes(
    tiny_resnet_dir: Path, tmp_path: Path
) -> None:
    from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier

    classifier = HuggingFaceImageClassifier(str(tiny_resnet_dir), device="cpu", batch_size=8)
    config = as_json(
        {
            "classifier": to_config_dict(classifier),
            "images": to_config_dict(FakeImages(n=3, size=32)),
            "perturbers": [to_config_dict(BrightnessPerturber(factor=0.5))],
            "saliency": {
                "grad": to_config_dict(VanillaGradients()),
                "smooth": to_config_dict(SmoothGrad(samples=4, seed=0)),
                "edges": to_config_dict(ImageEdges()),
            },
            "metrics": {"xcorr": to_config_dict(XCorr())},
            "sanity_check": {"images": 2, "checkpoints": 3},
        }
    )
    SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False)
    table = pd.read_csv(tmp_path / "out" / "sanity.csv")
    assert list(table.columns) == list(SANITY_COLUMNS) and (table["status"] == "ok").all()
    assert len(table) == 3 * 2 * 3  # methods x images x checkpoints
    assert table["similarity"].between(-1, 1).all()
    verdicts = sanity_verdicts(table)
    assert verdicts["edges"][3] and verdicts["edges"][0] == pytest.approx(1.0)  # the same map on any network
    assert not verdicts["grad"][3] and verdicts["grad"][1] == 1.0  # deterministic: its two draws are equal
    assert table[table["method"] == "smooth"]["seed_similarity"].lt(1).all()  # two independent draws differ
    report = (tmp_path / "out" / "report.html").read_text()
    assert "edges fails the sanity check" in report and "grad fails" not in report


def test_a_model_without_parameters_says_so_and_a_wrong_setting_is_refused(tmp_path: Path) -> None:
    config = {**fake_config(n=2, size=32), "sanity_check": True}
    SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False, report=False)
    table = pd.read_csv(tmp_path / "out" / "sanity.csv")
    assert set(table["status"]) == {NO_PARAMETERS} and set(table["method"]) == {"wcam", "sw"}
    with pytest.raises(StudyConfigError, match="sanity_check: images must be a positive int"):
        SaliencyRobustnessStudy({**fake_config(n=2), "sanity_check": {"images": 0}})
    with pytest.raises(StudyConfigError, match="sanity_check has no key 'layers'"):
        SaliencyRobustnessStudy({**fake_config(n=2), "sanity_check": {"layers": 2}})
    # a study without the setting keeps its config hash (folders of earlier runs resume)
    assert "sanity_check" not in SaliencyRobustnessStudy(fake_config(n=2)).plan.resolved
