"""``TargetClassBlackbox``: a classifier seen through one of its labels."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage


class TargetClassBlackbox(ClassifyImage):
    """A classifier reduced to one label: ``classify_images`` returns ``{label: confidence}`` only.

    A black-box generator handed this view makes one map (the label's) instead of one per class, and WCAM's
    importance design draws its base points for that label. Not a plugin (``is_usable()`` is false, so
    discovery never lists it).

    :param classifier: The full classifier.
    :param label: The label to keep; one of ``classifier.get_labels()``.
    """

    def __init__(self, classifier: ClassifyImage, label: Hashable) -> None:
        self._classifier = classifier
        self._label = label
        if callable(getattr(classifier, "classify_array", None)):  # xaitk_wcam.utils.confidences' fast path
            self._column = list(classifier.get_labels()).index(label)
            self.classify_array = self._classify_array

    def _classify_array(self, img_iter: np.ndarray | Iterable[np.ndarray]) -> np.ndarray:
        """The kept label's column of the classifier's ``classify_array`` (``N x 1``), without per-image dicts."""
        return self._classifier.classify_array(img_iter)[:, [self._column]]

    @classmethod
    def is_usable(cls) -> bool:
        """Never offered by plugin discovery."""
        return False

    def get_labels(self) -> Sequence[Hashable]:
        """The one kept label."""
        return [self._label]

    def classify_images(self, img_iter: np.ndarray | Iterable[np.ndarray]) -> Iterator[dict[Hashable, float]]:
        """Confidence of the kept label for each image, streamed from the full classifier."""
        for conf in self._classifier.classify_images(img_iter):
            yield {self._label: conf[self._label]}

    def get_config(self) -> dict[str, Any]:
        """Not configurable: holds a live classifier."""
        return {}
