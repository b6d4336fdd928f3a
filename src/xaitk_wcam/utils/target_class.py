"""``TargetClassBlackbox``: a classifier seen through some of its labels."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage


class TargetClassBlackbox(ClassifyImage):
    """A classifier reduced to some of its labels: ``classify_images`` returns ``{label: confidence}`` of those only.

    A black-box generator handed this view makes one map per kept label (usually one: the explained class) instead
    of one per class, and WCAM's importance design draws its base points for those labels. Not a plugin
    (``is_usable()`` is false, so discovery never lists it).

    :param classifier: The full classifier.
    :param labels: The labels to keep, in this order (at least one); each one of ``classifier.get_labels()``.
    :raises ValueError: No label, or a label the classifier does not have.
    """

    def __init__(self, classifier: ClassifyImage, *labels: Hashable) -> None:
        every = list(classifier.get_labels())
        missing = [label for label in labels if label not in every]
        if not labels or missing:
            raise ValueError(f"labels must be one or more of the classifier's labels, got {list(labels)[:5]!r}")
        self._classifier = classifier
        self._labels = list(labels)
        if callable(getattr(classifier, "classify_array", None)):  # xaitk_wcam.utils.confidences' fast path
            self._columns = [every.index(label) for label in labels]
            self.classify_array = self._classify_array

    def _classify_array(self, img_iter: np.ndarray | Iterable[np.ndarray]) -> np.ndarray:
        """The kept labels' columns of the classifier's ``classify_array`` (``N x len(labels)``), without per-image
        dicts."""
        return self._classifier.classify_array(img_iter)[:, self._columns]

    @classmethod
    def is_usable(cls) -> bool:
        """Never offered by plugin discovery."""
        return False

    def get_labels(self) -> Sequence[Hashable]:
        """The kept labels."""
        return list(self._labels)

    def classify_images(self, img_iter: np.ndarray | Iterable[np.ndarray]) -> Iterator[dict[Hashable, float]]:
        """Confidences of the kept labels for each image, streamed from the full classifier."""
        for conf in self._classifier.classify_images(img_iter):
            yield {label: conf[label] for label in self._labels}

    def get_config(self) -> dict[str, Any]:
        """Not configurable: holds a live classifier."""
        return {}
