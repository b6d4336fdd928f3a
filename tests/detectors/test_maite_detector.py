"""MaiteObjectDetector: MAITE object-detection targets as smqtk detections, both score layouts."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

from xaitk_wcam.detectors import HuggingFaceObjectDetector, MaiteObjectDetector
from xaitk_wcam.detectors.huggingface import ObjectDetectionTarget


class Model:
    metadata: ClassVar[dict] = {"id": "fake", "index2label": {0: "cat", 1: "dog"}}

    def __init__(self, vector=False):
        self.vector, self.seen = vector, []

    def __call__(self, batch):
        self.seen.append([np.asarray(x).shape for x in batch])
        scores = np.array([[0.7, 0.2], [0.1, 0.6]]) if self.vector else np.array([0.7, 0.6])
        return [ObjectDetectionTarget(np.array([[0, 0, 4, 5], [2, 2, 9, 9.0]]), np.array([0, 1]), scores)] * len(batch)


@pytest.mark.parametrize("vector", [False, True])
def test_targets_become_detections(vector):
    model = Model(vector)
    detector = MaiteObjectDetector(model, batch_size=2)
    results = [list(r) for r in detector.detect_objects(np.zeros((3, 16, 12, 3), np.uint8))]
    assert model.seen == [[(3, 16, 12)] * 2, [(3, 16, 12)]]  # C x H x W, batches of 2
    assert len(results) == 3 and all(len(r) == 2 for r in results)
    box, scores = results[0][1]
    assert [*box.min_vertex, *box.max_vertex] == [2, 2, 9, 9]
    assert scores == ({"cat": 0.1, "dog": 0.6} if vector else {"cat": 0.0, "dog": 0.6})


def test_round_trip_through_the_hf_adapter(tiny_detr_dir):
    """The HF adapter is a MAITE model; wrapping it back gives the adapter's own detections."""
    hf = HuggingFaceObjectDetector(str(tiny_detr_dir), score_threshold=0.02, device="cpu")
    images = np.random.default_rng(2).integers(0, 256, (2, 40, 40, 3), dtype=np.uint8)
    direct = list(hf.detect_objects(images))
    wrapped = list(MaiteObjectDetector(hf).detect_objects(images))
    assert [[(list(b.min_vertex), s) for b, s in r] for r in direct] == [
        [(list(b.min_vertex), s) for b, s in r] for r in wrapped
    ]


def test_wrong_input():
    with pytest.raises(ValueError, match="labels"):
        MaiteObjectDetector(lambda batch: [])
    with pytest.raises(ValueError, match="import path"):
        MaiteObjectDetector("no_colon")

    class Bad(Model):
        def __call__(self, batch):
            return [ObjectDetectionTarget(np.zeros((2, 4)), np.array([0, 5]), np.ones(2))] * len(batch)

    with pytest.raises(ValueError, match="outside"):
        list(MaiteObjectDetector(Bad()).detect_objects(np.zeros((1, 8, 8, 3), np.uint8)))
