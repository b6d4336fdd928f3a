"""Does each method of a study explain the model at all? Cascading randomisation inside the study.

Adebayo et al., "Sanity Checks for Saliency Maps" (NeurIPS 2018): a method that explains the model gives a different
map once the model's learned weights are destroyed. With ``"sanity_check": {"images": N, "checkpoints": K}`` in its
config, a study takes the first ``N`` images whose reference item succeeded and, for every method, explains each
image's reference target again on a copy of the model whose layers are re-initialised from the top down
(:func:`~xaitk_wcam.evaluation.sanity.cascading_randomisation`, Quantus 0.6 ``MPRT``'s layer order and Spearman
similarity), at ``K`` checkpoints spread over the layers, the last one the fully randomised network. Beside it, the
method's own seed-to-seed similarity (two independent draws on the trained model; 1 for a deterministic method).

``sanity.csv``: one row per method, image and checkpoint (``method, image_id, layer, similarity, seed_similarity,
status``). A method **fails** when, averaged over the images, its map of the fully randomised network is not less
similar to the trained model's map than a second draw of the method is (:func:`sanity_verdicts`): its map then
follows the image, not the model. The report flags it beside its verdicts.

It works for every method, white-box or black-box, when the study's model exposes a torch module and can be run
around another one (``model.model`` and ``model.with_model(module)``, as ``HuggingFaceImageClassifier``); for another
model every row says so in ``status``. Cost per image and method: ``K + 2`` explanations (``K + 1`` for a
deterministic method).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xaitk_wcam.evaluation.sanity import TRAINED, cascading_randomisation, default_layers
from xaitk_wcam.study.items import OK, Reference
from xaitk_wcam.study.plan import StudyPlan
from xaitk_wcam.study.store import ResultsStore
from xaitk_wcam.utils.errors import error_text

#: The columns of ``sanity.csv``.
SANITY_COLUMNS = ("method", "image_id", "layer", "similarity", "seed_similarity", "status")
#: How much lower than the seed-to-seed similarity the randomised network's similarity must be (float rounding).
TOLERANCE = 1e-6
#: The status of a method whose model exposes no parameters to randomise.
NO_PARAMETERS = "the model exposes no torch module to randomise (model.model and model.with_model(module))"


def checkpoints(n_layers: int, count: int) -> list[int]:
    """``count`` layer indices spread evenly over ``n_layers`` (top first), the last one the bottom layer (the whole
    network randomised)."""
    return sorted({int(np.rint(i)) for i in np.linspace(0, n_layers - 1, num=min(count, n_layers))})


def sanity_table(plan: StudyPlan, worker: Any, store: ResultsStore, image_indices: list[int]) -> Any:
    """Run the study's sanity check (see the module doc) and return ``sanity.csv``'s table.

    :param plan: The study plan (its ``sanity_check`` setting).
    :param worker: A :class:`~xaitk_wcam.study.worker.StudyWorker` of the study (its model and explainers).
    :param store: The study's folder (the reference items: images and targets).
    :param image_indices: The images of the run, in order.
    """
    import pandas as pd

    settings = plan.resolved["sanity_check"]
    model = worker.model
    module, view = getattr(model, "model", None), getattr(model, "with_model", None)
    rows: list[dict[str, Any]] = []
    chosen = []
    for index in image_indices:
        reference = Reference.load(plan.task, store, index)
        if reference.status == OK and reference.image is not None:
            record = store.load_item(f"{index:06d}-0000") or {}
            chosen.append((str(record.get("image_id")), reference))
        if len(chosen) == settings["images"]:
            break
    import torch

    usable = isinstance(module, torch.nn.Module) and callable(view)
    for method in plan.methods:
        for image_id, reference in chosen:
            if not usable:
                rows.append({"method": method.name, "image_id": image_id, "status": NO_PARAMETERS})
                continue
            try:
                rows += _cascade(plan, worker, method, image_id, reference, settings["checkpoints"])
            except Exception as err:  # one method's failure is its rows' status; the study goes on
                rows.append({"method": method.name, "image_id": image_id, "status": error_text(err)})
    return pd.DataFrame(rows, columns=list(SANITY_COLUMNS))


def _cascade(
    plan: StudyPlan, worker: Any, method: Any, image_id: str, reference: Reference, count: int
) -> list[dict[str, Any]]:
    image, targets, model = reference.image, reference.targets, worker.model
    assert image is not None and targets is not None
    single, space = targets.single(0), method.spaces[0]

    def explainer_of(draw: int) -> Any:
        explainer = worker.explainer(method.name).drawn_for(image, draw)
        return lambda module, step: np.asarray(
            explainer.explain(image, model if step == TRAINED else model.with_model(module), single).maps_in(space)
        )[0]

    layers = default_layers(model.model)
    result = cascading_randomisation(
        model.model,
        explainer_of(0),
        layers=layers,
        checkpoints=checkpoints(len(layers), count),
        second_draw=explainer_of(1) if method.seeded else None,
    )
    seed = result.seed_similarity() if method.seeded else 1.0  # a deterministic method's two draws are equal
    return [
        {"method": method.name, "image_id": image_id, "layer": step, "similarity": float(rho),
         "seed_similarity": seed, "status": OK}
        for step, rho in zip(result.steps, result.similarities(), strict=True)
    ]  # fmt: skip


def sanity_verdicts(table: Any) -> dict[str, tuple[float, float, int, bool]]:
    """Method -> ``(similarity of the fully randomised network, seed-to-seed similarity, images, fails)``, each
    similarity a mean over the images: the method fails when the first is not below the second (by more than
    :data:`TOLERANCE`)."""
    out = {}
    ok = table[table["status"] == OK]
    for method, rows in ok.groupby("method", sort=False):
        last = rows.groupby("image_id", sort=False).tail(1)  # each image's fully randomised checkpoint
        randomised, seed = float(last["similarity"].mean()), float(last["seed_similarity"].mean())
        out[str(method)] = (randomised, seed, len(last), not randomised < seed - TOLERANCE)
    return out
