"""Model-parameter randomisation test of Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018.

A saliency method that explains the model must give different maps when the model's learned weights are
destroyed. Cascading randomisation (:func:`xaitk_wcam.evaluation.sanity.cascading_randomisation`, on a copy of the
model) re-initialises the layers of the offline EfficientNet-Lite0 from the top
down (the classifier, the head convolution, then the inverted-residual blocks 15 to 0 and the stem, cumulatively;
``--steps`` checkpoints along that order) with their default initialisation (seeded), and at every checkpoint
each method explains the same photo and class again (the class predicted by the trained model). The score is
the Spearman rank correlation between the map of the trained model and the map of the randomised one, over all
map entries (the wavelet layout for WAM and WCAM, pixels for the others): it should fall towards 0; a method
whose correlation stays high is explaining the image, not the model.

Methods: WAM-SG and WAM-IG (this package's ``WAM``), WCAM at a small budget (``grid_size=8``,
``nb_design=4``: 264 forward passes), GradCAM and IntegratedGradients (pixels). Stochastic methods (WAM-SG,
WCAM) also get the correlation between two seeds on the trained model (row ``seed``): their own noise floor.
Maps are compared as returned (non-negative for WAM, WCAM and GradCAM; IntegratedGradients signed, reduced by
``sum``) and, in a second table, as absolute values (Adebayo et al. show both).

    python benchmarks/sanity_check.py                     # 3 photos, 8 checkpoints, table and PNG curve
    python benchmarks/sanity_check.py --images 1 --steps 3 --fast   # smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wam_table import CACHE, digest, photo

#: Method name -> (class path, keywords, space of the compared map).
_IMPLS = "xaitk_wcam.impls.gen_image_classifier"
METHODS: dict[str, tuple[str, dict[str, Any], str]] = {
    "WAM-SG": (f"{_IMPLS}_whitebox_sal.wam.WAM", {"method": "smooth"}, "wavelet"),
    "WAM-IG": (f"{_IMPLS}_whitebox_sal.wam.WAM", {"method": "integrated"}, "wavelet"),
    "WCAM": (f"{_IMPLS}_blackbox_sal.wcam.WCAM", {"grid_size": 8, "nb_design": 4}, "wavelet"),
    "GradCAM": ("xaitk_wcam.impls.gen_image_classifier_whitebox_sal.grad_cam.GradCAM", {}, "pixel"),
    "IntegratedGradients": (
        "xaitk_wcam.impls.gen_image_classifier_whitebox_sal.integrated_gradients.IntegratedGradients",
        {"output": "logit", "steps": 50},
        "pixel",
    ),
}
FAST = {"WAM-SG": {"n_samples": 4}, "WAM-IG": {"n_samples": 4}, "WCAM": {"grid_size": 4, "nb_design": 2},
        "IntegratedGradients": {"steps": 4}}  # fmt: skip
PHOTOS = ("chelsea", "coffee", "astronaut")
#: Stochastic methods: their seed-to-seed correlation on the trained model is their noise floor (row ``seed``).
SEEDED = ("WAM-SG", "WCAM")


def cascade(model: Any) -> list[tuple[str, str]]:
    """EfficientNet-Lite0's layers from the top down: ``(name shown, module name)``."""
    layers = [("classifier", "classifier"), ("head", "efficientnet_lite.head")]
    layers += [
        (f"block {i}", f"efficientnet_lite.blocks.{i}") for i in reversed(range(len(model.efficientnet_lite.blocks)))
    ]
    return [*layers, ("stem", "efficientnet_lite.stem")]


def checkpoints(n_layers: int, steps: int) -> list[int]:
    """Indices (into the cascade) after which the maps are compared: ``steps`` of them, spread, the last included."""
    return sorted({round(x) for x in np.linspace(0, n_layers - 1, steps)})


def explain(name: str, keywords: dict[str, Any], image: np.ndarray, classifier: Any, target: int) -> np.ndarray:
    """The ``H x W`` map of ``name`` in its space (see :data:`METHODS`)."""
    from xaitk_wcam.utils.target_class import TargetClassBlackbox

    class_path, _, space = METHODS[name]
    module, _, cls = class_path.rpartition(".")
    generator = getattr(__import__(module, fromlist=[cls]), cls)(**keywords)
    if name == "WCAM":
        explanation = generator.explain(image, TargetClassBlackbox(classifier, classifier.get_labels()[target]))
    else:
        explanation = generator.explain(image, classifier, [target])
    return explanation.maps_in(space)[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=len(PHOTOS))
    parser.add_argument("--steps", type=int, default=8, help="checkpoints along the cascade")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--fast", action="store_true", help="tiny budgets (a smoke run)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="seed of the re-initialisation")
    parser.add_argument("--png", type=Path, default=None, help="write the curve here")
    args = parser.parse_args(argv)

    import pandas as pd
    import torch

    from xaitk_wcam.evaluation.sanity import TRAINED, cascading_randomisation
    from xaitk_wcam.models import efficientnet_lite0_classifier
    from xaitk_wcam.utils.confidences import classify

    torch.set_num_threads(args.threads)
    methods = [m for m in args.methods.split(",") if m]
    print(f"{platform.machine()}, {torch.get_num_threads()} torch threads, load {os.getloadavg()[0]:.2f}")
    classifier = efficientnet_lite0_classifier(device="cpu", batch_size=64)
    images = {name: photo(name) for name in PHOTOS[: args.images]}
    targets = {name: int(classify(classifier, [image[None]])[0].argmax()) for name, image in images.items()}
    layers = cascade(classifier.model)
    shown = {module: f"to {name}" for name, module in layers}
    marks = checkpoints(len(layers), args.steps)
    keywords = {m: {**METHODS[m][1], **(FAST.get(m, {}) if args.fast else {})} for m in methods}

    def cached(model: Any, step: str, method: str, image_name: str, seed_offset: int = 0) -> np.ndarray:
        """The map of ``method`` on ``image_name`` under ``model`` (the trained one or a randomised copy)."""
        kw = dict(keywords[method])
        if seed_offset:
            kw["seed"] = kw.get("seed", 0) + seed_offset
        step = "trained" if step == TRAINED else shown[step]
        path = CACHE / "sanity" / f"{method}-{digest(kw, step, args.seed)}-{image_name}.npy"
        if path.exists():
            return np.load(path)
        start = time.perf_counter()
        view = classifier.with_model(model)
        result = explain(method, kw, images[image_name], view, targets[image_name])
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, result)
        print(f"  {step:>12} {method:>20} {image_name}: {time.perf_counter() - start:.1f} s", flush=True)
        return result

    rows = []
    for m in methods:
        for n in images:
            result = cascading_randomisation(
                classifier.model,
                lambda model, step, m=m, n=n: cached(model, step, m, n),
                layers=[module for _, module in layers],
                checkpoints=marks,
                second_draw=(lambda model, step, m=m, n=n: cached(model, step, m, n, 1)) if m in SEEDED else None,
                seed=args.seed,
            )
            for row in result.rows():
                step = "seed" if row["step"] == "seed" else shown[row["step"]]
                rows.append({"step": step, "method": m, "image": n, "rho": row["similarity"],
                             "abs rho": row["abs_similarity"]})  # fmt: skip
    frame = pd.DataFrame(rows)
    order = ["seed"] + [f"to {layers[i][0]}" for i in marks]
    for column in ("rho", "abs rho"):
        table = frame.pivot_table(index="step", columns="method", values=column, aggfunc="mean")
        table = table.reindex([s for s in order if s in table.index])[methods]
        print(
            f"\nSpearman {column} between the trained model's map and the randomised one (mean over "
            f"{len(images)} photos; 'seed': trained model, another seed; 'to X': randomised from the top down to X)"
        )
        print(table.to_string(float_format=lambda v: f"{v:.3f}", na_rep=""))
    if args.png is not None:
        plot(frame, order, methods, args.png)
    print(f"load at the end: {os.getloadavg()[0]:.2f}")


def plot(frame: Any, order: list[str], methods: list[str], path: Path) -> None:
    from matplotlib.figure import Figure

    steps = [s for s in order if s != "seed"]
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    ax = fig.subplots()
    for method in methods:
        values = frame[frame["method"] == method].groupby("step")["rho"].mean().reindex(steps)
        ax.plot(range(len(steps)), values.to_numpy(), marker="o", label=method)
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xticks(range(len(steps)), [s[3:] for s in steps], rotation=30, ha="right", fontsize=10)
    ax.set_xlabel("layers re-initialised, from the top down to", fontsize=10)
    ax.set_ylabel("Spearman rank correlation with\nthe trained model's map", fontsize=10)
    ax.set_title("Cascading randomisation of EfficientNet-Lite0 (Adebayo et al. 2018)", fontsize=11)
    ax.legend(fontsize=10)
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
