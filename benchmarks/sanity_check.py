"""Model-parameter randomisation test of Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018.

A saliency method that explains the model must give different maps when the model's learned weights are
destroyed. Cascading randomisation re-initialises the layers of the offline EfficientNet-Lite0 from the top
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


def cascade(model: Any) -> list[tuple[str, list[Any]]]:
    """EfficientNet-Lite0's layers from the top down: ``(name, modules)``."""
    backbone = model.efficientnet_lite
    layers = [("classifier", [model.classifier]), ("head", [backbone.head])]
    layers += [(f"block {i}", [block]) for i, block in reversed(list(enumerate(backbone.blocks)))]
    return [*layers, ("stem", [backbone.stem])]


def checkpoints(n_layers: int, steps: int) -> list[int]:
    """Indices (into the cascade) after which the maps are compared: ``steps`` of them, spread, the last included."""
    return sorted({round(x) for x in np.linspace(0, n_layers - 1, steps)})


def randomise(modules: list[Any], seed: int) -> None:
    """Re-initialise every parameter and buffer of ``modules`` with its layer's default initialisation."""
    import torch

    torch.manual_seed(seed)
    for module in modules:
        for layer in module.modules():
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()
            if hasattr(layer, "reset_running_stats"):
                layer.reset_running_stats()


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


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    value = spearmanr(a.ravel(), b.ravel())[0]
    return float(value) if np.isfinite(value) else 0.0  # a constant map shares no ranking


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

    from xaitk_wcam.models import efficientnet_lite0_classifier
    from xaitk_wcam.utils.confidences import classify

    torch.set_num_threads(args.threads)
    methods = [m for m in args.methods.split(",") if m]
    print(f"{platform.machine()}, {torch.get_num_threads()} torch threads, load {os.getloadavg()[0]:.2f}")
    classifier = efficientnet_lite0_classifier(device="cpu", batch_size=64)
    images = {name: photo(name) for name in PHOTOS[: args.images]}
    targets = {name: int(classify(classifier, [image[None]])[0].argmax()) for name, image in images.items()}
    layers = cascade(classifier.model)
    marks = checkpoints(len(layers), args.steps)
    keywords = {m: {**METHODS[m][1], **(FAST.get(m, {}) if args.fast else {})} for m in methods}

    def cached(step: str, method: str, image_name: str, seed_offset: int = 0) -> np.ndarray:
        kw = dict(keywords[method])
        if seed_offset:
            kw["seed"] = kw.get("seed", 0) + seed_offset
        path = CACHE / "sanity" / f"{method}-{digest(kw, step, args.seed)}-{image_name}.npy"
        if path.exists():
            return np.load(path)
        start = time.perf_counter()
        result = explain(method, kw, images[image_name], classifier, targets[image_name])
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, result)
        print(f"  {step:>12} {method:>20} {image_name}: {time.perf_counter() - start:.1f} s", flush=True)
        return result

    originals = {(m, n): cached("trained", m, n) for m in methods for n in images}
    rows = []
    for m in methods:
        if m in ("WAM-SG", "WCAM"):
            for n in images:
                other = cached("trained", m, n, seed_offset=1)
                rows.append({"step": "seed", "method": m, "image": n, "rho": spearman(originals[m, n], other),
                             "abs rho": spearman(np.abs(originals[m, n]), np.abs(other))})  # fmt: skip
    for index, (name, modules) in enumerate(layers):
        randomise(modules, args.seed + index)
        if index not in marks:
            continue
        step = f"to {name}"
        for m in methods:
            for n in images:
                randomised = cached(step, m, n)
                rows.append({"step": step, "method": m, "image": n, "rho": spearman(originals[m, n], randomised),
                             "abs rho": spearman(np.abs(originals[m, n]), np.abs(randomised))})  # fmt: skip
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
