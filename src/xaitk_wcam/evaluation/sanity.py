"""Cascading model-parameter randomisation (Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018).

A saliency method that explains the *model* must give different maps when the model's learned weights are
destroyed. :func:`cascading_randomisation` re-initialises the layers of a **copy** of a torch model from the top
down, cumulatively (each layer with its own default initialisation, seeded), explains the same image again after
the layers the caller chooses, and compares each map with the trained model's map by Spearman rank correlation
over all map entries (Quantus 0.6's ``MPRT`` similarity, ``correlation_spearman``). The correlation should fall
towards 0; a method whose correlation stays at the level of its own seed-to-seed correlation (two draws of the
method on the trained model: its noise floor) is explaining the image, not the model.

Layers: by default every module with ``reset_parameters``, in reverse ``named_modules()`` order (Quantus' ``MPRT``
``layer_order="top_down"``); or module names given top first (e.g. whole blocks). Randomising a layer resets every
submodule's parameters (``reset_parameters``) and running statistics (``reset_running_stats``).

The model the caller passes is never modified; the explain callable gets the trained model, then the randomised
copy. Cost: ``1 + len(checkpoints)`` explanations, plus one with a second draw; the copy holds one more model in
memory.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from xaitk_wcam.utils.checks import check_choice, check_int

__all__ = ["TRAINED", "CascadeResult", "cascading_randomisation", "default_layers", "spearman_similarity"]

#: The ``step`` the explain callable gets for the trained model.
TRAINED = "trained"

#: ``seeding`` values: ``torch.manual_seed(seed + i)`` before layer ``i`` (``"per_layer"``), or ``seed + 1`` before
#: every layer (``"quantus"``, as Quantus 0.6's ``get_random_layer_generator``).
SEEDINGS = ("per_layer", "quantus")

#: An explainer of a model: ``(model, step) -> map`` (``step``: :data:`TRAINED` or the last randomised layer's name,
#: for a caller that caches or logs).
ExplainModel = Callable[[Any, str], np.ndarray]


def spearman_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps over all entries (ties: average ranks), in ``[-1, 1]``.

    A constant map shares no ranking: 0 (Quantus' ``correlation_spearman`` gives ``nan``); a randomised model whose
    map collapses to a constant has moved away from the trained map.

    :raises ValueError: Maps of different sizes.
    """
    from scipy.stats import spearmanr

    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.size != b.size:
        raise ValueError(f"maps must have the same number of entries, got {a.size} and {b.size}")
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(spearmanr(a, b)[0])
    return value if np.isfinite(value) else 0.0


def default_layers(model: Any) -> list[str]:
    """Quantus' top-down order: the names of the modules with ``reset_parameters``, last registered first."""
    return [name for name, module in model.named_modules() if hasattr(module, "reset_parameters")][::-1]


@dataclass(frozen=True)
class CascadeResult:
    """The maps of one cascade and their similarities to the trained model's map.

    :param layers: Every layer randomised, top first.
    :param steps: The layers after which the image was explained again (a subsequence of ``layers``).
    :param trained_map: The map of the trained model.
    :param maps: One map per step, after randomising every layer up to and including it.
    :param second_draw_map: A second draw of the method on the trained model, or ``None``.
    """

    layers: tuple[str, ...]
    steps: tuple[str, ...]
    trained_map: np.ndarray
    maps: tuple[np.ndarray, ...]
    second_draw_map: np.ndarray | None = None

    def similarities(self, *, absolute: bool = False) -> np.ndarray:
        """Spearman similarity of each step's map to the trained map (of absolute values with ``absolute``, as
        Quantus' ``MPRT`` default ``abs=True`` and Adebayo et al.'s second view)."""
        prep = np.abs if absolute else np.asarray
        return np.array([spearman_similarity(prep(self.trained_map), prep(m)) for m in self.maps])

    def seed_similarity(self, *, absolute: bool = False) -> float | None:
        """Spearman similarity of the two draws on the trained model (the method's noise floor), or ``None``."""
        if self.second_draw_map is None:
            return None
        prep = np.abs if absolute else np.asarray
        return spearman_similarity(prep(self.trained_map), prep(self.second_draw_map))

    def falls_below_seed_similarity(self, *, absolute: bool = False) -> bool | None:
        """Whether the fully randomised step's similarity is below the seed-to-seed similarity (the method passes),
        or ``None`` without a second draw."""
        seed = self.seed_similarity(absolute=absolute)
        return None if seed is None or not self.maps else bool(self.similarities(absolute=absolute)[-1] < seed)

    def rows(self) -> list[dict[str, Any]]:
        """One row per step (``step``, ``similarity``, ``abs_similarity``), after a ``"seed"`` row when there is a
        second draw: a table for a report or ``sanity.csv``."""
        rows = []
        if self.second_draw_map is not None:
            rows.append({"step": "seed", "similarity": self.seed_similarity(),
                         "abs_similarity": self.seed_similarity(absolute=True)})  # fmt: skip
        for step, rho, abs_rho in zip(self.steps, self.similarities(), self.similarities(absolute=True), strict=True):
            rows.append({"step": step, "similarity": float(rho), "abs_similarity": float(abs_rho)})
        return rows


def _randomise(module: Any) -> None:
    for layer in module.modules():
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()
        if hasattr(layer, "reset_running_stats"):
            layer.reset_running_stats()


def _check_map(value: Any, step: str, shape: tuple[int, ...] | None) -> np.ndarray:
    values = np.asarray(value)
    if not np.issubdtype(values.dtype, np.number) or values.ndim < 1 or not np.isfinite(values).all():
        raise ValueError(
            f"explain must return a finite numeric map; at step {step!r} got {values.dtype} {values.shape}"
        )
    if shape is not None and values.shape != shape:
        raise ValueError(f"explain returned a map of shape {values.shape} at step {step!r}, {shape} at 'trained'")
    return np.array(values, dtype=np.float64)


def cascading_randomisation(
    model: Any,
    explain: ExplainModel,
    *,
    layers: Sequence[str] | None = None,
    checkpoints: Sequence[int] | None = None,
    second_draw: ExplainModel | None = None,
    seed: int = 0,
    seeding: str = "per_layer",
) -> CascadeResult:
    """Randomise ``model``'s layers top down on a copy and explain again (Adebayo et al. 2018; see the module doc).

    :param model: A ``torch.nn.Module`` (e.g. a HuggingFace classifier's ``model``). Not modified.
    :param explain: ``(model, step) -> map``: the map of the explained image and class under ``model`` (the trained
        model, then the randomised copy); ``step`` is :data:`TRAINED` or the last randomised layer's name. For a
        classifier adapter, wrap the module (``HuggingFaceImageClassifier.with_model``).
    :param layers: Module names (``model.named_modules()``), top first; ``None``: :func:`default_layers`.
    :param checkpoints: Indices into ``layers`` after which to explain again (sorted, unique); ``None``: every layer.
    :param second_draw: Another draw of the method (e.g. seed + 1), called once on the trained model; its similarity
        to the trained map is the method's noise floor (:meth:`CascadeResult.seed_similarity`).
    :param seed: Seed of the re-initialisation (torch's global generator; its state is restored afterwards).
    :param seeding: ``"per_layer"`` (``seed + i`` before layer ``i``) or ``"quantus"`` (``seed + 1`` before every
        layer, as Quantus 0.6).
    :raises TypeError: ``model`` is not a torch module, ``explain`` or ``second_draw`` not callable.
    :raises ValueError: An unknown layer name, no layer, wrong checkpoints, or maps of changing shapes.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(
            f"model must be a torch.nn.Module (a white-box model, e.g. a classifier's .model), "
            f"got {type(model).__name__}"
        )
    for name, fn in (("explain", explain), ("second_draw", second_draw)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{name} must be a callable (model, step) -> map, got {type(fn).__name__}")
    seed = int(check_int("seed", seed, 0))  # type: ignore[arg-type]
    check_choice("seeding", seeding, SEEDINGS)
    if isinstance(layers, str):
        raise TypeError(f"layers must be a sequence of module names, got the string {layers!r}")
    named = dict(model.named_modules())
    names = default_layers(model) if layers is None else list(layers)
    unknown = [n for n in names if not isinstance(n, str) or n not in named]
    if unknown:
        raise ValueError(
            f"layers {unknown[:5]} are no modules of {type(model).__name__}; accepted: its named_modules()"
        )
    if not names:
        raise ValueError(f"{type(model).__name__} has no layer to randomise (no module with reset_parameters)")
    marks = list(range(len(names))) if checkpoints is None else [check_int("checkpoints", c, 0) for c in checkpoints]
    if not marks or marks != sorted(set(marks)) or marks[-1] >= len(names):  # type: ignore[operator]
        raise ValueError(f"checkpoints must be sorted, unique indices into the {len(names)} layers, got {checkpoints}")

    trained = _check_map(explain(model, TRAINED), TRAINED, None)
    other = None if second_draw is None else _check_map(second_draw(model, TRAINED), "second draw", trained.shape)
    randomised = copy.deepcopy(model)
    copies = dict(randomised.named_modules())
    maps = []
    with torch.random.fork_rng(devices=[]):
        for index, name in enumerate(names[: marks[-1] + 1]):  # type: ignore[index]
            torch.manual_seed(seed + (index if seeding == "per_layer" else 1))
            _randomise(copies[name])
            if index in marks:
                maps.append(_check_map(explain(randomised, name), name, trained.shape))
    return CascadeResult(
        layers=tuple(names),
        steps=tuple(names[i] for i in marks),  # type: ignore[index]
        trained_map=trained,
        maps=tuple(maps),
        second_draw_map=other,
    )
