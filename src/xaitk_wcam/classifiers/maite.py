"""Any MAITE image-classification model as an smqtk ``ClassifyImage``.

This plays the role of ``xaitk_jatic``'s ``JATICImageClassifier``, whose releases pin ``maite<0.10`` and
``numpy<2``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from typing import Any

import numpy as np
from smqtk_classifier import ClassifyImage
from smqtk_classifier.interfaces.classification_element import CLASSIFICATION_DICT_T
from smqtk_classifier.interfaces.classify_image import IMAGE_ITER_T

from xaitk_wcam.classifiers._inputs import hwc_batches
from xaitk_wcam.utils import imports
from xaitk_wcam.utils.arrays import to_numpy

__all__ = ["MaiteImageClassifier", "import_object", "model_labels"]


def import_object(spec: str, what: str = "import path") -> Any:
    """Import ``"package.module:attribute"`` and, when the attribute is a class or function taking no
    arguments, call it.

    The path is parsed completely before anything is imported (:func:`xaitk_wcam.utils.imports.import_object`):
    ``"module:attr "`` (a trailing space, a control character, a non-ASCII letter) is refused, not imported.

    :param spec: Import path with a colon between module and attribute.
    :param what: The parameter it comes from, for messages.
    :raises ValueError: If ``spec`` is not a well-formed import path, or does not resolve.
    """
    obj = imports.import_object(spec, what)
    return obj() if callable(obj) and not hasattr(obj, "metadata") else obj


def resolve_object(value: Any, name: str, what: str) -> tuple[str | None, Any]:
    """``(import path or None, object)`` of a parameter that takes an object or its ``"package.module:attr"``.

    :param name: The parameter's name, for messages.
    :param what: What the object is, for messages (``"MAITE image-classification model"``).
    :raises ValueError: ``value`` is ``None`` (a config saved from an object records no import path) or an
        import path that does not resolve.
    """
    if value is None:
        raise ValueError(
            f"{name}: expected a {what} or an import path 'package.module:attr'; got None (a config saved from "
            f"a {what.split()[-1]} object cannot be rebuilt)"
        )
    return (value, import_object(value, name)) if isinstance(value, str) else (None, value)


def model_labels(model: Any, labels: Sequence[Hashable] | None) -> list[Hashable]:
    """``labels`` checked, or (``None``) the MAITE model's ``metadata["index2label"]`` in index order.

    :raises ValueError: No labels and no ``index2label``; an empty or repeated label list.
    """
    if labels is None:
        index2label = dict(getattr(model, "metadata", {}) or {}).get("index2label")
        if not index2label:
            raise ValueError("labels: None needs model.metadata['index2label']; the model has none, pass labels=[...]")
        labels = [index2label[i] for i in sorted(index2label)]
    labels = list(labels)
    if len(labels) == 0 or len(set(labels)) != len(labels):
        raise ValueError(f"labels: expected a non-empty sequence of distinct labels; got {labels!r}")
    return labels


class MaiteImageClassifier(ClassifyImage):
    """Wrap a MAITE ``image_classification.Model`` as an smqtk ``ClassifyImage``.

    Images (``H x W [x C]`` numpy, as xaitk passes them) are transposed to ``C x H x W`` views and handed
    to the model in batches of ``batch_size`` as a list; their dtype and value range are passed through
    unchanged, so they must be what the model expects. Each returned vector (``(n_labels,)``, probabilities
    or scores) becomes a ``{label: value}`` dict.

    ``get_config`` round-trips only when ``model`` was given as an import path string
    (``"package.module:factory"``); a model object gives ``{"model": None, ...}``, from which
    ``from_config`` raises ``ValueError`` (build such instances programmatically).

    Cost: one model call per ``batch_size`` images.

    :param model: A MAITE image-classification model (callable on a sequence of ``C x H x W`` arrays), or
        an import path ``"package.module:attribute"`` resolving to one (or to a zero-argument factory).
    :param labels: One label per model output, in output order; ``None`` reads
        ``model.metadata["index2label"]``.
    :param batch_size: Images per model call (positive).
    """

    def __init__(self, model: Any, labels: Sequence[Hashable] | None = None, batch_size: int = 32) -> None:
        self._model_spec, self._model = resolve_object(model, "model", "MAITE image-classification model")
        if not callable(self._model):
            raise ValueError(f"model: expected a callable MAITE model; got {type(self._model).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size: expected a positive int; got {batch_size!r}")
        self._labels_given = None if labels is None else list(labels)
        self._labels = model_labels(self._model, labels)
        self._batch_size = batch_size

    @property
    def model(self) -> Any:
        """The wrapped MAITE model."""
        return self._model

    def get_labels(self) -> Sequence[Hashable]:
        return list(self._labels)

    def classify_images(self, img_iter: IMAGE_ITER_T) -> Iterator[CLASSIFICATION_DICT_T]:
        """Classify ``H x W [x C]`` images (stacked array or iterable) with the MAITE model.

        :return: One ``{label: value}`` dict per image, in :meth:`get_labels` order.
        :raises ValueError: Wrong image rank / channels, or a model output of the wrong length.
        """
        labels, n = self._labels, len(self._labels)
        for runs in hwc_batches(img_iter, self._batch_size):
            batch = [image.numpy() for run in runs for image in run]
            outputs = self._model(batch)
            scores = np.stack([np.asarray(to_numpy(o), dtype=np.float64).reshape(-1) for o in outputs])
            if scores.shape != (len(batch), n):
                raise ValueError(
                    f"model returned outputs of shape {scores.shape} for {len(batch)} images; expected "
                    f"({len(batch)}, {n}) to match labels"
                )
            for row in scores.tolist():
                yield dict(zip(labels, row, strict=True))

    def get_config(self) -> dict[str, Any]:
        return {"model": self._model_spec, "labels": self._labels_given, "batch_size": self._batch_size}
