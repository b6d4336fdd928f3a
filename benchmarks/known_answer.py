"""Known-answer benchmark: does WCAM find the scale and the place a model really uses?

On held-out ScaleShapes images (:mod:`xaitk_wcam.datasets.scale_shapes`), whose class is given both by a
coarse cue (a shape, wavelet levels 0-1) and a fine cue (a texture of period 2 or 4 px, level 3 or 2),
for the two shipped models (``standard``: texture-biased, ``robust``: blur-trained, shape-biased):

1. clean test accuracy, and on cue-conflict images (shape of one class, texture of another) the share
   of predictions that follow the shape, the texture or neither;
2. WCAM on the true class: the mean scale profile (share of importance per level, coarse to fine), its
   coarse share (levels 0 + 1), and the space-scale pointing game (the maximum grid cell lies on a cue's
   box at that cue's level; see :mod:`xaitk_wcam.evaluation.known_answer`) with its chance level, over all
   cells and over the detail cells only (levels 1-3, approximation band excluded);
3. the pixel pointing game (argmax of the true class's map inside a cue box) for WCAM's spatial map,
   xaitk-saliency's ``SlidingWindowStack`` and ``RISEStack``, and ``RandomSaliency``, on the same images.

**Detector section** (``--sections detector``), on ScaleShapes scenes (:func:`xaitk_wcam.datasets.scale_shapes_scenes`:
96 x 96 images of one to three objects, each a shape (levels 0-1) or a texture patch (its period's level only))
and the shipped detector (``scale-shapes-detector``, a small CenterNet): the reference detections are the
detector's at ``score_threshold=0.3``; each is explained by WCAMDetector and by xaitk's ``DRISEStack`` (grey
fill; as many masks as WCAMDetector's passes, and 1000), with the detector run at each ``--thresholds`` value
during the explanation; matched detections are scored (:mod:`xaitk_wcam.evaluation.known_answer_detector`): the
space-scale pointing game on the detection's box at its cue's levels, over all cells and over the detail cells,
the pixel pointing game, the share of the scale profile on the cue's levels, and seconds per scene.

Usage::

    python benchmarks/known_answer.py            # both sections: classifiers (32 images per model), detector
    python benchmarks/known_answer.py --sections classifiers --n-explain 8 --grid-size 16
    python benchmarks/known_answer.py --sections detector --n-scenes 32
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

from xaitk_wcam import WCAM, WCAMDetector
from xaitk_wcam.classifiers import HuggingFaceImageClassifier
from xaitk_wcam.datasets import scale_shapes, scale_shapes_scenes
from xaitk_wcam.detectors import CenterNetDetector
from xaitk_wcam.evaluation.known_answer import decision_shares, predict, saliency_pointing_game, wcam_known_answer
from xaitk_wcam.evaluation.known_answer_detector import (
    detector_pixel_pointing_game,
    scene_detections,
    wcam_detector_known_answer,
)
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.random import RandomSaliency
from xaitk_wcam.models.scale_shapes import SCALE_SHAPES_KINDS


def baselines(args: argparse.Namespace) -> dict:
    """The pixel-space methods compared with WCAM's spatial map (grey fill for the occlusion methods)."""
    sliding = SlidingWindowStack(window_size=(16, 16), stride=(4, 4), threads=0)
    sliding.fill = [128, 128, 128]
    rise = RISEStack(n=args.rise_masks, s=8, p1=0.5, seed=args.seed, threads=0, debiased=True)
    rise.fill = [128, 128, 128]
    return {"SlidingWindowStack": sliding, "RISEStack": rise, "RandomSaliency": RandomSaliency(seed=args.seed)}


def classifier_section(args: argparse.Namespace) -> None:
    """Accuracy, cue-conflict decisions, WCAM's profile and pointing games for the two shipped classifiers."""
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


def _by_kind(values: np.ndarray, texture: np.ndarray) -> dict[str, float]:
    return {
        "all": float(values.mean()),
        "shape": float(values[~texture].mean()) if (~texture).any() else float("nan"),
        "texture": float(values[texture].mean()) if texture.any() else float("nan"),
    }


def detector_section(args: argparse.Namespace) -> None:
    """WCAMDetector and DRISEStack on the shipped detector's detections of ScaleShapes scenes."""
    from xaitk_saliency.impls.gen_object_detector_blackbox_sal.drise import DRISEStack

    scenes = scale_shapes_scenes(args.n_scenes, seed=args.seed, split="test")
    references = scene_detections(CenterNetDetector(score_threshold=0.3, batch_size=512), scenes)
    explainer = WCAMDetector(
        grid_size=args.detector_grid_size,
        nb_design=args.nb_design,
        estimator=args.estimator,
        levels=3,
        batch_size=512,
        seed=args.seed,
    )
    passes = explainer.n_evaluations
    print(
        f"\nDetector known-answer benchmark: {args.n_scenes} test scenes (seed {args.seed}), "
        f"{sum(len(r) for r in references)} detections at score_threshold 0.3; WCAMDetector haar, levels=3, "
        f"grid_size={args.detector_grid_size}, nb_design={args.nb_design}, estimator={args.estimator} ({passes} "
        f"passes / scene); DRISEStack s=8, p1=0.5, grey fill\n"
    )
    rows, profiles = [], []
    for threshold in args.thresholds:
        detector = CenterNetDetector(score_threshold=threshold, batch_size=512)
        start = time.perf_counter()
        known = wcam_detector_known_answer(
            lambda image, ref, d=detector: explainer.explain(image, d, detections=ref),
            scenes,
            references,
            args.detector_grid_size,
        )
        seconds = (time.perf_counter() - start) / len(scenes)
        texture = known.texture
        space, details = known.space_scale, known.space_scale_details
        rows.append(
            {
                "threshold": threshold,
                "method": "WCAMDetector",
                "passes": passes,
                **{f"pointing {k}": v for k, v in _by_kind(space.hit, texture).items()},
                "pointing chance": float(space.chance.mean()),
                **{f"details {k}": v for k, v in _by_kind(details.hit, texture).items()},
                "details chance": float(details.chance.mean()),
                **{f"pixel {k}": v for k, v in _by_kind(known.pixels.hit, texture).items()},
                "pixel chance": float(known.pixels.chance.mean()),
                "cue share": float(known.cue_share.mean()),
                "stability": float(np.nanmedian(known.stability)),
                "s / scene": seconds,
            }
        )
        cues = np.array([", ".join(map(str, levels)) for levels in known.cue_levels])
        for cue in sorted(set(cues)):
            mask = cues == cue
            profiles.append(
                {
                    "threshold": threshold,
                    "objects": f"{'texture' if texture[mask][0] else 'shape'} (cue at L{cue})",
                    "n": int(mask.sum()),
                    **{f"L{level}": share for level, share in enumerate(known.scale_profiles[mask].mean(axis=0))},
                    "cue share": float(known.cue_share[mask].mean()),
                }
            )
        for masks in args.drise_masks or [passes]:
            drise = DRISEStack(n=masks, s=8, p1=0.5, seed=args.seed, fill=[128, 128, 128], threads=0)
            start = time.perf_counter()
            game, texture = detector_pixel_pointing_game(
                lambda image, ref, d=detector, g=drise: g.generate(image, ref.boxes, ref.scores, d, ref.objectness),
                scenes,
                references,
            )
            seconds = (time.perf_counter() - start) / len(scenes)
            rows.append(
                {
                    "threshold": threshold,
                    "method": f"DRISEStack n={masks}",
                    "passes": masks,
                    **{f"pixel {k}": v for k, v in _by_kind(game.hit, texture).items()},
                    "pixel chance": float(game.chance.mean()),
                    "s / scene": seconds,
                }
            )
    print(f"{known.unmatched} of the detections matched no object and are not scored (per threshold run)\n")
    with pd.option_context("display.width", 250, "display.max_columns", 40, "display.float_format", "{:.3f}".format):
        table = pd.DataFrame(rows).set_index(["threshold", "method"])
        print("Pointing games per matched detection (all / shape / texture objects) and cost")
        print(table.T.to_string())
        print("\nWCAMDetector mean scale profile (L0: approximation ... L3: finest) by the level of the object's cue")
        print(pd.DataFrame(profiles).set_index(["threshold", "objects"]).to_string())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sections", nargs="+", default=["classifiers", "detector"], choices=["classifiers", "detector"]
    )
    parser.add_argument("--n-test", type=int, default=1000, help="images for accuracy and cue-conflict decisions")
    parser.add_argument("--n-explain", type=int, default=32, help="test images explained per model and method")
    parser.add_argument("--grid-size", type=int, default=16)
    parser.add_argument("--nb-design", type=int, default=8)
    parser.add_argument("--estimator", default="importance", help="WCAM estimator (the 0.1 tables: jansen)")
    parser.add_argument("--rise-masks", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1, help="data seed (the shipped models were trained on seed 0)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--backend", default="torch", help="HuggingFaceImageClassifier backend: torch, onnxruntime")
    parser.add_argument("--n-scenes", type=int, default=32, help="detector section: test scenes explained")
    parser.add_argument("--detector-grid-size", type=int, default=16, help="detector section: 96 px / 16 = 6 px cells")
    parser.add_argument(
        "--thresholds", type=float, nargs="+", default=[0.3, 0.05], help="detector score thresholds while explaining"
    )
    parser.add_argument(
        "--drise-masks", type=int, nargs="*", default=None, help="DRISEStack mask counts (default: WCAM's passes)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=RuntimeWarning, message="blackbox output does not vary")
    if "classifiers" in args.sections:
        classifier_section(args)
    if "detector" in args.sections:
        detector_section(args)


if __name__ == "__main__":
    main()
