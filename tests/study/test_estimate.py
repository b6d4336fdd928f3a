"""What a study will cost, before it runs: the counts are the model calls a run makes, the dry run writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from nrtk.impls.perturb_image.photometric.blur import AverageBlurPerturber
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from smqtk_core.configuration import to_config_dict
from study_helpers import FakeClassifier, fake_config
from xaitk_saliency.impls.gen_image_classifier_blackbox_sal.rise import RISEStack
from xaitk_saliency.impls.gen_image_classifier_blackbox_sal.slidingwindow import SlidingWindowStack

from xaitk_wcam.cli import main
from xaitk_wcam.impls.faithfulness import (
    AverageDrop,
    Deletion,
    Insertion,
    MuFidelity,
    ReconstructionDepth,
    WaveletDeletion,
    WaveletFaithfulness,
    WaveletInsertion,
    WaveletMuFidelity,
)
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.random import RandomSaliency
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM
from xaitk_wcam.interfaces.explainer import as_explainer
from xaitk_wcam.study import SaliencyRobustnessStudy
from xaitk_wcam.study.estimate import GRADIENT_COST, OVERHEAD


class Counting(ClassifyImage):
    """Mean colour -> three probabilities; counts the images it classifies."""

    def __init__(self) -> None:
        self.calls = 0

    def get_labels(self) -> list[str]:
        return ["r", "g", "b"]

    def classify_images(self, img_iter: Any) -> Any:
        for image in img_iter:
            self.calls += 1
            m = np.asarray(image, dtype=np.float64).reshape(-1, 3).mean(axis=0) / 64
            e = np.exp(m - m.max())
            yield dict(zip(self.get_labels(), e / e.sum(), strict=True))

    def get_config(self) -> dict[str, Any]:
        return {}


IMAGE = np.random.default_rng(0).integers(0, 256, (40, 52, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    "generator",
    [
        WCAM(levels=2, grid_size=3, nb_design=2, batch_size=8),
        SlidingWindowStack(window_size=(16, 16), stride=(12, 12)),
        RISEStack(n=20, s=4, p1=0.5, seed=0),
        RandomSaliency(seed=0),
    ],
    ids=lambda g: type(g).__name__,
)
def test_an_explainer_states_the_evaluations_it_makes(generator: Any) -> None:
    explainer, model = as_explainer(generator), Counting()
    explainer.explain(IMAGE, model, [1])
    assert explainer.evaluations(IMAGE.shape, 1) == model.calls


@pytest.mark.parametrize(
    "metric",
    [
        Deletion(max_steps=7, superpixel_size=8),
        Insertion(max_steps=7),
        WaveletDeletion(levels=2, max_steps=9),
        WaveletInsertion(levels=2, max_steps=9),
        WaveletFaithfulness(levels=2),
        AverageDrop(),
        MuFidelity(n_samples=5, grid_size=4),
        WaveletMuFidelity(levels=2, grid_size=4, n_samples=5),
        ReconstructionDepth(levels=2, max_steps=6),
    ],
    ids=lambda m: type(m).__name__,
)
def test_a_faithfulness_metric_states_the_evaluations_it_makes(metric: Any) -> None:
    model = Counting()
    padded = (44, 52) if "Wavelet" in type(metric).__name__ or type(metric) is ReconstructionDepth else IMAGE.shape[:2]
    sal_map = np.random.default_rng(1).random(padded)[: IMAGE.shape[0], : IMAGE.shape[1]]
    metric.compute(IMAGE, sal_map, model, 1)
    assert metric.evaluations(IMAGE.shape) == model.calls


def test_whitebox_methods_state_their_passes_per_class() -> None:
    from xaitk_wcam.impls.gen_image_classifier_whitebox_sal import SmoothGrad
    from xaitk_wcam.impls.gen_image_classifier_whitebox_sal.wam import WAM

    wam = as_explainer(WAM(n_samples=5))
    assert wam.evaluation_kind == "gradient" and wam.evaluations((32, 32, 3), 2) == 10
    assert as_explainer(WAM(method="gradient")).evaluations((32, 32, 3), 3) == 3
    assert as_explainer(SmoothGrad(samples=7)).evaluations((8, 8, 3), 2) == 14


def test_the_counts_are_the_model_calls_of_the_run_and_nothing_is_written(tmp_path: Path) -> None:
    config = fake_config(n=3, size=32)
    study = SaliencyRobustnessStudy(config)
    estimate = study.estimate(tmp_path / "out", calibrate=False)
    assert not (tmp_path / "out").exists()
    assert (estimate.units, estimate.items, estimate.to_do, estimate.items_per_unit) == (3, 9, 9, 3)
    assert estimate.wall_seconds is None and estimate.time_text() == ""
    FakeClassifier.calls = 0
    study.run(tmp_path / "out", progress=False, report=False)
    assert estimate.forward_evaluations == FakeClassifier.calls and estimate.gradient_evaluations == 0
    wcam = next(m for m in estimate.methods if m.name == "wcam")
    assert (wcam.kind, wcam.per_item, wcam.total) == ("forward", 2 * (16 + 2), 9 * 2 * (16 + 2))
    assert "units: 3 images" in estimate.counts_text() and "wcam" in estimate.counts_text()
    resumed = study.estimate(tmp_path / "out", resume=True, calibrate=False)
    assert (resumed.to_do, resumed.forward_evaluations) == (0, 0)


def test_the_time_is_the_calibrated_evaluations_shared_by_the_workers(tmp_path: Path) -> None:
    study = SaliencyRobustnessStudy(fake_config(n=2, size=32))
    one = study.estimate(executor="local")
    four = study.estimate(executor="processes:4", calibrate=False)
    four.model_seconds, four.seconds_per_evaluation = one.model_seconds, one.seconds_per_evaluation
    for mine, theirs in zip(four.methods, one.methods, strict=True):
        mine.own_seconds = theirs.own_seconds
    assert one.workers == 1 and four.workers == 4 and one.seconds_per_evaluation > 0
    wcam = next(m for m in one.methods if m.name == "wcam")
    assert wcam.own_seconds > 0 and wcam.pixel_total == wcam.total  # images of one size
    own = sum(m.pixel_total * m.own_seconds for m in one.methods)
    compute = one.forward_evaluations * one.seconds_per_evaluation + own
    assert one.compute_seconds == pytest.approx(compute)
    assert one.wall_seconds == pytest.approx((one.model_seconds + compute) * OVERHEAD)
    assert four.wall_seconds == pytest.approx((one.model_seconds + compute / 4) * OVERHEAD)
    assert study.estimate(executor="dask:tcp://somewhere:8786", calibrate=False).workers is None
    one.methods[0].kind = "gradient"  # a gradient evaluation weighs GRADIENT_COST forward ones
    assert one.compute_seconds == pytest.approx(
        (one.forward_evaluations + GRADIENT_COST * one.gradient_evaluations) * one.seconds_per_evaluation + own
    )


def test_dry_run_prints_the_counts_then_the_time_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "study.json"
    images = tmp_path / "images"
    images.mkdir()
    from PIL import Image

    from xaitk_wcam.sources import FolderImages

    for i in range(2):
        Image.fromarray(np.full((32, 32, 3), 40 * i + 10, dtype=np.uint8)).save(images / f"{i}.png")
    config = json.loads(json.dumps(fake_config(n=2, size=32)))
    config["images"] = json.loads(json.dumps(to_config_dict(FolderImages(str(images)))))
    config["perturbers"] = [to_config_dict(AverageBlurPerturber(ksize=3))]
    path.write_text(json.dumps(config, default=str))
    result = CliRunner().invoke(
        main, ["study", str(path), str(tmp_path / "out"), "--dry-run", "--executor", "processes:2"]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "units: 2 images (0 unreadable); items: 4" in out and "executor processes:2" in out
    assert out.index("model evaluations") < out.index("calibrating") < out.index("estimated time")
    assert "with 2 workers" in out and not (tmp_path / "out").exists()
