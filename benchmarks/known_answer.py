"""Known-answer benchmark: does WCAM find the scale and the place a model really uses?

On held-out ScaleShapes images (:mod:`xaitk_wcam.datasets.scale_shapes`), whose class is given both by a
coarse cue (a shape, wavelet levels 0-1) and a fine cue (a texture of period 2 or 4 px, level 3 or 2),
for the two shipped models (``standard``: texture-biased, ``robust``: blur-trained, shape-biased):

1. clean test accuracy, and on cue-conflict images (shape of one class, texture of another) the share
   of predictions that follow the shape, the texture or neither;
2. WCAM on the true class: the mean scale profile (share of importance per level, coarse to fine), its
   coarse share (levels 0 + 1), and the space-scale pointing game (the maximum grid cell lies on a cue's
   box at that cue's level; see :mod:`xaitk_wcam.datasets.known_answer`) with its chance level, over all
   cells and over the detail cells only (levels 1-3, approximation band excluded);
3. the pixel pointing game (argmax of the true class's map inside a cue box) for WCAM's spatial map,
   xaitk-saliency's ``SlidingWindowStack`` and ``RISEStack``, and ``RandomSaliency``, on the same images.

Usage::

    python benchmarks/known_answer.py            # 32 images per model, a few minutes on one CPU core
    python benchmarks/known_answer.py --n-explain 8 --grid-size 16
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import torch
from xaitk_saliency.impls.gen_image_classifier_blackbox_sal.rise import RISEStack
from xaitk_saliency.impls.gen_image_classifier_blackbox_sal.slidingwindow import SlidingWindowStack

from xaitk_wcam import WCAM
from xaitk_wcam.classifiers import HuggingFaceImageClassifier
from xaitk_wcam.datasets import scale_shapes
from xaitk_wcam.datasets.known_answer import decision_shares, predict, saliency_pointing_game, wcam_known_answer
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.random import RandomSaliency
from xaitk_wcam.models.scale_shapes import SCALE_SHAPES_KINDS


def baselines(args: argparse.Namespace) -> dict:
    """The pixel-space methods compared with WCAM's spatial map (grey fill for the occlusion methods)."""
    sliding = SlidingWindowStack(window_size=(16, 16), stride=(4, 4), threads=0)
    sliding.fill = [128, 128, 128]
    rise = RISEStack(n=args.rise_masks, s=8, p1=0.5, seed=args.seed, threads=0, debiased=True)
    rise.fill = [128, 128, 128]
    return {"SlidingWindowStack": sliding, "RISEStack": rise, "RandomSaliency": RandomSaliency(seed=args.seed)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-test", type=int, default=1000, help="images for accuracy and cue-conflict decisions")
    parser.add_argument("--n-explain", type=int, default=32, help="test images explained per model and method")
    parser.add_argument("--grid-size", type=int, default=16)
    parser.add_argument("--nb-design", type=int, default=8)
    parser.add_argument("--estimator", default="importance", help="WCAM estimator (the 0.1 tables: jansen)")
    parser.add_argument("--rise-masks", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1, help="data seed (the shipped models were trained on seed 0)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--backend", default="torch", help="HuggingFaceImageClassifier backend: torch, onnxruntime")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=RuntimeWarning, message="blackbox output does not vary")

    test = scale_shapes(args.n_test, seed=args.seed, split="test")
    conflict = scale_shapes(args.n_test, seed=args.seed, split="cue_conflict")
    explained = test[: args.n_explain]
    wcam = WCAM(
        grid_size=args.grid_size,
        nb_design=args.nb_design,
        estimator=args.estimator,
        levels=3,
        batch_size=512,
        seed=args.seed,
    )
    print(
        f"ScaleShapes known-answer benchmark: {args.n_test} test + {args.n_test} cue-conflict images (seed "
        f"{args.seed}); {args.n_explain} explained per model; WCAM haar, levels=3, grid_size={args.grid_size}, "
        f"nb_design={args.nb_design}, estimator={args.estimator} ({wcam.n_evaluations} passes / image); classifier "
        f"backend {args.backend}\n"
    )
    model_rows, method_rows = [], []
    for kind in SCALE_SHAPES_KINDS:
        classifier = HuggingFaceImageClassifier(
            f"scale-shapes-{kind}", device="cpu", batch_size=512, backend=args.backend
        )
        accuracy = float((predict(classifier, test) == np.array([s.label for s in test])).mean())
        decisions = decision_shares(predict(classifier, conflict), conflict)
        start = time.perf_counter()
        result = wcam_known_answer(wcam, classifier, explained)
        wcam_seconds = time.perf_counter() - start
        profile = result.scale_profiles.mean(axis=0)
        game = result.space_scale.summary()
        details = result.space_scale_details.summary()
        model_rows.append(
            {
                "model": kind,
                "accuracy": accuracy,
                "conflict: shape": decisions["shape"],
                "conflict: texture": decisions["texture"],
                "conflict: neither": decisions["neither"],
                **{f"profile L{level}": share for level, share in enumerate(profile)},
                "coarse share (L0+L1)": float(result.coarse_share().mean()),
                "pointing": game["hit"],
                "pointing: shape": game["shape"],
                "pointing: texture": game["texture"],
                "pointing chance": game["chance"],
                "details pointing": details["hit"],
                "details pointing: shape": details["shape"],
                "details pointing: texture": details["texture"],
                "details pointing chance": details["chance"],
                "WCAM s / image": wcam_seconds / len(explained),
            }
        )
        rows = [("WCAM (spatial map)", result.pixels, wcam_seconds)]
        for name, generator in baselines(args).items():
            start = time.perf_counter()
            rows.append((name, saliency_pointing_game(generator, classifier, explained), time.perf_counter() - start))
        for name, game_px, seconds in rows:
            summary = game_px.summary()
            method_rows.append(
                {
                    "model": kind,
                    "method": name,
                    "pointing": summary["hit"],
                    "on shape": summary["shape"],
                    "on texture": summary["texture"],
                    "chance": summary["chance"],
                    "s / image": seconds / len(explained),
                }
            )
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.float_format", "{:.3f}".format):
        table = pd.DataFrame(model_rows).set_index("model")
        print("Per model: accuracy, cue-conflict decisions, WCAM scale profile and space-scale pointing game")
        print(table.T.to_string())
        print("\nPixel pointing game (argmax of the true class's map inside a cue box)")
        print(pd.DataFrame(method_rows).set_index(["model", "method"]).to_string())


if __name__ == "__main__":
    main()
