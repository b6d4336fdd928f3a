"""Work items of a study: one image x one perturbation (the reference included), all methods and metrics.

The unit of dispatch is one *image*: its reference item first, then each perturbation, each item committed
to the :class:`~xaitk_wcam.study.store.ResultsStore` before the next starts. The reference map of each
method is therefore computed once per image and reused by every comparison; when a resumed study finds
the reference item already committed, its maps are read back from ``maps/`` (stored losslessly), so the
comparisons are the same numbers as in an uninterrupted run.

White-box generators (``GenerateImageClassifierWhiteboxSaliency``, e.g. the Captum gradient methods) receive
the classifier itself and the target class index and return that class's map; the classifier must then be a
:class:`~xaitk_wcam.interfaces.whitebox.WhiteboxClassifier` (checked when the context is built).

Black-box saliency generators receive :class:`TargetClassBlackbox`, a view of the classifier that reports only the
target class: maps are ``1 x H x W`` whatever the number of classes (an ImageNet model would otherwise make
``1000 x H x W`` maps per item). The generators this package uses (WCAM, RISE, sliding windows, random)
score each class independently, so the target map is unchanged. Faithfulness metrics receive the full
classifier and the target class index. Every method's result is an
:class:`~xaitk_wcam.interfaces.explanation.Explanation` (xaitk generators' pixel maps are wrapped in one), and
each metric scores the map in a space it accepts.

Items of one image: the reference (index 0), each perturbation, and the noise floor (last): each seeded method
explains the reference image again with its seed plus one and the comparison metrics score the two maps.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.interfaces.blackbox_explainer import BlackboxExplainer
from xaitk_wcam.interfaces.explanation import MAP_SPACES, PIXEL, Explanation, MapExplanation
from xaitk_wcam.interfaces.whitebox import GenerateImageClassifierWhiteboxSaliency, WhiteboxClassifier
from xaitk_wcam.study.config import MEMORY_BUDGET_MB, StudyConfigError, build_plugin
from xaitk_wcam.study.spec import NOISE_FLOOR, StudySpec
from xaitk_wcam.study.store import ResultsStore, item_key
from xaitk_wcam.utils.checks import check_image
from xaitk_wcam.utils.confidences import classify
from xaitk_wcam.utils.errors import error_text

OK = "ok"


class TargetClassBlackbox(ClassifyImage):
    """A classifier reduced to one label: ``classify_images`` returns ``{label: confidence}`` only.

    Not a plugin (``is_usable()`` is false, so discovery never lists it): the study wraps its classifier
    in it for the saliency generators.

    :param classifier: The full classifier.
    :param label: The label to keep; one of ``classifier.get_labels()``.
    """

    def __init__(self, classifier: ClassifyImage, label: Hashable) -> None:
        self._classifier = classifier
        self._label = label

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


@dataclass
class ImageUnit:
    """One image to process, with the perturbation indices still to do.

    :param image_index: Position of the image in the source.
    :param image_id: The source's id of the image.
    :param image: ``H x W [x C]`` array (``None`` when the source could not read it).
    :param label: Ground-truth label from the source, or ``None``.
    :param todo: Perturbation indices to compute, ascending (``0`` is the reference).
    :param error: Why the source could not give the image, if it could not.
    :param image_hash: SHA-256 of the image's shape, dtype and bytes (a resumed study recomputes an image that
        changed under its id).
    """

    image_index: int
    image_id: str
    image: np.ndarray | None
    label: Any
    todo: list[int]
    error: str | None = None
    image_hash: str | None = None


def image_hash(image: np.ndarray | None) -> str | None:
    """SHA-256 of an image's shape, dtype and bytes (``None`` for no image)."""
    if image is None:
        return None
    digest = hashlib.sha256(f"{image.shape}{image.dtype}".encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()


class StudyContext:
    """What a worker builds once: the classifier (loaded once) and the study plan.

    :param resolved: Resolved config (:func:`xaitk_wcam.study.config.resolve_config`).
    :param digest: Its config hash.
    :param classifier: An already built classifier to reuse, or ``None`` to build it from the config.
    """

    def __init__(self, resolved: dict[str, Any], digest: str, classifier: ClassifyImage | None = None) -> None:
        self.resolved = resolved
        self.digest = digest
        self.spec = StudySpec.from_resolved(resolved)
        self.classifier = (
            classifier if classifier is not None else build_plugin("classifier", resolved["classifier"], "classifier")
        )
        if self.spec.whitebox and not isinstance(self.classifier, WhiteboxClassifier):
            raise StudyConfigError(
                f"saliency {self.spec.whitebox} are white-box methods: the classifier must expose model, "
                f"preprocess and get_labels (e.g. HuggingFaceImageClassifier), got {type(self.classifier).__name__}"
            )
        self.labels: list[Hashable] = list(self.classifier.get_labels())
        self.target: str = resolved["target"]
        self.memory_budget: float = float(resolved.get("memory_budget_mb", MEMORY_BUDGET_MB))


@dataclass
class _Reference:
    """What perturbed items of an image need from its reference item."""

    status: str
    target_index: int | None = None
    maps: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # method -> space -> map


def _classify(ctx: StudyContext, image: np.ndarray) -> np.ndarray:
    return classify(ctx.classifier, [[image]], ctx.labels)[0]


def _ground_truth_index(ctx: StudyContext, label: Any) -> int:
    if label is None:
        raise ValueError("target 'ground_truth' needs a label from the image source; this image has none")
    if label in ctx.labels:
        return ctx.labels.index(label)
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool) and 0 <= int(label) < len(ctx.labels):
        return int(label)
    if isinstance(label, str) and label.isdigit() and int(label) < len(ctx.labels):
        return int(label)
    raise ValueError(f"ground-truth label {label!r} is not one of the classifier's {len(ctx.labels)} labels")


def failure_record(spec: StudySpec, digest: str, unit: ImageUnit, p_index: int, status: str) -> dict[str, Any]:
    """The record of an item that could not be computed: one row per method, all with ``status``."""
    rows = [
        {"_method_index": m, "image_id": unit.image_id, "perturbation": spec.item_label(p_index), "method": name,
         "status": status}
        for m, name in enumerate(spec.methods)
    ]  # fmt: skip
    return item_record(spec, digest, unit, p_index, {"rows": rows, "item_status": status})


def _score_metrics(
    ctx: StudyContext,
    name: str,
    maps: Mapping[str, np.ndarray],
    ref_maps: Mapping[str, np.ndarray] | None,
    image: np.ndarray,
    target_index: int,
) -> tuple[dict[str, float | None], list[str]]:
    """Every metric column of one method's maps (``ref_maps`` is ``None`` on the reference item).

    Each metric scores the map in the space it accepts (:meth:`StudySpec.metric_space`); a metric that
    accepts none of the method's spaces gets no value and no error (the report lists it once).
    """
    values: dict[str, float | None] = {}
    errors: list[str] = []
    metrics = ctx.spec.metric_instances()
    by_metric: dict[int, list[Any]] = {}
    for col in ctx.spec.columns:
        by_metric.setdefault(col.metric, []).append(col)
    for m, cols in by_metric.items():
        metric, kind = metrics[m], cols[0].kind
        space = ctx.spec.metric_space(name, cols[0])
        for col in cols:
            values[col.column] = None
        if space is None or (kind == "comparison" and ref_maps is None):
            continue
        try:
            if kind == "metric":
                values[cols[0].column] = float(metric.compute(maps[space]))
            elif kind == "comparison":
                if space not in ref_maps:
                    errors.append(f"{cols[0].column}: no reference map")
                else:
                    values[cols[0].column] = float(metric.compute(maps[space], ref_maps[space]))
            else:
                result = metric.compute(image, maps[space], ctx.classifier, target_index)
                for col in cols:
                    values[col.column] = float(result.scores[col.score])
        except Exception as err:
            errors.append(f"{cols[0].column}: {error_text(err)}")
    return values, errors


#: Bytes per pixel and channel of one image in a batch, counted conservatively: the float32 perturbed image,
#: its copy in the input's dtype (at most 4 bytes) and the classifier's float32 input.
BYTES_PER_PIXEL = 12


def check_memory(generator: Any, image: np.ndarray, budget_mb: float) -> None:
    """Refuse, before any allocation, an explanation whose estimated working memory exceeds ``budget_mb``.

    A generator that counts its own memory (``memory_estimate_bytes(image_shape)``, e.g. the Sobol methods: the
    batch, the design and the outputs of the one class the study explains) gives the estimate; for another it is
    the images handled at once (its ``batch_size``, 64 when it has none) times the image's pixels and channels
    times :data:`BYTES_PER_PIXEL`.

    :raises MemoryError: The estimate exceeds the budget (the row's status says so; the study goes on).
    """
    channels = image.shape[2] if image.ndim == 3 else 1
    estimate_bytes = getattr(generator, "memory_estimate_bytes", None)
    if callable(estimate_bytes):
        estimate, per = estimate_bytes(image.shape) / 2**20, "per explanation (batch, design and outputs)"
    else:
        batch = int(generator.get_config().get("batch_size", 64) or 64)
        estimate = batch * image.shape[0] * image.shape[1] * channels * BYTES_PER_PIXEL / 2**20
        per = f"per batch of {batch}"
    if estimate > budget_mb:
        raise MemoryError(
            f"a {image.shape[0]} x {image.shape[1]} x {channels} image needs an estimated {estimate:,.0f} MB {per} "
            f"for {type(generator).__name__}, over memory_budget_mb={budget_mb:,.0f}; resize the image, lower the "
            "method's batch_size or nb_design, or raise memory_budget_mb"
        )


def explain(ctx: StudyContext, generator: Any, image: np.ndarray, target_index: int) -> Explanation:
    """The explanation of the target class by any generator the study accepts.

    White-box generators get the classifier and the class index; this package's black-box generators
    (:class:`~xaitk_wcam.interfaces.blackbox_explainer.BlackboxExplainer`) and xaitk's (whose ``generate``
    returns pixel maps) get the one-label view :class:`TargetClassBlackbox`.
    """
    label = ctx.labels[target_index]
    if isinstance(generator, GenerateImageClassifierWhiteboxSaliency):
        return generator.explain(image, ctx.classifier, [target_index])
    blackbox = TargetClassBlackbox(ctx.classifier, label)
    if isinstance(generator, BlackboxExplainer):
        return generator.explain(image, blackbox)
    return MapExplanation({PIXEL: np.asarray(generator.generate(image, blackbox))}, [label])


def _method_row(
    ctx: StudyContext,
    name: str,
    image: np.ndarray,
    target_index: int,
    ref: _Reference | None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Maps, metrics and scale shares of one method on one item (``ref`` is ``None`` on the reference)."""
    start = time.perf_counter()
    fields: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    try:
        generator = ctx.spec.saliency(name)
        check_memory(generator, image, ctx.memory_budget)
        explanation = explain(ctx, generator, image, target_index)
        labels = list(explanation.labels)
        row = labels.index(ctx.labels[target_index]) if ctx.labels[target_index] in labels else 0
        maps = {space: np.asarray(explanation.maps_in(space)[row]) for space in explanation.spaces}
        arrays[name] = maps[explanation.space]
        arrays.update({f"{name}__{space}": value for space, value in maps.items()})
        shares = explanation.level_shares()
        if shares is not None:
            fields.update({f"scale_share_{level}": float(v) for level, v in enumerate(shares[row])})
    except Exception as err:
        fields["status"] = error_text(err)
        fields["seconds"] = time.perf_counter() - start
        return fields, arrays
    ref_maps = None if ref is None else ref.maps.get(name, {})
    values, errors = _score_metrics(ctx, name, maps, ref_maps, image, target_index)
    fields.update(values)
    fields["status"] = OK if not errors else "; ".join(errors)
    fields["seconds"] = time.perf_counter() - start
    return fields, arrays


def _compute_item(
    ctx: StudyContext,
    unit: ImageUnit,
    p_index: int,
    image: np.ndarray,
    ref: _Reference | None,
) -> tuple[dict[str, Any], dict[str, np.ndarray], _Reference]:
    """Rows, arrays and reference info of one classified item (``ref`` is ``None`` for the reference)."""
    pid = ctx.spec.item_label(p_index)
    confidences = _classify(ctx, image)
    predicted = int(np.argmax(confidences))
    if ctx.target == "ground_truth":
        target_index = _ground_truth_index(ctx, unit.label)
    elif ctx.target == "prediction" or ref is None:
        target_index = predicted
    else:
        target_index = int(ref.target_index)  # type: ignore[arg-type]
    common = {
        "predicted_label": ctx.labels[predicted],
        "predicted_confidence": float(confidences[predicted]),
        "target_label": ctx.labels[target_index],
        "target_confidence": float(confidences[target_index]),
    }
    rows, arrays = [], {"image": image}
    for m, name in enumerate(ctx.spec.methods):
        fields, method_arrays = _method_row(ctx, name, image, target_index, ref)
        rows.append(
            {"_method_index": m, "image_id": unit.image_id, "perturbation": pid, "method": name, **common, **fields}
        )
        arrays.update(method_arrays)
    info = _Reference(OK, target_index, _maps_by_method(ctx, arrays))
    record = {"rows": rows, "target_index": target_index, "item_status": OK}
    return record, arrays, info


def item_record(spec: StudySpec, digest: str, unit: ImageUnit, p_index: int, body: Mapping[str, Any]) -> dict[str, Any]:
    """An item's record: ``body`` (its rows and status) with the item's metadata."""
    meta: dict[str, Any] = {
        "key": item_key(unit.image_index, p_index),
        "config_hash": digest,
        "image_index": unit.image_index,
        "image_id": unit.image_id,
        "image_hash": unit.image_hash,
        "perturbation_index": p_index,
        "perturbation": spec.item_label(p_index),
        "group": None,
        "axis": None,
        "strength": None,
    }
    if 0 < p_index <= len(spec.perturbations):
        p = spec.perturbations[p_index - 1]
        meta.update({"group": p.group, "axis": p.axis, "strength": p.strength})
    return {**meta, **body}


def _noise_floor_item(
    ctx: StudyContext, unit: ImageUnit, image: np.ndarray, ref: _Reference
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The noise floor of one image: each seeded method explains the reference image again with its seed plus
    one, and the comparison metrics score that map against the reference map (rows ``noise_floor``)."""
    rows, arrays = [], {}
    for m, name in enumerate(ctx.spec.methods):
        if name not in ctx.spec.seeded:
            continue
        start = time.perf_counter()
        fields: dict[str, Any] = {}
        try:
            generator = ctx.spec.second_seed(name)
            check_memory(generator, image, ctx.memory_budget)
            explanation = explain(ctx, generator, image, int(ref.target_index))
            labels = list(explanation.labels)
            label = ctx.labels[int(ref.target_index)]
            row = labels.index(label) if label in labels else 0
            maps = {space: np.asarray(explanation.maps_in(space)[row]) for space in explanation.spaces}
            arrays.update({f"{name}__{space}": value for space, value in maps.items()})
            values, errors = _score_metrics(ctx, name, maps, ref.maps.get(name, {}), image, int(ref.target_index))
            fields.update({c.column: values[c.column] for c in ctx.spec.columns if c.kind == "comparison"})
            fields["status"] = OK if not errors else "; ".join(errors)
        except Exception as err:
            fields["status"] = error_text(err)
        fields["seconds"] = time.perf_counter() - start
        rows.append(
            {"_method_index": m, "image_id": unit.image_id, "perturbation": NOISE_FLOOR, "method": name, **fields}
        )
    return {"rows": rows, "target_index": ref.target_index, "item_status": OK}, arrays


def _load_reference(ctx: StudyContext, store: ResultsStore, unit: ImageUnit) -> _Reference:
    key = item_key(unit.image_index, 0)
    record = store.load_item(key)
    if record is None:
        return _Reference("reference item missing")
    if record.get("item_status") != OK:
        return _Reference(str(record.get("item_status")))
    return _Reference(OK, record["target_index"], _maps_by_method(ctx, store.load_arrays(key)))


def _maps_by_method(ctx: StudyContext, arrays: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """``{method: {space: map}}`` from an item's arrays (named ``<method>__<space>``)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for key, value in arrays.items():
        method, _, space = key.rpartition("__")
        if method in ctx.spec.method_info and space in MAP_SPACES:
            out.setdefault(method, {})[space] = value
    return out


def run_unit(
    ctx: StudyContext,
    store: ResultsStore,
    unit: ImageUnit,
    on_commit: Callable[[str], None] | None = None,
) -> list[str]:
    """Compute and commit the items ``unit.todo`` of one image, reference first.

    Errors of the image (unreadable, wrong shape), of the perturber or of the classifier are recorded in
    the ``status`` of the item's rows, and the study goes on; a perturbed item of an image whose reference
    failed records ``reference failed: ...``.

    :param ctx: The worker's context.
    :param store: Output folder.
    :param unit: The image and the perturbation indices to do.
    :param on_commit: Called with each committed key (progress).
    :return: Committed keys, in order.
    """
    committed: list[str] = []

    def commit(p_index: int, body: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        key = item_key(unit.image_index, p_index)
        store.commit(key, item_record(ctx.spec, ctx.digest, unit, p_index, body), arrays)
        committed.append(key)
        if on_commit is not None:
            on_commit(key)

    def fail(p_index: int, status: str) -> None:
        key = item_key(unit.image_index, p_index)
        store.commit(key, failure_record(ctx.spec, ctx.digest, unit, p_index, status), {})
        committed.append(key)
        if on_commit is not None:
            on_commit(key)

    image_error = unit.error
    image = None
    if image_error is None:
        try:
            image = check_image(unit.image)
        except (TypeError, ValueError) as err:
            image_error = error_text(err)
    if image_error is not None:
        for p_index in unit.todo:
            fail(p_index, image_error)
        return committed
    assert image is not None

    ref: _Reference | None = None
    for p_index in unit.todo:
        if p_index == 0:
            try:
                body, arrays, ref = _compute_item(ctx, unit, 0, image, None)
            except Exception as err:
                ref = _Reference(error_text(err))
                fail(0, ref.status)
                continue
            commit(0, body, arrays)
            continue
        if ref is None:
            ref = _load_reference(ctx, store, unit)
        if ref.status != OK:
            fail(p_index, f"reference failed: {ref.status}")
            continue
        try:
            if p_index == ctx.spec.noise_floor_index:
                body, arrays = _noise_floor_item(ctx, unit, image, ref)
            else:
                perturbed, _ = ctx.spec.perturber(p_index)(image=np.copy(image))
                perturbed = check_image(np.asarray(perturbed))
                body, arrays, _ = _compute_item(ctx, unit, p_index, perturbed, ref)
        except Exception as err:
            fail(p_index, error_text(err))
            continue
        commit(p_index, body, arrays)
    return committed
