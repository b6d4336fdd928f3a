"""The detection reader and the D-RISE similarity, checked against xaitk-saliency's own DRISEScoring."""

from __future__ import annotations

import numpy as np
import pytest
from smqtk_image_io.bbox import AxisAlignedBoundingBox
from xaitk_saliency.impls.gen_detector_prop_sal.drise_scoring import DRISEScoring
from xaitk_saliency.utils.detection import format_detection

from xaitk_wcam.utils.detections import DetectionSet, batch_similarity, drise_similarity, read_detections

LABELS = ("a", "b", "c")


def _det(box, scores):
    return AxisAlignedBoundingBox(box[:2], box[2:]), dict(zip(LABELS, scores, strict=True))


def test_reader_follows_xaitks_conventions():
    batch = [
        [_det((0, 0, 10, 10), (0.0, 0.8, 0.0)), _det((5, 5, 20, 30), (0.2, 0.3, 0.5))],  # one-class, then a vector
        [],  # no detection: padding
    ]
    boxes, scores, objectness, labels = read_detections(batch, None, 2)
    assert labels == list(LABELS) and boxes.shape == (2, 2, 4) and scores.shape == (2, 2, 3)
    np.testing.assert_array_equal(scores[0, 0], [0, 1, 0])  # one positive score: one-hot, objectness = score
    assert objectness[0, 0] == pytest.approx(0.8)
    np.testing.assert_allclose(scores[0, 1], [0.2, 0.3, 0.5])
    assert objectness[0, 1] == 1.0 and np.all(objectness[1] == 0)
    one = DetectionSet.from_detections(batch[0], LABELS)
    assert len(one) == 2 and one.class_labels == ["b", "c"]
    np.testing.assert_allclose(one.confidence, [0.8, 0.5])


@pytest.mark.parametrize(
    ("batch", "match"),
    [
        ([[_det((0, 0, 1, 1), (np.nan, 0, 0))]], "non-finite"),
        ([[(np.array([0, 0, 1, 1]), {"a": 1.0, "b": 0, "c": 0})]], "AxisAlignedBoundingBox"),
        ([[(AxisAlignedBoundingBox((0, 0, 0), (1, 1, 1)), {"a": 1.0, "b": 0, "c": 0})]], "2-D min and max"),
        ([[(AxisAlignedBoundingBox((0, 0), (1, 1)), {"a": 1.0, "b": 0})]], "2 class scores; expected 3"),
        ([[(AxisAlignedBoundingBox((0, 0), (1, 1)), {"a": 1.0, "b": 0, "z": 0})]], "lack label"),
        ([[("not a pair",)]], "expected \\(AxisAlignedBoundingBox"),
        ([], "for 0 images; expected 1"),
    ],
)
def test_reader_refuses_malformed_outputs(batch, match):
    with pytest.raises(ValueError, match=match):
        read_detections(batch, LABELS, 1)


@pytest.mark.parametrize("scores", [(5.0, 0.0, 0.0), (-2.0, 0.0, 0.0), (0.2, 1.5, 0.3), (0.5, -0.1, 0.6)])
def test_detector_scores_outside_the_unit_interval_are_refused(scores):
    """A logit of 5 read as a one-class score gave survival 5.0, a score of -2 a confidence of -2."""
    with pytest.raises(ValueError, match=r"outside \[0, 1\] \(e\.g\. -?[0-9.]+\).*sigmoid or softmax"):
        read_detections([[_det((0, 0, 10, 10), (0.0, 0.5, 0.0)), _det((0, 0, 4, 4), scores)]], LABELS, 1)
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        DetectionSet.from_detections([_det((0, 0, 10, 10), scores)], LABELS)
    boxes, *_ = read_detections([[_det((0, 0, 10, 10), (0.0, 1.0, 0.0))], []], LABELS, 2)  # 0 and 1 are fine
    assert boxes.shape == (2, 1, 4)


def test_similarity_equals_xaitks_drise_scoring():
    """DRISEScoring weights masks by the similarities; with one-pixel disjoint masks its map *is* them."""
    rng = np.random.default_rng(0)
    n_images, n_props, k = 12, 4, 3
    ref_boxes = np.array([[2.0, 3.0, 20.0, 18.0], [10.0, 0.0, 30.0, 25.0]])
    ref_scores = rng.random((2, k))
    reference = DetectionSet(ref_boxes, ref_scores, np.ones(2), LABELS)
    low = rng.uniform(0, 15, (n_images, n_props, 2))
    boxes = np.concatenate([low, low + rng.uniform(3, 15, (n_images, n_props, 2))], axis=2)
    scores, objectness = rng.random((n_images, n_props, k)), rng.random((n_images, n_props))
    ours = batch_similarity(reference, boxes, scores, objectness)

    masks = np.zeros((n_images, 1, n_images))
    masks[np.arange(n_images), 0, np.arange(n_images)] = 1  # image i keeps pixel i only
    perturbed = np.stack([format_detection(boxes[i], scores[i], objectness[i]) for i in range(n_images)])
    maps = DRISEScoring().generate(format_detection(ref_boxes, ref_scores), perturbed, masks)  # 2 x 1 x n_images
    np.testing.assert_allclose(maps[:, 0, :], (ours / ours.max(axis=0)).T, rtol=1e-10)

    single = drise_similarity(reference, DetectionSet(boxes[3], scores[3], objectness[3], LABELS))
    np.testing.assert_allclose(single, ours[3])


def test_similarity_of_a_kept_a_moved_and_a_vanished_detection():
    reference = DetectionSet(np.array([[0.0, 0, 9, 9], [20.0, 20, 29, 29]]), np.eye(2), np.ones(2), ("x", "y"))
    same = DetectionSet(reference.boxes, np.eye(2) * 0.9 + 0.05, np.ones(2), ("x", "y"))
    assert np.all(drise_similarity(reference, same) > 0.99)
    moved = DetectionSet(np.array([[5.0, 0, 14, 9]]), np.eye(2)[:1], np.array([0.8]), ("x", "y"))
    similarity = drise_similarity(reference, moved)
    assert similarity[0] == pytest.approx(0.8 * 50 / 150) and similarity[1] == 0.0  # IoU 1/3 x objectness
    empty = DetectionSet(np.zeros((0, 4)), np.zeros((0, 2)), np.zeros(0), ("x", "y"))
    np.testing.assert_array_equal(drise_similarity(reference, empty), [0.0, 0.0])
    agnostic = DetectionSet(reference.boxes, None, np.ones(2))
    np.testing.assert_allclose(drise_similarity(agnostic, moved), [0.8 * 50 / 150, 0.0])
    with pytest.raises(ValueError, match="same detector's labels"):
        drise_similarity(reference, DetectionSet(moved.boxes, np.ones((1, 3)), np.ones(1)))
