"""Classification studies: each item explains one class of an smqtk ``ClassifyImage``.

The class comes from the study's ``target`` rule (:data:`TARGETS`): the reference item's prediction, kept for its
perturbations (``reference_prediction``, the default), each item's own prediction (``prediction``), or the image
source's label (``ground_truth``). The model's outcome on an item is its top class and the target's confidence.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.impls.stability.representation import capture_representations
from xaitk_wcam.study.tasks.base import ModelTask, Targets
from xaitk_wcam.utils.checks import check_image
from xaitk_wcam.utils.confidences import classify, label_index

#: The ``target`` rules of a classification study.
TARGETS: tuple[str, ...] = ("reference_prediction", "prediction", "ground_truth")


class ClassTarget(Targets):
    """The one class an item explains, and the classifier's confidences on the item's image.

    :param index: The class index (a position in the classifier's labels).
    :param labels: The classifier's labels.
    :param confidences: The confidence of every label on the item's image (``None`` for a target read back from a
        committed item that did not keep them).
    :param representations: Layer -> the classifier's representation of the item's image (recorded during its own
        forward pass when a metric reads representations).
    """

    def __init__(
        self,
        index: int,
        labels: list[Hashable],
        confidences: np.ndarray | None = None,
        representations: dict[str | None, np.ndarray] | None = None,
    ) -> None:
        self.index, self.labels, self.confidences = int(index), labels, confidences
        self._representations = dict(representations or {})
        self.positions = np.zeros(1, dtype=np.int64)

    @property
    def explained(self) -> list[int]:
        return [self.index]

    def single(self, index: int) -> list[int]:
        return [self.index]

    def outputs(self) -> np.ndarray | None:
        return self.confidences

    def representations(self) -> dict[str | None, np.ndarray]:
        return dict(self._representations)

    def record(self) -> dict[str, Any]:
        """The class; on a reference item also the confidences (and representations) that the relative stability of
        later items reads, so that a resumed study reads them back."""
        record: dict[str, Any] = {"target_index": self.index}
        if self.confidences is not None:
            record["outputs"] = self.confidences.tolist()
        if self._representations:
            record["representations"] = [[layer, value.tolist()] for layer, value in self._representations.items()]
        return record

    def outcome(self, position: int) -> dict[str, Any]:
        assert self.confidences is not None, "the outcome of a target read back from the store is in its rows"
        predicted = int(np.argmax(self.confidences))
        return {
            "predicted_label": self.labels[predicted],
            "predicted_confidence": float(self.confidences[predicted]),
            "target_label": self.labels[self.index],
            "target_confidence": float(self.confidences[self.index]),
        }

    def class_index(self, index: int) -> int:
        return self.index


class ClassificationTask(ModelTask):
    """A study of an smqtk ``ClassifyImage`` (see the module doc)."""

    section = "classifier"
    study_name = "classification"
    model_interface = "smqtk_classifier.interfaces.classify_image.ClassifyImage"
    setting_keys = ("target",)
    columns = ("predicted_label", "predicted_confidence", "target_label", "target_confidence")
    text_columns = ("predicted_label", "target_label")
    label_columns = ("predicted_label", "target_label")
    outcome_column = "target_confidence"
    outcome_names = ("confidence drop", "flip")
    provides = frozenset({"classes", "outputs", "representations", "explainer"})
    legend = (
        ("predicted_confidence, target_confidence", "the classifier's confidence of its top class and of the "
         "explained (target) class on the item's image"),
    )  # fmt: skip

    def __init__(self, model: Any, settings: Mapping[str, Any]) -> None:
        super().__init__(model, settings)
        self.labels: list[Hashable] = list(model.get_labels())

    def run_model(self, images: Sequence[np.ndarray]) -> None:
        for answer in self.model.classify_images(images):  # lazy answers: consume them
            _ = list(answer)

    def stand_in(self, image: np.ndarray) -> tuple[ClassifyImage, list[int]]:
        return StandInClassifier(self.labels), [0]

    @classmethod
    def resolve_settings(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        target = config.get("target", TARGETS[0])
        if target not in TARGETS:
            raise ValueError(f"target must be one of {list(TARGETS)}, got {target!r}")
        return {"target": target}

    # -- items ----------------------------------------------------------------------------------------
    def reference(self, image: np.ndarray, label: Any) -> ClassTarget:
        return self._observe(image, label, None)

    def follow(self, perturber: Any, image: np.ndarray, reference: Targets, label: Any) -> tuple[np.ndarray, Targets]:
        perturbed, _ = perturber(image=np.copy(image))
        perturbed = check_image(np.asarray(perturbed))
        return perturbed, self._observe(perturbed, label, reference)

    def _observe(self, image: np.ndarray, label: Any, reference: Targets | None) -> ClassTarget:
        """The classifier's confidences on ``image`` and the class to explain there, by the ``target`` rule.

        :raises ValueError: ``ground_truth`` without a label, or with one the classifier does not have.
        """
        with contextlib.ExitStack() as stack:  # representations recorded during this forward pass: no extra one
            recorders = {layer: stack.enter_context(capture_representations(self.model, layer=layer))
                         for layer in self.representation_layers}  # fmt: skip
            confidences = classify(self.model, [[image]], self.labels)[0]
        representations = {layer: recorder.value()[0] for layer, recorder in recorders.items()}
        rule = self.settings["target"]
        if rule == "ground_truth":
            if label is None:
                raise ValueError("target 'ground_truth' needs a label from the image source; this image has none")
            index = label_index(self.labels, label, "ground-truth label")
        elif rule == "prediction" or reference is None:
            index = int(np.argmax(confidences))
        else:
            index = reference.class_index(0)
        return ClassTarget(index, self.labels, confidences, representations)

    @classmethod
    def targets_from_record(cls, record: Mapping[str, Any]) -> ClassTarget:
        outputs = record.get("outputs")
        representations = {layer: np.asarray(value) for layer, value in record.get("representations", [])}
        confidences = None if outputs is None else np.asarray(outputs, dtype=np.float64)
        return ClassTarget(int(record["target_index"]), [], confidences, representations)

    @classmethod
    def outcome_change(cls, reference: Any, perturbed: Any) -> tuple[Any, Any]:
        """The target's confidence drop, and whether the top class flipped (differs from the reference's)."""
        drop = reference["target_confidence"].astype(float) - perturbed["target_confidence"].astype(float)
        before, after = reference["predicted_label"], perturbed["predicted_label"]
        known = before.notna() & after.notna()
        return drop, (before.astype(str) != after.astype(str)).astype(float).where(known)

    # -- the store: one H x W map per method and space, as format 3 always stored them ---------------------
    @classmethod
    def stored_map(cls, stack: np.ndarray) -> np.ndarray:
        return stack[0]

    @classmethod
    def map_stack(cls, stored: np.ndarray) -> np.ndarray:
        return stored[None]

    # -- the report -----------------------------------------------------------------------------------
    @classmethod
    def figure_title(cls, row: Mapping[str, Any]) -> list[str]:
        if row.get("predicted_label") is None:
            return []
        return [f"pred {row['predicted_label']} ({row['predicted_confidence']:.2f})"]

    @classmethod
    def figure_subject(cls, row: Mapping[str, Any], target: int | None) -> str:
        return f"target: {row.get('target_label')}"


class StandInClassifier(ClassifyImage):
    """The calibration's stand-in for a classifier: its labels, confidences from the image's mean colour, no network.
    A method that explains an image with it spends only its own time.

    :param labels: The study classifier's labels.
    """

    def __init__(self, labels: Iterable[Any]) -> None:
        self.labels = list(labels)
        self._phases = np.arange(len(self.labels), dtype=np.float64)

    def get_labels(self) -> list[Any]:
        return self.labels

    def classify_images(self, img_iter: Iterable[np.ndarray]) -> Iterable[dict[Any, float]]:
        for image in img_iter:
            z = np.cos(self._phases * float(np.mean(image)) / 25.0)
            e = np.exp(z - z.max())
            yield dict(zip(self.labels, (e / e.sum()).tolist(), strict=True))

    def get_config(self) -> dict[str, Any]:
        return {"labels": self.labels}

    @classmethod
    def is_usable(cls) -> bool:
        """Never: an internal stand-in, not a plugin a config may name (smqtk's discovery leaves it out)."""
        return False
