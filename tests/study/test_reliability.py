"""A study loses nothing: bad images, dying workers, NaN outputs, changed images, failed starts, big images."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from nrtk.impls.perturb_image.photometric.blur import AverageBlurPerturber
from smqtk_core.configuration import to_config_dict
from xaitk_saliency.impls.saliency_metric.entropy import Entropy

from xaitk_wcam.impls.comparison import XCorr
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM
from xaitk_wcam.interfaces.explainer import as_explainer
from xaitk_wcam.sources import FolderImages
from xaitk_wcam.study import SaliencyRobustnessStudy

DYING = '''
import os
import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage


class DyingClassifier(ClassifyImage):
    """Mean colour -> three probabilities; the worker process exits (code 3) on an all-7 image, or returns NaN."""

    def __init__(self, nan: bool = False):
        self.nan = nan

    def get_labels(self):
        return ["r", "g", "b"]

    def classify_images(self, img_iter):
        for image in img_iter:
            x = np.asarray(image, dtype=np.float64)
            if (x == 7).all():
                if not self.nan:
                    os._exit(3)
                yield {"r": float("nan"), "g": 0.5, "b": 0.5}
                continue
            m = x.reshape(-1, x.shape[-1]).mean(axis=0)[:3] / 64
            e = np.exp(m - m.max())
            yield dict(zip(self.get_labels(), e / e.sum()))

    def get_config(self):
        return {"nan": self.nan}


class FlakyClassifier(DyingClassifier):
    """While FLAKY_NAN is set, a NaN for every image of a batch of several (saliency designs), never for one
    image alone (the item's own classification): a method fails inside an item that is ok."""

    def classify_images(self, img_iter):
        images = list(img_iter)
        for result in super().classify_images(images):
            if os.environ.get("FLAKY_NAN") and len(images) > 1:
                result = dict.fromkeys(result, float("nan"))
            yield result
'''


@pytest.fixture
def dying(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A classifier plugin module that worker processes (spawned, or Dask's) can import too."""
    (tmp_path / "dying_classifier.py").write_text(DYING)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("SMQTK_PLUGIN_PATH", "dying_classifier")
    from xaitk_wcam.study import plugins

    plugins._CACHE.clear()
    yield "dying_classifier.DyingClassifier"
    plugins._CACHE.clear()


def _pngs(folder: Path, n: int, uniform: dict[int, int] | None = None, size: int = 16) -> Path:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        if uniform and i in uniform:
            pixels[:] = uniform[i]
        Image.fromarray(pixels).save(folder / f"im{i:02d}.png")
    return folder


def _config(classifier_type: str, images: Path, nan: bool = False) -> dict[str, Any]:
    return json.loads(
        json.dumps(
            {
                "classifier": {"type": classifier_type, classifier_type: {"nan": nan}},
                "images": to_config_dict(FolderImages(str(images))),
                "perturbers": [to_config_dict(AverageBlurPerturber(ksize=3))],
                "saliency": {"wcam": to_config_dict(WCAM(levels=1, grid_size=2, nb_design=2, batch_size=8))},
                "metrics": [to_config_dict(Entropy()), to_config_dict(XCorr())],
            }
        )
    )


def test_an_unreadable_image_costs_one_row(tmp_path: Path, dying: str) -> None:
    from PIL import Image

    images = _pngs(tmp_path / "images", 21)
    data = (images / "im10.png").read_bytes()
    (images / "im10.png").write_bytes(data[: len(data) // 2])  # truncated mid-folder
    Image.new("1", (20000, 20000)).save(images / "im20.png")  # a decompression bomb: 400 megapixels
    records = list(FolderImages(str(images)).records())
    assert [r.image_id for r in records] == [f"im{i:02d}.png" for i in range(21)]
    assert [r.image_id for r in records if r.error] == ["im10.png", "im20.png"]
    assert "max_pixels" in records[20].error
    frame = SaliencyRobustnessStudy(_config(dying, images)).run(tmp_path / "out", progress=False, report=False)
    assert frame["image_id"].nunique() == 21
    failed = frame[frame["status"] != "ok"]
    assert set(failed["image_id"]) == {"im10.png", "im20.png"}
    with pytest.warns(RuntimeWarning, match="skipped image 'im10.png'"):
        assert len(list(FolderImages(str(images)))) == 19


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("executor", ["processes:2", "dask:local:2", "ray:local:2?object_store_mb=200"])
def test_a_worker_that_dies_fails_its_item_and_the_study_goes_on(
    tmp_path: Path, dying: str, executor: str, request: pytest.FixtureRequest
) -> None:
    if executor.startswith("ray:"):
        request.getfixturevalue("ray_scheme_found")
    images = _pngs(tmp_path / "images", 4, uniform={1: 7})
    study = SaliencyRobustnessStudy(_config(dying, images))
    frame = study.run(tmp_path / "out", executor=executor, progress=False, report=False)
    ok = frame[frame["image_id"] != "im01.png"]
    assert (ok["status"] == "ok").all() and ok["image_id"].nunique() == 3
    assert frame.groupby("image_id").size().tolist() == [len(ok) // 3] * 4  # no item of any image lost
    dead = frame[frame["image_id"] == "im01.png"]
    assert (dead["perturbation"] != "reference").any()
    reference = dead[dead["perturbation"] == "reference"]["status"].iloc[0]
    assert reference.startswith("worker died")
    assert "exit code 3" in reference or "KilledWorker" in reference or "ActorDiedError" in reference
    assert dead[dead["perturbation"] != "reference"]["status"].str.startswith("reference failed: worker died").all()
    # --resume keeps the failure row and does not try again (test_retry_failed... tries again)
    again = study.run(tmp_path / "out", resume=True, executor=executor, progress=False, report=False)
    assert list(again["status"]) == list(frame["status"])


def test_retry_failed_and_a_changed_image_are_recomputed(tmp_path: Path, dying: str) -> None:
    images = _pngs(tmp_path / "images", 3, uniform={1: 7})
    study = SaliencyRobustnessStudy(_config(dying, images, nan=True))
    frame = study.run(tmp_path / "out", progress=False, report=False)
    status = frame[frame["image_id"] == "im01.png"]["status"].iloc[0]
    assert "non-finite" in status and "1 non-finite" in status  # a NaN confidence: an error, never a zero map
    assert (frame[frame["image_id"] != "im01.png"]["status"] == "ok").all()
    again = study.run(tmp_path / "out", resume=True, progress=False, report=False)
    assert list(again["status"]) == list(frame["status"])  # resume keeps the failure
    _pngs(tmp_path / "fixed", 2)
    (tmp_path / "fixed" / "im01.png").replace(images / "im01.png")  # the image changes under its name
    with pytest.warns(RuntimeWarning, match="im01.png.*changed"):
        fixed = study.run(tmp_path / "out", resume=True, progress=False, report=False)
    assert (fixed["status"] == "ok").all()
    retried = study.run(tmp_path / "out", resume=True, retry_failed=True, progress=False, report=False)
    assert (retried["status"] == "ok").all()


def test_a_failed_start_leaves_no_study_and_a_corrected_config_runs(tmp_path: Path, dying: str) -> None:
    images = _pngs(tmp_path / "images", 1)
    broken = _config(dying, images)
    broken["classifier"][dying]["nan"] = "not a bool"  # the classifier refuses nothing here: break the images
    broken["images"][broken["images"]["type"]]["path"] = str(tmp_path / "missing")
    with pytest.raises(FileNotFoundError):
        SaliencyRobustnessStudy(broken).run(tmp_path / "out", progress=False, report=False)
    assert not (tmp_path / "out" / "study.json").exists()
    frame = SaliencyRobustnessStudy(_config(dying, images)).run(tmp_path / "out", progress=False, report=False)
    assert (frame["status"] == "ok").all()


def test_big_images_are_refused_by_the_memory_estimate_before_allocation(tmp_path: Path, dying: str) -> None:
    huge = np.zeros((6000, 6000, 3), dtype=np.uint8)  # calloc: no page is touched
    with pytest.raises(MemoryError, match=r"6000 x 6000 x 3 .* memory_budget_mb=4,096"):
        as_explainer(WCAM()).check_memory(huge.shape, 4096)
    as_explainer(WCAM()).check_memory((224, 224, 3), 4096)
    images = _pngs(tmp_path / "images", 1)
    config = {**_config(dying, images), "memory_budget_mb": 0.001}
    frame = SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False, report=False)
    assert frame["status"].str.contains("memory_budget_mb").all()


def test_a_second_run_into_a_busy_out_dir_is_refused(tmp_path: Path, dying: str) -> None:
    from xaitk_wcam.study import OutDirError, ResultsStore

    images = _pngs(tmp_path / "images", 1)
    with ResultsStore(tmp_path / "out").lock(), pytest.raises(OutDirError, match="in use by another study"):
        SaliencyRobustnessStudy(_config(dying, images)).run(tmp_path / "out", progress=False, report=False)
    frame = SaliencyRobustnessStudy(_config(dying, images)).run(tmp_path / "out", progress=False, report=False)
    assert (frame["status"] == "ok").all()  # the lock is released with the first run


def test_the_sobol_design_counts_in_the_memory_estimate(tmp_path: Path, dying: str) -> None:
    """Issue 20, failure 8: ``nb_design=2**22`` with ``memory_budget_mb: 1`` passed the estimate (batch x pixels
    only) and reached 2.5 GB in 60 s (2**22 is now over MAX_NB_DESIGN: the largest design allowed shows it)."""
    small = np.zeros((32, 32, 3), dtype=np.uint8)
    big_design = WCAM(levels=1, grid_size=2, nb_design=2**20, batch_size=8)
    with pytest.raises(MemoryError, match=r"per explanation .* memory_budget_mb=1\b"):
        as_explainer(big_design).check_memory(small.shape, 1)
    assert big_design.memory_estimate_bytes(small.shape) > 2**20 * 4 * 8  # the design's A and B alone
    as_explainer(WCAM(levels=1, grid_size=2, nb_design=2, batch_size=8)).check_memory(small.shape, 1)
    images = _pngs(tmp_path / "images", 1, size=32)
    config = _config(dying, images)
    config["saliency"] = {"wcam": to_config_dict(big_design)}
    frame = SaliencyRobustnessStudy({**config, "memory_budget_mb": 1}).run(
        tmp_path / "out", progress=False, report=False
    )
    assert frame["status"].str.contains("memory_budget_mb=1").all()


def test_retry_failed_retries_a_method_that_failed_inside_an_ok_item(
    tmp_path: Path, dying: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 20, failure 10: ``--retry-failed`` recomputed only items whose item status failed."""
    flaky = dying.replace("DyingClassifier", "FlakyClassifier")
    images = _pngs(tmp_path / "images", 2)
    study = SaliencyRobustnessStudy(_config(flaky, images))
    monkeypatch.setenv("FLAKY_NAN", "1")
    frame = study.run(tmp_path / "out", progress=False, report=False)
    assert frame["status"].str.contains("non-finite").all()  # every WCAM explanation failed, every item is ok
    monkeypatch.delenv("FLAKY_NAN")
    kept = study.run(tmp_path / "out", resume=True, progress=False, report=False)
    assert list(kept["status"]) == list(frame["status"])  # --resume alone keeps them
    retried = study.run(tmp_path / "out", resume=True, retry_failed=True, progress=False, report=False)
    assert (retried["status"] == "ok").all(), retried["status"].tolist()
    assert retried["XCorr"].notna().sum() == len(retried[retried["perturbation"] != "reference"])
