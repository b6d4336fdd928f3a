"""HuggingFaceObjectDetector: its detections are the image processor's post-processing, as smqtk and MAITE outputs."""

from __future__ import annotations

import json

import maite.protocols.object_detection as od
import numpy as np
import pytest
import torch
from smqtk_core.configuration import from_config_dict, to_config_dict
from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects

from xaitk_wcam.detectors import HuggingFaceObjectDetector

THRESHOLD = 0.02


def _images():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (2, 48, 80, 3), dtype=np.uint8)  # non-square: resized to 64 x 106 -> 58 x 96


def _reference(folder, images, threshold=THRESHOLD):
    """transformers' own pipeline, written out: processor -> model -> post_process_object_detection."""
    from transformers import AutoImageProcessor, AutoModelForObjectDetection

    processor = AutoImageProcessor.from_pretrained(folder)
    model = AutoModelForObjectDetection.from_pretrained(folder).eval()
    with torch.inference_mode():
        outputs = model(**processor(images=list(images), return_tensors="pt"))
    return processor.post_process_object_detection(
        outputs, threshold=threshold, target_sizes=[images.shape[1:3]] * len(images)
    )


@pytest.fixture(scope="module", params=["detr", "yolos"])
def model_dir(request, tiny_detr_dir, tiny_yolos_dir):
    return tiny_detr_dir if request.param == "detr" else tiny_yolos_dir


def test_detections_equal_the_post_processing(model_dir):
    images = _images()
    every = np.concatenate([r["scores"].numpy() for r in _reference(model_dir, images, threshold=0.0)])
    threshold = float(every.min() + every.max()) / 2  # keeps some detections and drops others
    reference = _reference(model_dir, images, threshold)
    assert 0 < sum(len(r["scores"]) for r in reference) < len(every)
    detector = HuggingFaceObjectDetector(str(model_dir), score_threshold=threshold, device="cpu", batch_size=2)
    labels = detector.get_labels()
    ours = list(detector.detect_objects(images))
    for detections, expected in zip(ours, reference, strict=True):
        assert len(detections) == len(expected["scores"])
        for (box, scores), e_box, e_label, e_score in zip(
            detections,
            expected["boxes"].tolist(),
            expected["labels"].tolist(),
            expected["scores"].tolist(),
            strict=True,
        ):
            assert [*box.min_vertex, *box.max_vertex] == e_box
            assert list(scores) == labels and scores[labels[e_label]] == e_score
            assert sum(v > 0 for v in scores.values()) == 1  # one class: xaitk reads objectness = score

    targets = detector(images.transpose(0, 3, 1, 2))  # MAITE: the same detections, arrays per image
    assert isinstance(detector, od.Model) and isinstance(detector, DetectImageObjects)
    for target, expected in zip(targets, reference, strict=True):
        np.testing.assert_array_equal(target.boxes, expected["boxes"].numpy())
        np.testing.assert_array_equal(target.labels, expected["labels"].numpy())
        np.testing.assert_array_equal(target.scores, expected["scores"].numpy())


def test_batching_and_input_kinds_do_not_change_detections(tiny_detr_dir):
    images = _images()
    one = HuggingFaceObjectDetector(str(tiny_detr_dir), score_threshold=THRESHOLD, device="cpu", batch_size=1)
    two = HuggingFaceObjectDetector(str(tiny_detr_dir), score_threshold=THRESHOLD, device="cpu", batch_size=2)

    def flat(results):
        return [(box.min_vertex.tolist() + box.max_vertex.tolist(), max(s.values())) for r in results for box, s in r]

    a, b = flat(one.detect_objects(images)), flat(two.detect_objects(list(images)))
    assert len(a) == len(b) and np.allclose([x for x, _ in a], [x for x, _ in b], atol=1e-4)
    floats = flat(one.detect_objects((images / 255.0).astype(np.float32)))  # float images in [0, 1]
    assert len(floats) == len(a) and np.allclose([s for _, s in floats], [s for _, s in a], atol=1e-2)
    grey = list(one.detect_objects(images[..., 0]))  # grey images are repeated to three channels
    assert len(grey) == 2
    high = flat(
        HuggingFaceObjectDetector(str(tiny_detr_dir), score_threshold=0.05, device="cpu").detect_objects(images)
    )
    assert len(high) < len(a) and all(s > 0.05 for _, s in high)


def test_config_round_trip(tiny_detr_dir):
    detector = HuggingFaceObjectDetector(str(tiny_detr_dir), score_threshold=0.1, device="cpu", batch_size=3)
    again = from_config_dict(json.loads(json.dumps(to_config_dict(detector))), DetectImageObjects.get_impls())
    assert again.get_config() == detector.get_config()
    assert detector.metadata["index2label"] == {0: "cat", 1: "dog", 2: "bird"}


def test_wrong_input(tiny_detr_dir, tiny_resnet_dir, tmp_path):
    with pytest.raises(ValueError, match="not an object detector"):
        HuggingFaceObjectDetector(str(tiny_resnet_dir), device="cpu")
    with pytest.raises(ValueError, match="score_threshold"):
        HuggingFaceObjectDetector(str(tiny_detr_dir), score_threshold=1.0, device="cpu")
    with pytest.raises(ValueError, match="batch_size"):
        HuggingFaceObjectDetector(str(tiny_detr_dir), batch_size=0, device="cpu")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        HuggingFaceObjectDetector(str(tmp_path / "missing" / "model"), device="cpu")
    detector = HuggingFaceObjectDetector(str(tiny_detr_dir), device="cpu")
    with pytest.raises(ValueError, match="images"):
        list(detector.detect_objects(np.zeros((2, 8, 8, 7), np.uint8)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        list(detector.detect_objects(np.full((1, 8, 8, 3), 3.0, np.float32)))
