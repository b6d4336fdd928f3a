"""A classifier seen through some of its labels (``utils/target_class.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.utils.target_class import TargetClassBlackbox


class Mean(ClassifyImage):
    """Three labels whose confidences are the image mean, its double and its half."""

    def __init__(self) -> None:
        self.calls = 0

    def get_labels(self):
        return ["a", "b", "c"]

    def classify_images(self, img_iter):
        for image in img_iter:
            self.calls += 1
            m = float(np.mean(image))
            yield {"a": m, "b": 2 * m, "c": m / 2}

    def get_config(self):
        return {}


def test_only_the_kept_labels_in_their_order():
    classifier = Mean()
    view = TargetClassBlackbox(classifier, "c", "a")
    assert view.get_labels() == ["c", "a"]
    images = [np.full((2, 2), 4.0), np.full((2, 2), 1.0)]
    results = view.classify_images(iter(images))
    assert classifier.calls == 0  # streamed: nothing runs before it is read
    assert list(results) == [{"c": 2.0, "a": 4.0}, {"c": 0.5, "a": 1.0}]
    assert classifier.calls == 2


def test_not_a_plugin_and_not_configurable():
    assert not TargetClassBlackbox.is_usable()
    assert TargetClassBlackbox(Mean(), "a").get_config() == {}
    assert not hasattr(TargetClassBlackbox(Mean(), "a"), "classify_array")  # no fast path to forward


@pytest.mark.parametrize("labels", [(), ("d",), ("a", "zebra")])
def test_labels_must_be_the_classifiers(labels):
    with pytest.raises(ValueError, match="one or more of the classifier's labels"):
        TargetClassBlackbox(Mean(), *labels)
