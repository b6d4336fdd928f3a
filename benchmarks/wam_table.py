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


def explanation_path(name: str, keywords: dict[str, Any], image_name: str, image: np.ndarray) -> Path:
    key = digest(METHODS[name][0], keywords, hashlib.sha256(image.tobytes()).hexdigest())
    return CACHE / "explanations" / f"{name}-{key}" / f"{image_name}.npz"


def explain(name: str, keywords: dict[str, Any], image: np.ndarray, classifier: Any, target: int) -> dict[str, Any]:
    """Run one explanation; the arrays a later stage needs, its seconds and its model passes."""
    generator = build(METHODS[name][0], keywords)
    label = classifier.get_labels()[target]
    with counting(classifier.model) as counts:
        start = time.perf_counter()
        if name == "WCAM":
            from xaitk_wcam.study.work import TargetClassBlackbox

            result = generator.explain(image, TargetClassBlackbox(classifier, label))
        else:
            result = generator.explain(image, classifier, [target])
        seconds = time.perf_counter() - start
    record: dict[str, Any] = {"seconds": seconds, "passes": counts[0], "target": target}
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
    name: str, fast: bool, image_name: str, image: np.ndarray, classifier: Any, target: int
) -> dict[str, Any]:
    """The explanation's record from the cache, computed (and stored) when missing."""
    keywords = method_keywords(name, fast)
    path = explanation_path(name, keywords, image_name, image)
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=len(PHOTOS), help="use the first N photos of PHOTOS")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated method names")
    parser.add_argument("--stage", choices=("explain", "all"), default="all")
    parser.add_argument("--fast", action="store_true", help="small designs, few steps and samples (a smoke run)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

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
    images = {name: photo(name) for name in PHOTOS[: args.images]}
    targets = {name: int(classify(classifier, [image[None]])[0].argmax()) for name, image in images.items()}
    for method in methods:
        for image_name, image in images.items():
            cached_explanation(method, args.fast, image_name, image, classifier, targets[image_name])
    if args.stage == "explain":
        return


Scorer = Callable[..., dict[str, float]]

if __name__ == "__main__":
    main()
