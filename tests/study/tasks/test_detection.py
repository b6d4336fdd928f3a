"""Detection studies (src/xaitk_wcam/study/tasks/detection.py): a config with a detector, rows per reference detection,
boxes moved by geometric perturbers, vanished detections, wrong input refused before any work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from nrtk.impls.perturb_image.geometric.random import RandomTranslationPerturber
from nrtk.impls.perturb_image.photometric.blur import AverageBlurPerturber
from nrtk.interfaces import PerturbImage
from smqtk_core.configuration import to_config_dict
from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects
from smqtk_image_io.bbox import AxisAlignedBoundingBox
from study_helpers import FakeClassifier, as_json
from xaitk_saliency.impls.gen_object_detector_blackbox_sal.drise import DRISEStack

from xaitk_wcam.impls.comparison import SSD, XCorr
from xaitk_wcam.impls.faithfulness.deletion_insertion import Deletion
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM
from xaitk_wcam.impls.gen_object_detector_blackbox_sal.wcam_detector import WCAMDetector
from xaitk_wcam.interfaces.image_source import ImageSource
from xaitk_wcam.study import SaliencyRobustnessStudy
from xaitk_wcam.study.config import StudyConfigError
from xaitk_wcam.study.tasks.detection import BOX_REMOVED

EXAMPLE = Path(__file__).parents[3] / "examples" / "detector-blur-study.json"


class RedSquares(DetectImageObjects):
    """Finds the red square: the box of the pixels whose red exceeds 200 (and green stays under 100), scored by
    their share of that box times 0.9; one-class score vectors over ``("square", "other")``."""

    def get_labels(self) -> list[str]:
        return ["square", "other"]

    def detect_objects(self, img_iter: Any) -> Any:
        for image in img_iter:
            x = np.asarray(image)
            red = (x[..., 0] > 200) & (x[..., 1] < 100)
            if not red.any():
                yield []
                continue
            ys, xs = np.nonzero(red)
            x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
            score = 0.9 * float(red[y0:y1, x0:x1].mean())
            yield [(AxisAlignedBoundingBox((x0, y0), (x1, y1)), {"square": score, "other": 0.0})]

    def get_config(self) -> dict[str, Any]:
        return {}


class SquareImages(ImageSource):
    """``n`` grey-noise 32 x 32 images with an 8 x 8 red square at a place that depends on the image; image
    ``empty`` has no square (the detector finds nothing there)."""

    def __init__(self, n: int = 2, empty: int | None = None, limit: int | None = None) -> None:
        super().__init__(limit=limit)
        self.n, self.empty = n, empty

    def _count(self) -> int:
        return self.n

    def _iter_images(self) -> Any:
        rng = np.random.default_rng(0)
        for i in range(self.n):
            image = rng.integers(60, 140, (32, 32, 3), dtype=np.uint8)
            if i != self.empty:
                x, y = 8 + 8 * (i % 2), 8  # on the 8-pixel blocks of the coarsest wavelet cells
                image[y : y + 8, x : x + 8] = (240, 20, 20)
            yield f"square{i}", image, None

    def get_config(self) -> dict[str, Any]:
        return {"n": self.n, "empty": self.empty, "limit": self.limit}


class Blackout(PerturbImage):
    """Blacks the image out: every detection vanishes."""

    def perturb(self, *, image: np.ndarray, boxes: Any = None, **kwargs: Any) -> tuple[np.ndarray, Any]:
        return np.zeros_like(image), boxes

    def get_config(self) -> dict[str, Any]:
        return {}


def detection_config(**images: Any) -> dict[str, Any]:
    return as_json(
        {
            "detector": to_config_dict(RedSquares()),
            "images": to_config_dict(SquareImages(**images)),
            "perturbers": [
                to_config_dict(AverageBlurPerturber(ksize=3)),
                to_config_dict(RandomTranslationPerturber(seed=1)),
                to_config_dict(Blackout()),
            ],
            "saliency": {
                "wcam": to_config_dict(WCAMDetector(levels=2, grid_size=8, nb_design=4, batch_size=64)),
                "drise": to_config_dict(DRISEStack(n=16, s=4, p1=0.5, seed=0)),
            },
            "metrics": {"ssd": to_config_dict(SSD()), "xcorr": to_config_dict(XCorr())},
            "detections": "all",
        }
    )


def test_a_detection_study_fills_its_rows(tmp_path: Path) -> None:
    study = SaliencyRobustnessStudy(detection_config(n=2))
    assert study.plan.model_kind == "detector" and study.plan.noise_floor_index == 4
    frame = study.run(tmp_path / "out", progress=False)
    assert (frame["status"] == "ok").all(), frame[frame["status"] != "ok"]["status"].tolist()
    assert "target_confidence" not in frame and "predicted_label" not in frame
    # per image: (reference + 3 perturbations) x 2 methods x 1 detection, and the noise floor of both seeded methods
    assert len(frame) == 2 * (4 * 2 + 2)
    assert set(frame["detection_label"]) == {"square"} and (frame["detection"] == 0).all()
    ref = frame[frame["perturbation"] == "reference"]
    assert (ref["survival"] > 0.85).all() and (ref["survival"] == ref["detection_score"]).all()
    np.testing.assert_array_equal(ref[["box_x1", "box_y1"]].to_numpy() - ref[["box_x0", "box_y0"]].to_numpy(), 8)
    # the map concentrates on the detection: more of its mass in the box than the box's share of the image
    assert (ref["box_energy"] > 64 / 1024).all() and (ref["box_energy"] <= 1).all()
    wcam_ref = ref[ref["method"] == "wcam"]
    shares = wcam_ref[[f"scale_share_{i}" for i in range(3)]].to_numpy()
    np.testing.assert_allclose(shares.sum(axis=1), 1, atol=1e-6)
    assert ref[ref["method"] == "drise"]["scale_share_0"].isna().all()  # pixel maps have no scale profile
    blurred = frame[frame["perturbation"] == "AverageBlurPerturber(ksize=3)"]
    assert ((blurred["survival"] > 0) & (blurred["survival"] < ref["survival"].to_numpy())).all()
    assert blurred[["ssd", "xcorr"]].notna().all().all()
    floor = frame[frame["perturbation"] == "noise_floor"]
    assert set(floor["method"]) == {"wcam", "drise"} and floor["xcorr"].notna().all() and floor["survival"].isna().all()
    assert (tmp_path / "out" / "figures" / "image_000000_detection_0.png").is_file()
    assert "survival" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    # the verdicts and the robustness link, per image x detection, with the detection's survival as the outcome
    verdicts = pd.read_csv(tmp_path / "out" / "verdicts.csv")
    assert set(verdicts["method"]) == {"wcam", "drise"} and len(verdicts) == 2 * 2 * 3  # methods x comparisons x items
    assert set(verdicts["verdict"]) == {"too few images"}  # 2 < 5 samples
    visible = verdicts[verdicts["perturbation"] != "Blackout()"]
    assert (visible["n_images"] == 2).all()  # complete cases: blacked out, the maps are all zero and SSD undefined
    assert (verdicts[(verdicts["perturbation"] == "Blackout()") & (verdicts["metric"] == "ssd")]["n_images"] == 0).all()
    robustness = pd.read_csv(tmp_path / "out" / "robustness.csv")
    assert set(robustness["outcome"]) == {"survival drop", "lost"} and robustness["n_images"].isin([0, 2]).all()
    blackout = robustness[(robustness["perturbation"] == "Blackout()") & (robustness["statistic"] == "auroc")]
    assert blackout["value"].isna().all()  # every detection is lost: only one outcome, no AUROC


def test_a_vanished_detection_scores_0_and_a_failed_image_does_not_stop_the_study(tmp_path: Path) -> None:
    frame = SaliencyRobustnessStudy(detection_config(n=3, empty=1)).run(tmp_path / "out", progress=False)
    gone = frame[(frame["perturbation"] == "Blackout()") & (frame["image_id"] != "square1")]
    assert len(gone) == 4 and (gone["survival"] == 0).all() and (gone["status"] == "ok").all()
    empty = frame[frame["image_id"] == "square1"]
    assert empty["status"].str.contains("found no detection on the reference image").all()
    assert (frame[frame["image_id"] != "square1"]["status"] == "ok").all()


def test_geometric_perturbers_move_the_boxes(tmp_path: Path) -> None:
    frame = SaliencyRobustnessStudy(detection_config(n=1)).run(tmp_path / "out", progress=False, report=False)
    ref = frame[(frame["perturbation"] == "reference") & (frame["method"] == "wcam")].iloc[0]
    moved = frame[frame["perturbation"].str.startswith("RandomTranslationPerturber")]
    box = [ref[f"box_{k}"] for k in ("x0", "y0", "x1", "y1")]
    # what nrtk returns for the same perturber, image and box
    image = next(iter(SquareImages(n=1)))[1]
    boxes = [(AxisAlignedBoundingBox(box[:2], box[2:]), {"tag": 0})]
    _, expected = RandomTranslationPerturber(seed=1)(image=image, boxes=boxes)
    ((out_box, _),) = list(expected)
    want = [*out_box.min_vertex, *out_box.max_vertex]
    assert want != box  # the seed moves it
    for _, row in moved.iterrows():
        assert [row[f"box_{k}"] for k in ("x0", "y0", "x1", "y1")] == pytest.approx(want)
    blurred = frame[frame["perturbation"] == "AverageBlurPerturber(ksize=3)"].iloc[0]
    assert [blurred[f"box_{k}"] for k in ("x0", "y0", "x1", "y1")] == pytest.approx(box)  # photometric: it stays


class DropBoxes(PerturbImage):
    """Returns the image and no box (as nrtk's crop does for a box outside the crop)."""

    def perturb(self, *, image: np.ndarray, boxes: Any = None, **kwargs: Any) -> tuple[np.ndarray, Any]:
        return np.copy(image), []

    def get_config(self) -> dict[str, Any]:
        return {}


def test_a_box_the_perturber_removes_gets_its_row(tmp_path: Path) -> None:
    config = detection_config(n=1)
    config["perturbers"] = [to_config_dict(DropBoxes())]
    frame = SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False, report=False)
    dropped = frame[frame["perturbation"] == "DropBoxes()"]
    assert len(dropped) == 2 and (dropped["status"] == BOX_REMOVED).all() and (dropped["survival"] == 0).all()


def _with(**changes: Any) -> dict[str, Any]:
    config = detection_config()
    for key, value in changes.items():
        if value is None:
            config.pop(key)
        else:
            config[key] = value
    return as_json(config)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (_with(classifier=to_config_dict(FakeClassifier())), "exactly one model.*got classifier and detector"),
        (_with(detector=None), "exactly one model.*got neither"),
        (_with(target="prediction"), "target applies to a classification study"),
        (_with(detections=0), "detections must be 'all', an int K >= 1"),
        (_with(detections=True), "detections must be 'all', an int K >= 1"),
        (_with(saliency={"wcam": to_config_dict(WCAM(levels=2, grid_size=4))}), "explains a classifier, but this"),
        (_with(metrics={"deletion": to_config_dict(Deletion())}), "reads a classifier.s confidence"),
    ],
)
def test_wrong_input_is_one_line_before_any_work(config: dict[str, Any], message: str, tmp_path: Path) -> None:
    with pytest.raises(StudyConfigError, match=message) as raised:
        SaliencyRobustnessStudy(config)
    assert "\n" not in str(raised.value)


def test_a_classification_study_refuses_a_detector_method_and_detections() -> None:
    from study_helpers import fake_config

    config = fake_config()
    config["saliency"] = {"drise": to_config_dict(DRISEStack(n=8, s=4, p1=0.5))}
    with pytest.raises(StudyConfigError, match="explains a detector, but this study's model is a classifier"):
        SaliencyRobustnessStudy(config)
    with pytest.raises(StudyConfigError, match="detections applies to a detection study"):
        SaliencyRobustnessStudy({**fake_config(), "detections": 2})


@pytest.mark.slow
def test_the_example_config_runs_end_to_end(tmp_path: Path) -> None:
    config = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    frame = SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False)
    assert (frame["status"] == "ok").all()
    assert set(frame["method"]) == {"wcam", "drise"} and frame["survival"].notna().any()
    ref = frame[frame["perturbation"] == "reference"]
    assert (ref["survival"] > 0.5).all() and ref.groupby("image_id")["detection"].nunique().max() <= 2
    assert (tmp_path / "out" / "report.html").is_file()


def test_a_box_outside_the_image_covers_nothing_of_the_map() -> None:
    from xaitk_wcam.study.tasks.detection import box_energy

    ones = np.ones((10, 10))
    assert box_energy(ones, np.array([-8.0, -8.0, -2.0, -2.0])) == 0.0  # it wrapped a numpy slice: 0.712
    assert box_energy(ones, np.array([0.0, 0.0, 5.0, 10.0])) == pytest.approx(0.5)
    assert box_energy(ones, np.array([8.0, -3.0, 14.0, 3.0])) == pytest.approx(6 / 100)  # clipped to the image


def test_a_zero_area_reference_box_is_followed_not_declared_removed() -> None:
    from xaitk_wcam.study.tasks.detection import BOX_REMOVED, DetectionTargets, carry_boxes
    from xaitk_wcam.utils.detections import DetectionSet

    boxes = np.array([[5.0, 5.0, 5.0, 9.0], [2.0, 2.0, 8.0, 8.0]])  # the first has no width
    reference = DetectionTargets(np.arange(2), np.arange(2), DetectionSet(boxes, None, np.ones(2)))
    image = np.full((16, 16, 3), 100, dtype=np.uint8)
    _, blurred = carry_boxes(AverageBlurPerturber(ksize=3), image, reference)
    assert blurred.positions.tolist() == [0, 1]  # a blur moves no box: none is removed
    followed = DetectionTargets(blurred.positions, blurred.index, blurred.detections, np.ones(2))
    assert followed.outcome(0).get("status") != BOX_REMOVED and followed.outcome(0)["survival"] == 1.0


class _ThreeBoxes(DetectImageObjects):
    """Three fixed boxes whose scores follow the image's mean; none on a black image."""

    def __init__(self) -> None:
        self.calls = 0

    def detect_objects(self, img_iter):
        out = []
        for image in img_iter:
            self.calls += 1
            level = float(np.mean(image)) / 255
            boxes = [AxisAlignedBoundingBox((8 * k, 8 * k), (8 * k + 8, 8 * k + 8)) for k in range(3)]
            out.append([(b, {"a": level * s, "b": 0.0}) for b, s in zip(boxes, (0.9, 0.8, 0.7), strict=True)]
                       if level > 0 else [])  # fmt: skip
        return out

    def get_labels(self) -> list[str]:
        return ["a", "b"]

    def get_config(self) -> dict[str, Any]:
        return {}


def test_the_dry_run_hooks_of_a_detection_study() -> None:
    """The dry run counts the targets the rule names (a number; 1 when the detector must run to know), times the
    detector through the task, and times the methods with a stand-in that returns the detector's own detections of
    the first image on every image (none found: nothing to time)."""
    from xaitk_wcam.study.tasks.detection import DetectionTask

    assert DetectionTask.max_targets(DetectionTask.resolve_settings({"detections": 2})) == 2
    assert DetectionTask.max_targets(DetectionTask.resolve_settings({"detections": "all"})) == 1
    detector = _ThreeBoxes()
    task = DetectionTask(detector, DetectionTask.resolve_settings({"detections": 2}))
    image = np.full((32, 32, 3), 200, np.uint8)
    task.run_model([image, image])
    assert detector.calls == 2
    stand_in, targets = task.stand_in(image)
    assert len(targets) == 2 and detector.calls == 3
    (found,) = stand_in.detect_objects([np.zeros((32, 32, 3), np.uint8)])  # the detector finds nothing there
    assert [box for box, _ in found] == [box for box, _ in detector.detect_objects([image])[0][:2]]
    assert task.stand_in(np.zeros((32, 32, 3), np.uint8)) is None
