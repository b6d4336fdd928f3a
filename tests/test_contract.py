"""One contract for every plugin this package registers: whatever ``get_impls()`` finds must round-trip its
config, return outputs of the declared shape, range and map space on a small image and a tiny model, and
refuse wrong input with ``TypeError``/``ValueError``.

A new plugin without an entry in :data:`SMALL` fails :func:`test_every_registered_plugin_is_covered`, so
nothing ships outside the contract. The Fourier-Sobol case (spectrum maps scored as pixel maps) is what the
space checks catch: a method's declared ``map_spaces`` must be the spaces of the explanation it returns.
"""

from __future__ import annotations

import functools
import json
from typing import Any, ClassVar

import numpy as np
import pytest
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from smqtk_core.configuration import from_config_dict, to_config_dict
from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects
from smqtk_image_io.bbox import AxisAlignedBoundingBox
from xaitk_saliency.interfaces.gen_image_classifier_blackbox_sal import GenerateImageClassifierBlackboxSaliency
from xaitk_saliency.interfaces.gen_object_detector_blackbox_sal import GenerateObjectDetectorBlackboxSaliency
from xaitk_saliency.interfaces.saliency_metric import SaliencyMetric

import xaitk_wcam.impls.stability  # noqa: F401 - an entry point once installed; imported for an older install
from xaitk_wcam.interfaces import (
    FaithfulnessMetric,
    GenerateImageClassifierWhiteboxSaliency,
    ImageSource,
    LocalStabilityMetric,
    RelativeStabilityMetric,
    SaliencyComparison,
)
from xaitk_wcam.interfaces.blackbox_explainer import BlackboxExplainer
from xaitk_wcam.interfaces.explanation import MAP_SPACES, PIXEL, WAVELET, Explanation, MapExplanation, accepted_spaces

INTERFACES = (
    GenerateImageClassifierBlackboxSaliency,
    GenerateImageClassifierWhiteboxSaliency,
    FaithfulnessMetric,
    SaliencyMetric,
    SaliencyComparison,
    ClassifyImage,
    ImageSource,
    GenerateObjectDetectorBlackboxSaliency,
    DetectImageObjects,
    RelativeStabilityMetric,
    LocalStabilityMetric,
)

#: Small, cheap constructor keywords of every implementation of this package (by class name).
SMALL: dict[str, dict[str, Any]] = {
    "WCAM": {"grid_size": 4, "nb_design": 2, "levels": 2, "batch_size": 16},
    "SobolAttribution": {"grid_size": 4, "nb_design": 2, "batch_size": 16},
    "FourierSobol": {"grid_size": 4, "nb_design": 2, "batch_size": 16},
    "RandomSaliency": {"seed": 3},
    "VanillaGradients": {},
    "GradientTimesInput": {},
    "SmoothGrad": {"samples": 2},
    "IntegratedGradients": {"steps": 2},
    "GradCAM": {},
    "WAM": {"n_samples": 2, "levels": 2},
    "Deletion": {"max_steps": 4},
    "Insertion": {"max_steps": 4},
    "AverageDrop": {},
    "AverageDropInDeletion": {},
    "MuFidelity": {"n_samples": 8, "grid_size": 4},
    "ReconstructionDepth": {"levels": 2, "max_steps": 4},
    "WaveletDeletion": {"levels": 2, "max_steps": 4},
    "WaveletInsertion": {"levels": 2, "max_steps": 4},
    "WaveletFaithfulness": {"levels": 2},
    "WaveletMuFidelity": {"levels": 2, "grid_size": 4, "n_samples": 8},
    "ScaleShare": {"level": 1, "levels": 2},
    "FineScaleShare": {"levels": 2},
    "SpatialSpread": {},
    "SSD": {},
    "XCorr": {},
    "SpearmanRank": {},
    "TopKIntersection": {"k": 0.25},
    "Wasserstein": {},
    "RelativeInputStability": {},
    "RelativeOutputStability": {},
    "RelativeRepresentationStability": {},
    "MaxSensitivity": {"n_samples": 3, "batch_size": 2},
    "AvgSensitivity": {"n_samples": 3, "batch_size": 2},
    "LocalLipschitzEstimate": {"n_samples": 3, "batch_size": 2},
    "Infidelity": {"n_samples": 3, "batch_size": 2},
    "HuggingFaceImageClassifier": {},  # needs the tiny model folder: see _instance
    "MaiteImageClassifier": {},  # needs a MAITE model: see _instance
    "SkimageImages": {"names": ["camera"], "limit": 1},
    "ScaleShapesScenes": {"n": 2, "size": 64},
    "ScaleShapesImages": {"n": 2, "split": ["test", "cue_conflict"]},
    "FolderImages": {},  # needs a folder: see _instance
    "HFDatasetImages": {},  # needs a dataset folder: see _instance
    "MaiteDatasetImages": {},  # needs a dataset: see _instance
    "WCAMDetector": {"grid_size": 4, "nb_design": 2, "levels": 2, "batch_size": 16},
    "HuggingFaceObjectDetector": {},  # needs the tiny DETR folder: see _instance
    "MaiteObjectDetector": {},  # needs a MAITE model: see _instance
    "CenterNetDetector": {"score_threshold": 0.05, "batch_size": 4},  # the shipped ScaleShapes detector
}


@functools.cache  # smqtk scans the entry points on every get_impls(): once per interface, not once per use
def ours() -> tuple[type, ...]:
    found = set()
    for interface in INTERFACES:
        found |= {cls for cls in interface.get_impls() if cls.__module__.startswith("xaitk_wcam.")}
    return tuple(sorted(found, key=lambda cls: cls.__name__))


class ThreeClasses(ClassifyImage):
    """Softmax of the mean red, green and blue values of the image's left half."""

    def get_labels(self) -> list[str]:
        return ["r", "g", "b"]

    def classify_images(self, img_iter: Any) -> Any:
        for image in img_iter:
            x = np.asarray(image, dtype=np.float64)
            x = np.repeat(x[..., None], 3, axis=-1) if x.ndim == 2 else x
            score = 6 * x[:, : x.shape[1] // 2, :3].mean(axis=(0, 1)) / 255
            e = np.exp(score - score.max())
            yield dict(zip(self.get_labels(), e / e.sum(), strict=True))

    def get_config(self) -> dict[str, Any]:
        return {}


class TinyMaiteModel:
    """A MAITE image-classification model: mean colour -> three probabilities."""

    metadata: ClassVar[dict] = {"id": "tiny", "index2label": {0: "r", 1: "g", 2: "b"}}

    def __call__(self, batch: Any) -> list[np.ndarray]:
        out = []
        for image in batch:
            score = np.asarray(image, dtype=np.float64).reshape(3, -1).mean(axis=1) / 255
            out.append(np.exp(score) / np.exp(score).sum())
        return out


class TwoBoxes(DetectImageObjects):
    """Two fixed boxes whose class scores are the softmax of the mean colour of each box."""

    BOXES = ((2, 2, 14, 20), (16, 8, 30, 30))

    def get_labels(self) -> list[str]:
        return ["r", "g", "b"]

    def detect_objects(self, img_iter: Any) -> Any:
        for image in img_iter:
            x = np.asarray(image, dtype=np.float64)
            x = np.repeat(x[..., None], 3, axis=-1) if x.ndim == 2 else x[..., :3]
            detections = []
            for x0, y0, x1, y1 in self.BOXES:
                score = 6 * x[y0:y1, x0:x1].mean(axis=(0, 1)) / 255
                e = np.exp(score - score.max())
                box = AxisAlignedBoundingBox((x0, y0), (x1, y1))
                detections.append((box, dict(zip("rgb", e / e.sum(), strict=True))))
            yield detections

    def get_config(self) -> dict[str, Any]:
        return {}


class TinyMaiteDetector:
    """A MAITE object-detection model: one box, scored by the mean colour."""

    metadata: ClassVar[dict] = {"id": "tiny-detector", "index2label": {0: "r", 1: "g", 2: "b"}}

    def __call__(self, batch: Any) -> list[Any]:
        from xaitk_wcam.detectors.huggingface import ObjectDetectionTarget

        out = []
        for image in batch:
            mean = np.asarray(image, dtype=np.float64).reshape(3, -1).mean(axis=1) / 255
            out.append(
                ObjectDetectionTarget(np.array([[1.0, 2.0, 20.0, 24.0]]), np.array([mean.argmax()]), mean[None] / 3)
            )
        return out


class TinyMaiteDataset:
    metadata: ClassVar[dict] = {"id": "tiny-data", "index2label": {0: "r", 1: "g"}}

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, dict]:
        image = np.full((3, 16, 16), 40 * (index + 1), dtype=np.uint8)
        return image, np.eye(2)[index], {"id": f"item{index}"}


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def hf_classifier(tiny_resnet_dir: Any) -> Any:
    from xaitk_wcam.classifiers import HuggingFaceImageClassifier

    return HuggingFaceImageClassifier(str(tiny_resnet_dir), device="cpu")


def _instance(cls: type, tmp_path: Any, tiny_resnet_dir: Any, tiny_detr_dir: Any = None) -> Any:
    name = cls.__name__
    if name == "HuggingFaceImageClassifier":
        return cls(str(tiny_resnet_dir), device="cpu", batch_size=4)
    if name == "HuggingFaceObjectDetector":
        return cls(str(tiny_detr_dir), score_threshold=0.01, device="cpu", batch_size=4)
    if name == "MaiteImageClassifier":
        return cls(TinyMaiteModel())
    if name == "MaiteObjectDetector":
        return cls(TinyMaiteDetector())
    if name == "MaiteDatasetImages":
        return cls(TinyMaiteDataset())
    if name == "FolderImages":
        from PIL import Image

        Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "a.png")
        return cls(str(tmp_path))
    if name == "HFDatasetImages":
        import datasets

        data = datasets.Dataset.from_dict({"image": [np.zeros((16, 16, 3), np.uint8)] * 2, "label": [0, 1]})
        data = data.cast_column("image", datasets.Image())
        data.save_to_disk(str(tmp_path / "data"))
        return cls(str(tmp_path / "data"), label_column="label")
    return cls(**SMALL[name])


def test_every_registered_plugin_is_covered() -> None:
    names = {cls.__name__ for cls in ours()}
    assert names == set(SMALL), f"add the new plugins to SMALL: {sorted(names - set(SMALL))}"


@pytest.mark.parametrize("cls", ours(), ids=lambda cls: cls.__name__)
def test_config_round_trip(cls: type, tmp_path: Any, tiny_resnet_dir: Any, tiny_detr_dir: Any) -> None:
    instance = _instance(cls, tmp_path, tiny_resnet_dir, tiny_detr_dir)
    config = json.loads(json.dumps(to_config_dict(instance)))  # JSON-serialisable
    if cls.__name__ in ("MaiteImageClassifier", "MaiteDatasetImages", "MaiteObjectDetector"):
        return  # built from a live object: the config records no import path (documented), nothing to rebuild
    again = from_config_dict(config, [cls])
    assert again.get_config() == instance.get_config()


@pytest.mark.parametrize(
    "cls", [c for c in ours() if issubclass(c, GenerateImageClassifierBlackboxSaliency)], ids=lambda c: c.__name__
)
def test_blackbox_generators_return_declared_spaces(cls: type, image: np.ndarray) -> None:
    generator = cls(**SMALL[cls.__name__])
    assert isinstance(generator, BlackboxExplainer)
    blackbox = ThreeClasses()
    explanation = generator.explain(image, blackbox)
    assert isinstance(explanation, Explanation)
    assert tuple(explanation.spaces) == tuple(generator.map_spaces)  # declared before running = returned
    assert explanation.space == generator.map_spaces[0] and set(explanation.spaces) <= set(MAP_SPACES)
    for space in explanation.spaces:
        maps = explanation.maps_in(space)
        assert maps.shape == (3, 32, 32) and np.isfinite(maps).all() and np.abs(maps).max() <= 1
    if WAVELET in explanation.spaces:
        assert explanation.geometry(WAVELET)["levels"] == generator.wavelet_levels
        np.testing.assert_allclose(explanation.level_shares().sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(generator.generate(image, blackbox), explanation.maps)
    with pytest.raises((TypeError, ValueError)):
        generator.generate(image.astype(complex), blackbox)
    with pytest.raises((TypeError, ValueError)):
        generator.explain(image, object())


@pytest.mark.parametrize(
    "cls", [c for c in ours() if issubclass(c, GenerateImageClassifierWhiteboxSaliency)], ids=lambda c: c.__name__
)
def test_whitebox_generators_return_declared_spaces(cls: type, image: np.ndarray, hf_classifier: Any) -> None:
    generator = cls(**SMALL[cls.__name__])
    explanation = generator.explain(image, hf_classifier, [1])
    assert tuple(explanation.spaces) == tuple(generator.map_spaces)  # declared before running = returned
    assert explanation.space == generator.map_spaces[0] and PIXEL in explanation.spaces
    for space in explanation.spaces:
        maps = explanation.maps_in(space)
        assert maps.shape == (1, 32, 32) and np.isfinite(maps).all() and np.abs(maps).max() <= 1
    if WAVELET in explanation.spaces:
        assert explanation.geometry(WAVELET)["levels"] == generator.wavelet_levels
        np.testing.assert_allclose(explanation.level_shares().sum(axis=1), 1.0, atol=1e-6)
    else:
        assert generator.wavelet_levels is None
    assert explanation.labels == [hf_classifier.get_labels()[1]]
    with pytest.raises(ValueError):
        generator.generate(image, hf_classifier, [99])
    with pytest.raises(TypeError):
        generator.generate(image, ThreeClasses(), [0])


def _map_for(metric: Any, image: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.random(image.shape[:2]) if WAVELET in accepted_spaces(metric) else rng.random((8, 8))


@pytest.mark.parametrize("cls", [c for c in ours() if issubclass(c, FaithfulnessMetric)], ids=lambda c: c.__name__)
def test_faithfulness_metrics_score_their_maps(cls: type, image: np.ndarray) -> None:
    metric = cls(**SMALL[cls.__name__])
    assert set(accepted_spaces(metric)) <= set(MAP_SPACES) and accepted_spaces(metric)
    result = metric.compute(image, _map_for(metric, image), ThreeClasses(), 0)
    assert set(result.scores) == set(metric.score_names)
    assert all(isinstance(v, float) for v in result.scores.values())
    with pytest.raises(ValueError):
        metric.compute(image, np.ones((64, 64)), ThreeClasses(), 0)  # a map larger than the image
    with pytest.raises(ValueError):
        metric.compute(image, _map_for(metric, image), ThreeClasses(), 3)  # no such class
    if accepted_spaces(metric) == (WAVELET,):  # a study decides applicability from levels and map spaces
        levels = metric.get_config()["levels"]
        with pytest.raises(ValueError, match="levels"):
            metric.check_geometry(WAVELET, {"levels": levels + 1})
        with pytest.raises(ValueError, match="wavelet maps"):
            metric.compute_explanation(image, MapExplanation({PIXEL: _map_for(metric, image)[None]}, ["r"]),
                                       ThreeClasses(), 0)  # fmt: skip


@pytest.mark.parametrize("cls", [c for c in ours() if issubclass(c, SaliencyMetric)], ids=lambda c: c.__name__)
def test_map_metrics_return_a_number(cls: type) -> None:
    metric = cls(**SMALL[cls.__name__])
    assert accepted_spaces(metric) in ((PIXEL,), (WAVELET,), MAP_SPACES)
    value = metric.compute(np.random.default_rng(2).random((32, 32)))
    assert isinstance(value, float) and np.isfinite(value)
    with pytest.raises((TypeError, ValueError)):
        metric.compute(np.ones((4, 4, 3)))


@pytest.mark.parametrize("cls", [c for c in ours() if issubclass(c, SaliencyComparison)], ids=lambda c: c.__name__)
def test_comparisons_return_a_number(cls: type) -> None:
    metric = cls(**SMALL[cls.__name__])
    rng = np.random.default_rng(3)
    a, b = rng.random((16, 16)), rng.random((16, 16))
    assert np.isfinite(metric.compute(a, b))
    with pytest.raises(ValueError):
        metric.compute(a, b[:8])
    with pytest.raises(ValueError):
        metric.compute(a, np.full((16, 16), np.nan))


def test_every_impls_package_is_an_entry_point() -> None:
    """get_impls() finds a plugin of an installed package through its smqtk_plugins entry point only."""
    from pathlib import Path

    import xaitk_wcam.impls

    text = (Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8")  # tomllib needs Python 3.11
    section = text.split("[project.entry-points.smqtk_plugins]", 1)[1].split("\n[", 1)[0]
    entries = {line.split("=")[0].strip().strip('"') for line in section.splitlines() if "=" in line}
    folder = Path(xaitk_wcam.impls.__file__).parent
    packages = {f"xaitk_wcam.impls.{p.name}" for p in folder.iterdir() if (p / "__init__.py").exists()}
    assert packages <= entries, f"add to [project.entry-points.smqtk_plugins]: {sorted(packages - entries)}"


def _pair_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    image = rng.random((16, 16, 3))
    return {
        "image": np.clip(image + rng.normal(0, 0.05, image.shape), 0, 1),
        "reference_image": image,
        "output": rng.random(3),
        "reference_output": rng.random(3),
        "representation": rng.normal(size=10),
        "reference_representation": rng.normal(size=10),
    }


@pytest.mark.parametrize("cls", [c for c in ours() if issubclass(c, RelativeStabilityMetric)], ids=lambda c: c.__name__)
def test_relative_stability_metrics_score_a_pair(cls: type) -> None:
    """A (reference, perturbed) pair: declared needs and direction, 0 for a map that did not move, no work."""
    from xaitk_wcam.interfaces.stability import DISTANCE, SIMILARITY

    metric = cls(**SMALL[cls.__name__])
    assert metric.direction in (SIMILARITY, DISTANCE) and metric.needs and metric.needs <= metric.NEEDS
    assert set(accepted_spaces(metric)) <= set(MAP_SPACES) and (metric.n_explanations, metric.n_forward_passes) == (
        0,
        0,
    )
    rng = np.random.default_rng(5)
    inputs, e = _pair_inputs(rng), rng.random((16, 16))
    value = metric.compute(e + rng.random((16, 16)), e, **inputs)
    assert isinstance(value, float) and np.isfinite(value) and value > 0
    assert metric.compute(e, e, **inputs) == 0.0
    with pytest.raises(ValueError):
        metric.compute(e, e)  # nothing of what it needs
    with pytest.raises(ValueError):
        metric.compute(e, e[:8], **inputs)


@pytest.mark.parametrize("cls", [c for c in ours() if issubclass(c, LocalStabilityMetric)], ids=lambda c: c.__name__)
def test_local_stability_metrics_keep_to_their_declared_cost(cls: type) -> None:
    """Around one image: a number, at most the explanations and forward passes declared, refusals before work."""
    from xaitk_wcam.interfaces.stability import DISTANCE, SIMILARITY

    metric = cls(**SMALL[cls.__name__])
    assert metric.direction in (SIMILARITY, DISTANCE) and metric.needs and metric.needs <= metric.NEEDS
    assert set(accepted_spaces(metric)) <= set(MAP_SPACES)
    counts = {"explain": 0, "predict": 0}

    def explain(batch: np.ndarray) -> np.ndarray:
        counts["explain"] += len(batch)
        return batch.mean(axis=-1) ** 2

    def predict(batch: np.ndarray) -> np.ndarray:
        counts["predict"] += len(batch)
        return batch.mean(axis=(1, 2))

    image = np.random.default_rng(6).random((16, 16, 3))
    inputs = {"explain": explain, "predict": predict, "target": 0}
    value = metric.compute(image, **inputs, reference_map=image.mean(axis=-1) ** 2)
    assert isinstance(value, float) and np.isfinite(value) and value >= 0
    assert counts["explain"] <= metric.n_explanations and counts["predict"] <= metric.n_forward_passes
    if "reference_map" not in metric.needs:
        counts.update(explain=0, predict=0)
        metric.compute(image, **inputs)
        assert counts["explain"] == metric.n_explanations and counts["predict"] <= metric.n_forward_passes
    counts.update(explain=0, predict=0)
    with pytest.raises(ValueError):
        metric.compute(image * 300, **inputs, reference_map=np.ones((16, 16)))
    with pytest.raises(ValueError):
        metric.compute(image)  # nothing of what it needs
    assert counts == {"explain": 0, "predict": 0}


@pytest.mark.parametrize(
    "cls", [c for c in ours() if issubclass(c, ClassifyImage) and c.is_usable()], ids=lambda c: c.__name__
)
def test_classifiers_return_one_confidence_per_label(cls: type, tmp_path: Any, tiny_resnet_dir: Any) -> None:
    classifier = _instance(cls, tmp_path, tiny_resnet_dir)
    batch = np.random.default_rng(4).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    results = list(classifier.classify_images(batch))
    assert len(results) == 3 and all(list(r) == list(classifier.get_labels()) for r in results)
    assert all(0 <= v <= 1 for r in results for v in r.values())
    with pytest.raises(ValueError):
        list(classifier.classify_images(np.zeros((2, 8, 8, 7), np.uint8)))


@pytest.mark.parametrize("cls", [c for c in ours() if issubclass(c, ImageSource)], ids=lambda c: c.__name__)
def test_image_sources_give_records_and_a_length(cls: type, tmp_path: Any, tiny_resnet_dir: Any) -> None:
    source = _instance(cls, tmp_path, tiny_resnet_dir)
    records = list(source.records())
    assert len(records) == len(source) >= 1
    for record in records:
        assert record.error is None and record.image.dtype == np.uint8 and record.image.ndim == 3
    with pytest.raises((TypeError, ValueError)):
        cls.from_config({**source.get_config(), "limit": 0})


@pytest.mark.parametrize(
    "cls", [c for c in ours() if issubclass(c, GenerateObjectDetectorBlackboxSaliency)], ids=lambda c: c.__name__
)
def test_detector_generators_return_one_map_per_detection(cls: type, image: np.ndarray) -> None:
    generator = cls(**SMALL[cls.__name__])
    detector = TwoBoxes()
    bboxes = np.array(TwoBoxes.BOXES, dtype=float)
    scores = np.array([list(d[1].values()) for d in next(iter(detector.detect_objects([image])))])
    maps = generator.generate(image, bboxes, scores, detector)
    assert maps.shape == (2, 32, 32) and np.isfinite(maps).all() and np.abs(maps).max() <= 1
    explanation = generator.explain(image, detector)
    assert isinstance(explanation, Explanation) and len(explanation.labels) == 2
    assert tuple(explanation.spaces) == tuple(generator.map_spaces)
    np.testing.assert_array_equal(maps, explanation.maps)
    if WAVELET in explanation.spaces:
        assert explanation.geometry(WAVELET)["levels"] == generator.wavelet_levels
    with pytest.raises(ValueError):
        generator.generate(image, bboxes[:, :3], scores, detector)
    with pytest.raises(ValueError):
        generator.generate(image, bboxes, scores[:, :2], detector)
    with pytest.raises(TypeError):
        generator.generate(image, bboxes, scores, ThreeClasses())


@pytest.mark.parametrize(
    "cls", [c for c in ours() if issubclass(c, DetectImageObjects) and c.is_usable()], ids=lambda c: c.__name__
)
def test_detectors_return_boxes_and_a_score_per_label(
    cls: type, tmp_path: Any, tiny_resnet_dir: Any, tiny_detr_dir: Any
) -> None:
    detector = _instance(cls, tmp_path, tiny_resnet_dir, tiny_detr_dir)
    batch = np.random.default_rng(4).integers(0, 256, (3, 32, 48, 3), dtype=np.uint8)
    results = [list(r) for r in detector.detect_objects(batch)]
    assert len(results) == 3 and sum(len(r) for r in results) > 0
    labels = list(detector.get_labels())
    for box, scores in (d for r in results for d in r):
        assert isinstance(box, AxisAlignedBoundingBox) and box.min_vertex.shape == (2,)
        assert list(scores) == labels and all(0 <= v <= 1 for v in scores.values())
    with pytest.raises(ValueError):
        list(detector.detect_objects(np.zeros((2, 8, 8, 7), np.uint8)))


def _explainer_cases() -> list[Any]:
    """Every generator of this package of a registered explainer kind, and xaitk's SlidingWindowStack and
    DRISEStack (the xaitk kinds), each with small keywords."""
    from xaitk_saliency.impls.gen_image_classifier_blackbox_sal.slidingwindow import SlidingWindowStack
    from xaitk_saliency.impls.gen_object_detector_blackbox_sal.drise import DRISEStack

    from xaitk_wcam.interfaces.explainer import explainer_kinds

    kinds = explainer_kinds()
    cases = [cls for cls in ours() if issubclass(cls, kinds)]
    return [*cases, SlidingWindowStack, DRISEStack]


@pytest.mark.parametrize("cls", _explainer_cases(), ids=lambda c: c.__name__)
def test_every_explainer_adapter_keeps_its_declarations(cls: type, image: np.ndarray, hf_classifier: Any) -> None:
    """Through :func:`as_explainer`, every kind declares before running what it returns, re-seeds by its seed
    only, refuses a wrong model, and explains each target on the image's grid: one map per target, in order."""
    from xaitk_wcam.interfaces.explainer import DETECTOR, as_explainer
    from xaitk_wcam.utils.detections import DetectionSet

    upstream = {
        "SlidingWindowStack": {"window_size": (8, 8), "stride": (8, 8)},
        "DRISEStack": {"n": 8, "s": 4, "p1": 0.5, "seed": 0},
    }
    explainer = as_explainer(cls(**{**upstream, **SMALL}[cls.__name__]))
    if explainer.model_kind == DETECTOR:  # a detector's explainer: one map per given detection
        detector = TwoBoxes()
        found = DetectionSet.from_detections(next(iter(detector.detect_objects([image]))), detector.get_labels())
        explanation = explainer.explain(image, detector, found.subset([1]))
        assert len(explanation.labels) == 1
    else:
        explanation = explainer.explain(image, hf_classifier, [1])
        labels = hf_classifier.get_labels()
        assert list(explanation.labels) in ([labels[1]], [1])  # the label, or the index (a white-box method)
    assert tuple(explanation.spaces) == explainer.map_spaces
    maps = {space: explanation.maps_in(space) for space in explanation.spaces}
    assert all(m.shape == (1, 32, 32) and np.isfinite(m).all() for m in maps.values())
    if WAVELET in explainer.map_spaces:
        assert explanation.geometry(WAVELET)["levels"] == explainer.wavelet_levels
    else:
        assert explainer.wavelet_levels is None
    assert explainer.seeded == ("seed" in explainer.generator.get_config())
    if explainer.seeded:
        other = explainer.with_seed(explainer.seed + 1)
        assert type(other) is type(explainer) and other.seed == explainer.seed + 1
        assert {**other.generator.get_config(), "seed": explainer.seed} == explainer.generator.get_config()
    assert explainer.memory_estimate_mb(image.shape) > 0
    with pytest.raises(TypeError):
        explainer.check_model(object())
