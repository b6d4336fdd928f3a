"""The WAM paper's image table in miniature, and the WCAM paper's MuFidelity column, on offline photos.

Kasmi et al., "One Wave To Explain Them All: A Unifying Perspective on Feature Attribution", ICML 2025
(arXiv 2410.01482), score WAM and pixel-space baselines on ImageNet with an EfficientNet: Insertion (Ins),
Deletion (Del) and Faith. Kasmi et al., "Scale Matters", 2023, score WCAM's wavelet map with MuFidelity
(Bhatt et al. 2020). This script does both with the offline EfficientNet-Lite0 on ``skimage.data`` photos
resized to 224 x 224 (grey photos repeated on three channels), explaining the predicted class with

    WAM-IG, WAM-SG (this package's ``WAM``, defaults), WCAM (defaults), VanillaGradients, SmoothGrad,
    IntegratedGradients, GradCAM

and reports, per method, the mean over images of each score, its standard error over images, the seconds
and the model passes (images through the model's forward; each with a backward for gradient methods) per
explanation.

**Protocol of the first table**, as read in the authors' evaluation code (``src/evaluators.py``,
``src/evaluation_helpers.py`` of GitHub gabrielkasmi/wam; their replication scripts are not published):

- wavelet maps (WAM, WCAM) order the coefficients of the image's DWT (Haar, 3 levels, per channel);
  Insertion keeps the top ``i / n`` of them (the rest zero) and Deletion zeroes them, for ``i = 0 .. n``, the
  image is rebuilt by the inverse DWT and classified (:class:`WaveletInsertion`, :class:`WaveletDeletion`);
- pixel maps (the baselines) order the pixels; Insertion starts from a black image and Deletion sets pixels
  to black (:class:`Insertion` / :class:`Deletion` with ``fill="black"``, one feature per pixel);
- the score of a curve ``p_0 .. p_n`` (probability of the explained class) is ``sum(p) / (max(p) * (n + 1))``
  (their ``compute_auc``: the mean of the curve divided by its maximum), ``n = max_steps = 64``;
- Faith is the drop of the probability when the top half of the features is removed:
  ``p(full) - p(top half removed)`` (their ``faithfulness_of_spectra``: Deletion with two steps);
- gradients are taken of the logit (their models return logits), Integrated Gradients from a black
  baseline with 50 steps, SmoothGrad with 50 samples and a noise of 0.25 times the image's range, Saliency
  as the mean over channels of the absolute gradient.

Differences from theirs, all deliberate: images rebuilt from coefficients are clipped to the pixel range
where theirs are min-max rescaled per image (a rescaling changes the image's contrast, which the model
sees); their WAM map lays the vertical details where pywt puts the horizontal ones while the masks follow
pywt (so their H and V orderings are swapped; ours agree); their WAM maps are normalised per band (every
band's maximum is 1) where ours are normalised once per map (``WAM-SG band`` rows score the same
attributions normalised per band, as theirs).

**The second table**: MuFidelity with ``n_samples`` random subsets of 20 % of the cells of a 28 x 28 grid
(the authors' grid and share), removed subsets set to 0 (black pixels, or zero coefficients for
:class:`WaveletMuFidelity`), Pearson correlation, the same subsets (seed) for every method; WCAM and WAM
scored in the wavelet domain, every method (WCAM's and WAM's pixel reprojection included) in pixels.

WCAM and every score only read the classifier's probabilities: they run on ONNX Runtime (``--backend``, default
``onnxruntime``; probabilities within 1e-6 of torch's), the white-box methods on the torch model. So WCAM's
seconds are those of the faster backend, and the WCAM / WAM-SG time ratio is a lower bound of the torch one.

Explanations and scores are cached under ``benchmarks/.cache/wam_table`` (keyed by the method's config, the
image and the metric's config), so a rerun only computes what is missing; WCAM at its defaults costs
6,288 forward passes per photo (about 6 min on 2 free cores), so run it in the background first:

    nohup python benchmarks/wam_table.py --methods WCAM --stage explain > wcam.log 2>&1 &
    python benchmarks/wam_table.py                    # both tables, 8 photos
    python benchmarks/wam_table.py --fast --images 2  # smoke run: small designs, few steps and samples
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "clock", "moon")
CACHE = Path(__file__).resolve().parent / ".cache" / "wam_table"
SIDE = 224

#: Method name -> (class path, keywords); the white-box baselines follow the authors' settings (see the doc).
METHODS: dict[str, tuple[str, dict[str, Any]]] = {
    "WAM-IG": ("xaitk_wcam.impls.gen_image_classifier_whitebox_sal.wam.WAM", {"method": "integrated"}),
    "WAM-SG": ("xaitk_wcam.impls.gen_image_classifier_whitebox_sal.wam.WAM", {"method": "smooth"}),
    "WCAM": ("xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam.WCAM", {}),
    "VanillaGradients": (
        "xaitk_wcam.impls.gen_image_classifier_whitebox_sal.gradients.VanillaGradients",
        {"output": "logit", "reduction": "abs_sum"},
    ),
    "SmoothGrad": (
        "xaitk_wcam.impls.gen_image_classifier_whitebox_sal.gradients.SmoothGrad",
        {"output": "logit", "reduction": "sum", "samples": 50, "sigma": 0.25},
    ),
    "IntegratedGradients": (
        "xaitk_wcam.impls.gen_image_classifier_whitebox_sal.integrated_gradients.IntegratedGradients",
        {"output": "logit", "reduction": "sum", "steps": 50},
    ),
    "GradCAM": ("xaitk_wcam.impls.gen_image_classifier_whitebox_sal.grad_cam.GradCAM", {}),
}
#: Keywords replaced by ``--fast`` (a smoke run, not a measurement).
FAST: dict[str, dict[str, Any]] = {
    "WAM-IG": {"n_samples": 4},
    "WAM-SG": {"n_samples": 4},
    "WCAM": {"grid_size": 8, "nb_design": 8},
    "SmoothGrad": {"samples": 4},
    "IntegratedGradients": {"steps": 4},
}


def photo(name: str) -> np.ndarray:
    """``skimage.data.<name>`` resized (anti-aliased) to 224 x 224 x 3 uint8; grey photos on three channels."""
    import skimage.data
    from skimage.transform import resize

    image = getattr(skimage.data, name)()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    resized = resize(image[..., :3], (SIDE, SIDE), anti_aliasing=True)
    return (resized * 255).round().astype(np.uint8)


def digest(*parts: Any) -> str:
    """Short stable hash of JSON-serialisable parts (cache keys)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def build(class_path: str, keywords: dict[str, Any]) -> Any:
    module, _, name = class_path.rpartition(".")
    return getattr(__import__(module, fromlist=[name]), name)(**keywords)


@contextmanager
def counting(model: Any) -> Iterator[list[int]]:
    """Count the images through ``model``'s forward (``counts[0]``) while the block runs."""
    counts = [0]

    def hook(_module: Any, args: Any, kwargs: Any, _output: Any) -> None:
        tensor = args[0] if args else next(iter(kwargs.values()))
        counts[0] += int(tensor.shape[0])

    handle = model.register_forward_hook(hook, with_kwargs=True)
    try:
        yield counts
    finally:
        handle.remove()


def method_keywords(name: str, fast: bool) -> dict[str, Any]:
    keywords = dict(METHODS[name][1])
    if fast:
        keywords.update(FAST.get(name, {}))
    return keywords


#: Methods that only see the classifier's outputs: they run on ``--backend`` (ONNX Runtime by default, 6-8x the
#: torch adapter's throughput on this model with the same probabilities); the white-box ones need the torch model.
BLACK_BOX = ("WCAM",)


def explanation_path(
    name: str, keywords: dict[str, Any], image_name: str, image: np.ndarray, backend: str = "torch"
) -> Path:
    parts = [METHODS[name][0], keywords, hashlib.sha256(image.tobytes()).hexdigest()]
    if backend != "torch":  # torch records keep their keys
        parts.append(backend)
    key = digest(*parts)
    return CACHE / "explanations" / f"{name}-{key}" / f"{image_name}.npz"


def explain(name: str, keywords: dict[str, Any], image: np.ndarray, classifier: Any, target: int) -> dict[str, Any]:
    """Run one explanation; the arrays a later stage needs, its seconds and its model passes."""
    generator = build(METHODS[name][0], keywords)
    label = classifier.get_labels()[target]
    with counting(classifier.model) as counts:
        start = time.perf_counter()
        if name == "WCAM":
            from xaitk_wcam.utils.target_class import TargetClassBlackbox

            result = generator.explain(image, TargetClassBlackbox(classifier, label))
        else:
            result = generator.explain(image, classifier, [target])
        seconds = time.perf_counter() - start
    passes = counts[0] or int(getattr(result, "n_evaluations", 0))  # ONNX Runtime runs no torch forward
    record: dict[str, Any] = {"seconds": seconds, "passes": passes, "target": target}
    if name == "WCAM":
        record |= {
            "sobol_indices": result.sobol_indices,
            "index_std": result.index_std,
            "stability": np.nan if result.stability is None else result.stability,
            "n_evaluations": result.n_evaluations,
        }
    else:
        for space in result.spaces:
            record[f"maps_{space}"] = result.maps_in(space)
        if getattr(result, "attributions", None) is not None:
            record["attributions"] = result.attributions
    return record


def cached_explanation(
    name: str, fast: bool, image_name: str, image: np.ndarray, classifier: Any, target: int, backend: str = "torch"
) -> dict[str, Any]:
    """The explanation's record from the cache, computed (and stored) when missing."""
    keywords = method_keywords(name, fast)
    path = explanation_path(name, keywords, image_name, image, backend)
    if path.exists():
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    record = explain(name, keywords, image, classifier, target)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **{k: np.asarray(v) for k, v in record.items() if v is not None})
    tmp.replace(path)
    print(f"  {name} {image_name}: {record['seconds']:.1f} s, {record['passes']} passes", flush=True)
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def maps_of(name: str, record: dict[str, Any], fast: bool) -> dict[str, np.ndarray]:
    """Space -> the ``H x W`` map of the explained class (WCAM's rebuilt from its cached Sobol indices)."""
    if name == "WCAM":
        from xaitk_wcam import WCAMResult

        result = WCAMResult(
            sobol_indices=record["sobol_indices"],
            labels=[int(record["target"])],
            n_evaluations=int(record["passes"]),
            levels=method_keywords(name, fast).get("levels", 3),
            image_shape=(SIDE, SIDE),
            padded_shape=(SIDE, SIDE),
        )
        return {"wavelet": result.wavelet_maps[0], "pixel": result.spatial_maps[0]}
    return {key[5:]: record[key][0] for key in record if key.startswith("maps_")}


def per_band(wavelet_map: np.ndarray, levels: int) -> np.ndarray:
    """A wavelet map with each band divided by its own maximum (the authors' display of WAM maps)."""
    from xaitk_wcam.wavelets.layout import band_layout

    out = np.array(wavelet_map, dtype=np.float64)
    for band in band_layout(*out.shape, levels):
        peak = out[band.rows, band.cols].max()
        if peak > 0:
            out[band.rows, band.cols] /= peak
    return out


def paper_auc(curve: np.ndarray) -> float:
    """The authors' ``compute_auc``: the mean of the curve divided by its maximum."""
    return float(np.sum(curve) / (np.max(curve) * len(curve)))


def scored(metric: Any, image_name: str, image: np.ndarray, sal_map: np.ndarray, classifier: Any, target: int) -> Any:
    """``metric.compute`` of one map, cached on disk (keyed by the metric's config, the map and the image)."""
    from xaitk_wcam.interfaces.faithfulness import FaithfulnessResult

    key = digest(type(metric).__name__, metric.get_config(), hashlib.sha256(sal_map.tobytes()).hexdigest(), target)
    path = CACHE / "scores" / type(metric).__name__ / f"{image_name}-{key}.npz"
    if path.exists():
        with np.load(path) as data:
            scores = json.loads(str(data["scores"]))
            curve = (data["curve_x"], data["curve_y"]) if "curve_y" in data.files else (None, None)
            return FaithfulnessResult(scores, *curve)
    result = metric.compute(image, sal_map, classifier, target)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"scores": np.array(json.dumps(result.scores))}
    if result.curve_y is not None:
        arrays |= {"curve_x": result.curve_x, "curve_y": result.curve_y}
    np.savez(path, **arrays)
    return result


def rows_of(methods: list[str]) -> list[tuple[str, str, str, Callable[[np.ndarray], np.ndarray]]]:
    """Table rows ``(row name, method, map space, map transform)``."""
    rows = []
    for method in methods:
        wavelet = method.startswith("WAM") or method == "WCAM"
        rows.append((method, method, "wavelet" if wavelet else "pixel", lambda m: m))
    for method in methods:
        if method.startswith("WAM"):
            rows.append((f"{method} per band", method, "wavelet", lambda m: per_band(m, 3)))
    return rows


def table_one(rows: list, data: dict, classifier: Any, steps: int) -> list[dict[str, Any]]:
    """Ins / Del / Faith under the authors' protocol, per row and image (see the module doc)."""
    from xaitk_wcam.impls.faithfulness import (
        Deletion,
        Insertion,
        WaveletDeletion,
        WaveletFaithfulness,
        WaveletInsertion,
    )

    pixel = (Insertion(fill="black", max_steps=steps), Deletion(fill="black", max_steps=steps),
             Deletion(fill="black", max_steps=2))  # fmt: skip
    wavelet = (WaveletInsertion(max_steps=steps), WaveletDeletion(max_steps=steps), WaveletFaithfulness())
    out = []
    for row, method, space, transform in rows:
        for image_name, (image, target, records) in data.items():
            sal_map = transform(records[method]["maps"][space])
            insertion, deletion, faith = (
                scored(metric, image_name, image, sal_map, classifier, target)
                for metric in (wavelet if space == "wavelet" else pixel)
            )
            out.append({
                "row": row, "image": image_name, "space": space,
                "Ins": paper_auc(insertion.curve_y), "Del": paper_auc(deletion.curve_y),
                "Faith": float(faith.curve_y[0] - faith.curve_y[1]),
                "iauc": next(iter(insertion.scores.values())), "dauc": next(iter(deletion.scores.values())),
                "s": float(records[method]["seconds"]), "passes": int(records[method]["passes"]),
            })  # fmt: skip
    return out


def table_two(methods: list[str], data: dict, classifier: Any, samples: int, seed: int) -> list[dict[str, Any]]:
    """MuFidelity: wavelet maps in the wavelet domain, every map (wavelet methods' reprojections too) in pixels."""
    from xaitk_wcam.impls.faithfulness import MuFidelity, WaveletMuFidelity

    wavelet = WaveletMuFidelity(grid_size=28, subset_percent=0.2, n_samples=samples, seed=seed)
    pixel = MuFidelity(grid_size=28, subset_percent=0.2, n_samples=samples, fill="black", seed=seed)
    out = []
    for method in methods:
        spaces = ["wavelet", "pixel"] if method.startswith("WAM") or method == "WCAM" else ["pixel"]
        for space in spaces:
            metric = wavelet if space == "wavelet" else pixel
            for image_name, (image, target, records) in data.items():
                result = scored(metric, image_name, image, records[method]["maps"][space], classifier, target)
                out.append({"row": f"{method} ({space})", "image": image_name, "MuFidelity": result.scores[
                    metric.score_names[0]]})  # fmt: skip
    return out


def summary(frame: Any, columns: list[str]) -> Any:
    """Mean over images and its standard error (``+-``), per row, in the rows' order."""
    import pandas as pd

    grouped = frame.groupby("row", sort=False)[columns]
    mean, sem = grouped.mean(), grouped.sem()
    table = pd.DataFrame(index=mean.index)
    for column in columns:
        table[column] = [f"{m:.3f} +- {e:.3f}" for m, e in zip(mean[column], sem[column], strict=True)]
    return table


def paired_gap(frame: Any, column: str, better: str, worse: str) -> tuple[float, float]:
    """Mean over images of ``better - worse`` in ``column`` and its standard error (paired by image)."""
    pivot = frame.pivot(index="image", columns="row", values=column)
    gap = pivot[better] - pivot[worse]
    return float(gap.mean()), float(gap.sem())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=len(PHOTOS), help="use the first N photos of PHOTOS")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated method names")
    parser.add_argument("--stage", choices=("explain", "all"), default="all")
    parser.add_argument("--fast", action="store_true", help="small designs, few steps and samples (a smoke run)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=64, help="Insertion / Deletion steps (the authors': 64)")
    parser.add_argument("--mu-samples", type=int, default=128, help="MuFidelity subsets per image")
    parser.add_argument("--mu-seed", type=int, default=0, help="seed of the MuFidelity subsets")
    parser.add_argument("--csv", type=Path, default=None, help="also write the per-image rows (two files)")
    parser.add_argument(
        "--backend",
        choices=("onnxruntime", "torch"),
        default="onnxruntime",
        help="classifier backend of WCAM and of the scores (white-box methods always run the torch model)",
    )
    args = parser.parse_args(argv)
    if args.fast:
        args.steps, args.mu_samples = min(args.steps, 8), min(args.mu_samples, 16)

    import torch

    from xaitk_wcam.models import efficientnet_lite0_classifier
    from xaitk_wcam.utils.confidences import classify

    torch.set_num_threads(args.threads)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        sys.exit(f"--methods: unknown {unknown}; choose among {list(METHODS)}")
    print(f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, "
          f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
    classifier = efficientnet_lite0_classifier(device="cpu", batch_size=64)
    if args.backend == "torch":
        outputs = classifier
    else:
        from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier

        outputs = HuggingFaceImageClassifier(
            model_name_or_path="efficientnet-lite0", device="cpu", batch_size=64, backend=args.backend
        )
    images = {name: photo(name) for name in PHOTOS[: args.images]}
    targets = {name: int(classify(classifier, [image[None]])[0].argmax()) for name, image in images.items()}
    data: dict[str, tuple[np.ndarray, int, dict[str, Any]]] = {}
    for method in methods:
        for image_name, image in images.items():
            if method in BLACK_BOX:
                record = cached_explanation(
                    method, args.fast, image_name, image, outputs, targets[image_name], args.backend
                )
            else:
                record = cached_explanation(method, args.fast, image_name, image, classifier, targets[image_name])
            data.setdefault(image_name, (image, targets[image_name], {}))[2][method] = {
                **record, "maps": maps_of(method, record, args.fast)}  # fmt: skip
    if args.stage == "explain":
        return

    import pandas as pd

    labels = classifier.get_labels()
    print("images and explained (predicted) classes: " + ", ".join(f"{n}: {labels[t]}" for n, t in targets.items()))
    first = pd.DataFrame(table_one(rows_of(methods), data, outputs, args.steps))
    second = pd.DataFrame(table_two(methods, data, outputs, args.mu_samples, args.mu_seed))
    if args.csv is not None:
        first.to_csv(args.csv.with_suffix(".table1.csv"), index=False)
        second.to_csv(args.csv.with_suffix(".table2.csv"), index=False)
    table = summary(first, ["Ins", "Del", "Faith", "iauc", "dauc"])
    costs = first.groupby("row", sort=False)[["s", "passes"]].median()
    table["s / expl."] = costs["s"].map(lambda v: f"{v:,.1f}")
    table["passes"] = costs["passes"].map(lambda v: f"{v:,.0f}")
    width = {"display.width": 200, "display.max_columns": 20}
    with pd.option_context(*[x for kv in width.items() for x in kv]):
        print(
            f"\nTable 1 ({len(images)} photos, mean +- standard error over photos; Ins / Del: the authors' "
            f"normalised AUC over {args.steps} steps; iauc / dauc: plain trapezoid AUC; s and passes: median)"
        )
        print(table.to_string())
        print(
            f"\nTable 2: MuFidelity ({args.mu_samples} subsets of 20 % of a 28 x 28 grid, seed {args.mu_seed}; "
            "mean +- standard error over photos)"
        )
        print(summary(second, ["MuFidelity"]).to_string())
    print("\nTargets (paired over photos: mean gap +- standard error):")
    checks = [(first, "Faith", a, b) for a in ("WAM-IG", "WAM-SG") for b in ("GradCAM",)]
    checks += [(first, "Faith", "GradCAM", b) for b in ("VanillaGradients", "SmoothGrad", "IntegratedGradients")]
    pixel_rows = [r for r in second["row"].unique() if r.endswith("(pixel)")]
    checks += [(second, "MuFidelity", f"{a} (wavelet)", b) for a in ("WCAM", "WAM-IG", "WAM-SG") for b in pixel_rows]
    for frame, column, better, worse in checks:
        if better in set(frame["row"]) and worse in set(frame["row"]):
            gap, error = paired_gap(frame, column, better, worse)
            verdict = "holds" if gap > 0 else "missed"
            print(f"  {column}: {better} > {worse}: {gap:+.3f} +- {error:.3f} ({verdict})")
    if {"WAM-SG", "WCAM"} <= set(methods):
        seconds = first[first["row"].isin(["WAM-SG", "WCAM"])].pivot(index="image", columns="row", values="s")
        ratio = seconds["WCAM"] / seconds["WAM-SG"]
        print(
            f"  seconds: WCAM / WAM-SG per photo, median {ratio.median():.0f} (min {ratio.min():.0f}, "
            f"max {ratio.max():.0f}); target >= 50 ({'holds' if ratio.min() >= 50 else 'missed'})"
        )
    print(f"load at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
