"""The one reader of a ``ClassifyImage``'s confidences: label -> confidence dicts to an ``n x K`` array.

Every caller (the Sobol loop, the faithfulness metrics, the study, the known-answer scoring) goes
through :func:`confidences` (or :func:`read_confidences`), so a blackbox that forgets a label, returns the
wrong number of results or a NaN gets the same clear ``ValueError`` everywhere.

A classifier may also offer ``classify_array(images) -> N x len(get_labels())`` array, columns in
``get_labels()`` order (:class:`~xaitk_wcam.classifiers.huggingface.HuggingFaceImageClassifier` does):
:func:`confidences` then reads the columns it needs without a ``{label: confidence}`` dict per image
(1000 labels: about 0.1 ms per image to build and as much to read, 1 % of an EfficientNet-Lite0 forward
pass on ONNX Runtime).
"""

from __future__ import annotations

import operator
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage

#: How far outside ``[0, 1]`` a probability may lie from float rounding (a softmax can sum to 1 + 1e-7).
PROBABILITY_TOLERANCE = 1e-6


def read_confidences(
    results: Iterable[Mapping[Hashable, float]],
    labels: Sequence[Hashable],
    expected: int,
    *,
    probabilities: bool = False,
) -> np.ndarray:
    """Confidences of ``labels`` (in that order) for each of ``expected`` results.

    :param results: What ``classify_images`` returned for a batch of ``expected`` images.
    :param labels: Labels to read, e.g. ``blackbox.get_labels()`` or a subset.
    :param expected: Number of images in the batch.
    :param probabilities: The caller reads probabilities (a faithfulness metric's drops, ratios and areas):
        a confidence outside ``[0, 1]`` (a score, a logit) is an error rather than a silently wrong number.
    :return: ``expected x len(labels)`` float64 array, finite.
    :raises ValueError: A result lacks a label, the number of results is not ``expected``, a confidence
        is NaN or infinite, or (``probabilities``) outside ``[0, 1]``.
    """
    labels = list(labels)
    pick = operator.itemgetter(*labels) if len(labels) > 1 else (lambda result: (result[labels[0]],))
    rows = []
    for result in results:
        try:
            rows.append(pick(result))
        except KeyError as error:
            missing = [label for label in labels if label not in result]
            raise ValueError(
                f"blackbox result lacks {len(missing)} label(s) of get_labels(), e.g. {missing[:5]}; "
                "classify_images must return a confidence for every label"
            ) from error
    if len(rows) != expected:
        raise ValueError(f"blackbox returned {len(rows)} results for a batch of {expected} images")
    return _checked(np.asarray(rows, dtype=np.float64).reshape(expected, len(labels)), expected, probabilities)


def confidences(
    blackbox: ClassifyImage, batch: Any, labels: Sequence[Hashable], expected: int, *, probabilities: bool = False
) -> np.ndarray:
    """Confidences of ``labels`` (in that order) for the ``expected`` images of ``batch``: one call of
    ``blackbox.classify_array`` when it has one, else :func:`read_confidences` of ``classify_images``.

    :return: ``expected x len(labels)`` float64 array, finite.
    :raises ValueError: As :func:`read_confidences`.
    """
    as_array = getattr(blackbox, "classify_array", None)
    if as_array is None:
        return read_confidences(blackbox.classify_images(batch), labels, expected, probabilities=probabilities)
    column = {label: i for i, label in enumerate(blackbox.get_labels())}
    missing = [label for label in labels if label not in column]
    if missing:
        raise ValueError(f"labels {missing[:5]} are not among the blackbox's get_labels()")
    values = np.asarray(as_array(batch))
    if values.ndim != 2 or values.shape != (expected, len(column)):
        raise ValueError(
            f"blackbox.classify_array returned shape {values.shape} for a batch of {expected} images; expected "
            f"({expected}, {len(column)})"
        )
    return _checked(values[:, [column[label] for label in labels]].astype(np.float64), expected, probabilities)


def _checked(values: np.ndarray, expected: int, probabilities: bool) -> np.ndarray:
    finite = np.isfinite(values)
    if not finite.all():
        bad_images = int((~finite).any(axis=1).sum())
        raise ValueError(
            f"blackbox returned {int((~finite).sum())} non-finite confidence(s) (NaN or inf) for {bad_images} of "
            f"{expected} images; confidences must be finite"
        )
    if probabilities:
        outside = (values < -PROBABILITY_TOLERANCE) | (values > 1 + PROBABILITY_TOLERANCE)
        if outside.any():
            raise ValueError(
                f"blackbox returned {int(outside.sum())} confidence(s) outside [0, 1] (e.g. {values[outside][0]:.6g}) "
                f"for {int(outside.any(axis=1).sum())} of {expected} images, where probabilities are read: give the "
                "classifier a softmax, or use a metric that takes scores"
            )
    return values


def classify(
    blackbox: ClassifyImage,
    batches: Iterable[Any],
    labels: Sequence[Hashable] | None = None,
    *,
    probabilities: bool = False,
) -> np.ndarray:
    """Classify batches of images and read the confidences of ``labels`` (default: all, in label order).

    :param batches: Batches (``N x H x W [x C]`` arrays or sequences of images), one ``classify_images``
        call each.
    :param probabilities: Refuse confidences outside ``[0, 1]`` (see :func:`read_confidences`).
    :return: ``n_images x K`` float64 array, batches concatenated in order.
    """
    labels = list(blackbox.get_labels()) if labels is None else list(labels)
    parts = [confidences(blackbox, batch, labels, len(batch), probabilities=probabilities) for batch in batches]
    return np.concatenate(parts) if parts else np.empty((0, len(labels)))


def label_index(labels: Sequence[Hashable], label: Any, what: str = "label") -> int:
    """Position of ``label`` in ``labels``: the label itself, or its index (an int, or a string of digits, as
    datasets often give class ids).

    :param what: How to name ``label`` in the error, e.g. ``"--label"``.
    :raises ValueError: ``label`` is none of the classifier's labels; the message lists the closest ones
        (:func:`xaitk_wcam.utils.suggest.close_matches`: ``"coffee"`` -> ``"coffee mug"``, ``"coffeepot"``).
    """
    labels = list(labels)
    if label in labels:
        return labels.index(label)
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool) and 0 <= int(label) < len(labels):
        return int(label)
    if isinstance(label, str) and label.isdigit() and int(label) < len(labels):
        return int(label)
    from xaitk_wcam.utils.suggest import close_matches

    closest = close_matches(str(label), [str(name) for name in labels]) if isinstance(label, str) else []
    hint = f"closest: {closest}" if closest else f"none is close; e.g. {labels[:5]}"
    raise ValueError(
        f"{what} {label!r} is not one of the classifier's {len(labels)} labels ({hint}); a label or its index "
        f"0..{len(labels) - 1} is accepted"
    )
