"""The one confidence reader: dicts of ``classify_images`` and the ``classify_array`` fast path agree, and fail
the same way."""

from __future__ import annotations

import numpy as np
import pytest
from smqtk_classifier import ClassifyImage

from xaitk_wcam.utils.confidences import classify, confidences


class Dicts(ClassifyImage):
    """A classifier with dicts only: 3 labels, confidences from the image means."""

    def get_labels(self):
        return ["a", "b", "c"]

    def classify_images(self, img_iter):
        for image in img_iter:
            m = float(np.asarray(image, dtype=np.float64).mean())
            yield {"a": m, "b": 2 * m, "c": m if np.isfinite(m) else np.nan}

    def get_config(self):
        return {}


class Arrays(Dicts):
    """The same with ``classify_array`` (what the dict path must never be called for)."""

    def classify_images(self, img_iter):
        raise AssertionError("classify_array should be used")

    def classify_array(self, img_iter):
        means = np.asarray(img_iter, dtype=np.float64).reshape(len(img_iter), -1).mean(axis=1)
        return np.stack([means, 2 * means, means], axis=1).astype(np.float32)


def test_array_path_equals_dict_path():
    batch = np.random.default_rng(0).random((5, 4, 4, 3)).astype(np.float32)
    for labels in (["c", "a"], ["b"], ["a", "b", "c"]):
        np.testing.assert_array_equal(
            confidences(Arrays(), batch, labels, 5),
            confidences(Dicts(), batch, labels, 5).astype(np.float32).astype(np.float64),
        )
    assert classify(Arrays(), [batch[:2], batch[2:]]).shape == (5, 3)


def test_array_path_errors():
    batch = np.zeros((2, 4, 4, 3), np.float32)
    with pytest.raises(ValueError, match="not among the blackbox's get_labels"):
        confidences(Arrays(), batch, ["z"], 2)
    with pytest.raises(ValueError, match=r"returned shape \(2, 3\) for a batch of 3 images"):
        confidences(Arrays(), batch, ["a"], 3)
    batch[1] = np.nan
    with pytest.raises(ValueError, match="non-finite confidence"):
        confidences(Arrays(), batch, ["a"], 2)


def test_target_class_view_keeps_the_array_path_only_when_the_classifier_has_it():
    from xaitk_wcam.utils.target_class import TargetClassBlackbox

    batch = np.random.default_rng(1).random((4, 4, 4, 3)).astype(np.float32)
    view = TargetClassBlackbox(Arrays(), "b")
    assert view.classify_array(batch).shape == (4, 1)
    np.testing.assert_array_equal(confidences(view, batch, ["b"], 4), confidences(Arrays(), batch, ["b"], 4))
    assert not hasattr(TargetClassBlackbox(Dicts(), "b"), "classify_array")
    np.testing.assert_array_equal(
        confidences(TargetClassBlackbox(Dicts(), "b"), batch, ["b"], 4), confidences(Dicts(), batch, ["b"], 4)
    )
