"""CenterNetDetector: decoding on a known heatmap, the shipped ScaleShapes detector's accuracy, wrong input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from smqtk_core.configuration import from_config_dict, to_config_dict
from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects

from xaitk_wcam.datasets import SCENE_CLASSES, scale_shapes_scenes, stack_images
from xaitk_wcam.detectors import CenterNetDetector
from xaitk_wcam.detectors.centernet import SHIPPED, decode, shipped_folder
from xaitk_wcam.evaluation.known_answer_detector import match_detections, scene_detections


def test_decode_finds_the_peaks_their_classes_and_boxes():
    heat = torch.full((1, 3, 6, 8), -9.0)
    heat[0, 2, 1, 5] = 3.0  # class 2 at cell (row 1, col 5)
    heat[0, 0, 4, 2] = 1.0  # class 0 at cell (row 4, col 2)
    heat[0, 0, 4, 3] = 0.5  # its neighbour: not a local maximum
    size = torch.zeros(1, 2, 6, 8)
    size[0, :, 1, 5] = torch.tensor([2.0, 1.0])  # 16 x 8 pixels at stride 8
    offset = torch.full((1, 2, 6, 8), 0.5)
    scores, classes, boxes = decode(heat, size, offset, stride=8, max_detections=3)
    assert classes[0, :2].tolist() == [2, 0] and scores[0, 0] == pytest.approx(torch.sigmoid(torch.tensor(3.0)))
    assert boxes[0, 0].tolist() == pytest.approx([36.0, 8.0, 52.0, 16.0])  # centre (5.5, 1.5) cells = (44, 12) px
    assert scores[0, 2] < 1e-3  # the suppressed neighbour is not the third detection


def test_shipped_detector_finds_the_objects():
    detector = CenterNetDetector(score_threshold=0.3)  # the shipped detector
    assert detector.get_labels() == list(SCENE_CLASSES) and isinstance(detector, DetectImageObjects)
    scenes = scale_shapes_scenes(60, seed=7, split="test")
    references = scene_detections(detector, scenes)
    matched = sum(int((match_detections(s, r) >= 0).sum()) for s, r in zip(scenes, references, strict=True))
    detections = sum(len(r) for r in references)
    objects = sum(len(s.labels) for s in scenes)
    assert matched / objects > 0.95 and matched / detections > 0.95  # recall and precision at IoU 0.5, same class
    assert (shipped_folder(SHIPPED) / "model.safetensors").stat().st_size < 1_000_000 and shipped_folder("x") is None


def test_detections_are_one_class_vectors_in_image_bounds():
    scene = scale_shapes_scenes(1, seed=3, split="test")[0]
    low = CenterNetDetector(score_threshold=0.05, max_detections=5)
    (detections,) = list(low.detect_objects([scene.image]))
    assert 1 <= len(detections) <= 5
    for box, scores in detections:
        assert sum(v > 0 for v in scores.values()) == 1 and 0.05 < max(scores.values()) <= 1
        assert box.min_vertex.min() >= 0 and box.max_vertex.max() <= 96
    grey = list(low.detect_objects(stack_images([scene])[..., 0]))  # grey images: repeated to three channels
    floats = list(low.detect_objects([(scene.image / 255.0).astype(np.float32)]))
    assert len(grey[0]) >= 1 and [max(s.values()) for _, s in floats[0]] == pytest.approx(
        [max(s.values()) for _, s in detections], abs=1e-5
    )


def test_config_round_trip_and_wrong_input(tmp_path):
    detector = CenterNetDetector(score_threshold=0.2, max_detections=7, batch_size=3)
    again = from_config_dict(json.loads(json.dumps(to_config_dict(detector))), DetectImageObjects.get_impls())
    assert again.get_config() == detector.get_config()
    with pytest.raises(FileNotFoundError, match=r"config\.json and model\.safetensors"):
        CenterNetDetector(model_path=str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"labels": ["a"]}))
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ValueError, match="lacks"):
        CenterNetDetector(model_path=str(tmp_path))
    with pytest.raises(ValueError, match="score_threshold"):
        CenterNetDetector(score_threshold=1.0)
    with pytest.raises(ValueError, match="max_detections"):
        CenterNetDetector(max_detections=0)


def test_training_script_is_deterministic():
    """benchmarks/train_scale_shapes_detector.py re-creates its weights bit for bit (a short run twice)."""
    import argparse
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "train_scale_shapes_detector.py"
    spec = importlib.util.spec_from_file_location("train_scale_shapes_detector", path)
    trainer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(trainer)
    args = argparse.Namespace(seed=3, epochs=1, batch_size=16, lr=4e-3, weight_decay=5e-4)
    scenes = scale_shapes_scenes(32, seed=3, split="train")
    images, target = stack_images(scenes), trainer.targets(scenes, 96)
    assert target["mask"].sum() == sum(len(s.labels) for s in scenes)  # one centre cell per object
    first = trainer.train(images, target, args).state_dict()
    second = trainer.train(images, target, args).state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
