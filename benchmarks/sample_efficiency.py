"""How stable are WCAM maps for the forward passes they cost? Seed-to-seed and converged-reference agreement.

For every WCAM configuration given on the command line (``NAME=JSON`` of ``WCAM`` keywords), on

- (a) 8 ScaleShapes test images (seed 1) x the shipped ``standard`` and ``robust`` models, 64 x 64,
  Haar, ``levels=3``, ``grid_size=16``;
- (b) 3 ``skimage.data`` photos (chelsea, coffee, astronaut) resized to 224 x 224 x the offline
  EfficientNet-Lite0, Haar, ``levels=3``, ``grid_size=28``;

it explains the predicted class with two seeds and reports, per configuration and image set (medians over
images and models): forward passes, seconds per explanation, the stability the explanation reports about
itself (``WCAMResult.stability``: the split-half prediction of the seed-to-seed Spearman), and

1. seed-to-seed agreement of the raw total indices (seed 0 vs seed 1);
2. agreement with a converged reference (Jansen, ``nb_design=256``, seed 1000; set (a) only by default,
   ``--reference-b`` adds set (b): about 200,000 passes per image), the mean over the two seeds;
3. on (a), the known-answer space-scale pointing game (:mod:`xaitk_wcam.evaluation.known_answer`) over all
   cells and over the detail cells, the mean over the two seeds.

An agreement is three numbers: ``rho`` the Spearman correlation over all cells, ``top10`` the share of the
top-10 % cells the two maps have in common, ``lvl`` the mean over levels of the Spearman correlation
within each level (a cell belongs to the level that holds most of its area).

Forward passes are the whole cost, so they are cached on disk (``--cache``): every perturbed image the
blackbox sees is hashed (BLAKE2b of its bytes) and its confidence stored, so a configuration whose images
were already classified (a smaller design of the same seed is a prefix of a larger one) costs only WCAM's
own work. The ``s`` column is therefore *computed*, not a stopwatch reading of a cached run: the median
seconds per forward pass of the model, measured once per run on uncached batches, times the passes, plus
WCAM's own measured time (wall time outside the blackbox).

A configuration may give ``"max_nb_design": N`` instead of ``max_evaluations`` (``nb_design="auto"``): the
budget of a fixed design of size ``N`` at the set's grid.

    python benchmarks/sample_efficiency.py                       # jansen and importance at 1x and 4x cost
    python benchmarks/sample_efficiency.py --sets a --config 'ratio-8={"estimator": "jansen_ratio", "nb_design": 8}'
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import statistics
import time
from collections.abc import Hashable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam import WCAM
from xaitk_wcam.datasets import scale_shapes
from xaitk_wcam.evaluation.known_answer import approximation_cells, cue_cells, pointing_game
from xaitk_wcam.wavelets.reprojection import cell_level_areas

DEFAULT_CONFIGS = {
    "jansen-8": {"estimator": "jansen", "nb_design": 8},
    "jansen-32": {"estimator": "jansen", "nb_design": 32},
    "importance-8": {"estimator": "importance", "nb_design": 8},
    "importance-32": {"estimator": "importance", "nb_design": 32},
    "importance-auto": {"estimator": "importance", "nb_design": "auto", "max_nb_design": 32, "tolerance": 0.2},
}
REFERENCE = {"estimator": "jansen", "nb_design": 256, "seed": 1000}
SEEDS = (0, 1)
PHOTOS = ("chelsea", "coffee", "astronaut")
SETS = {
    "a": {"grid_size": 16, "levels": 3, "wavelet": "haar", "batch_size": 512},
    "b": {"grid_size": 28, "levels": 3, "wavelet": "haar", "batch_size": 64},
}


class CachedBlackbox(ClassifyImage):
    """One label of a classifier, with every confidence it ever returned kept on disk, keyed by image hash.

    :param classifier: The classifier.
    :param label: The label kept (the explained class).
    :param path: ``.npz`` file of the cache (read when it exists, written by :meth:`save`).
    """

    def __init__(self, classifier: ClassifyImage, label: Hashable, path: Path) -> None:
        self.classifier, self.label, self.path = classifier, label, path
        self.memo: dict[bytes, float] = {}
        if path.exists():
            with np.load(path) as data:  # keys: N x 16 uint8 (numpy's "S16" strips trailing zero bytes)
                keys = [bytes(key).ljust(16, b"\0") for key in data["keys"]]
                self.memo = dict(zip(keys, data["values"].tolist(), strict=True))
        self.seconds = 0.0  # time spent in the real classifier
        self.misses = 0
        self.dirty = False

    def get_labels(self) -> Sequence[Hashable]:
        return [self.label]

    def classify_images(self, img_iter: Iterable[np.ndarray]) -> Iterator[dict[Hashable, float]]:
        images = np.asarray(img_iter)
        keys = [hashlib.blake2b(image.tobytes(), digest_size=16).digest() for image in images]
        missing = [i for i, key in enumerate(keys) if key not in self.memo]
        if missing:
            start = time.perf_counter()
            results = list(self.classifier.classify_images(images[missing]))
            self.seconds += time.perf_counter() - start
            for i, result in zip(missing, results, strict=True):
                self.memo[keys[i]] = float(result[self.label])
            self.misses += len(missing)
            self.dirty = True
        return iter([{self.label: self.memo[key]} for key in keys])

    def save(self) -> None:
        if not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.frombuffer(b"".join(self.memo), dtype=np.uint8).reshape(-1, 16)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, values=np.array(list(self.memo.values())))
        tmp.replace(self.path)
        self.dirty = False

    def get_config(self) -> dict[str, Any]:
        return {}


def seconds_per_pass(classifier: ClassifyImage, image: np.ndarray, batch_size: int, repeats: int = 5) -> float:
    """Median seconds per image of ``classify_images`` on batches of slightly noisy copies of ``image``."""
    rng = np.random.default_rng(0)
    timings = []
    for _ in range(repeats):
        noise = rng.integers(-2, 3, size=(batch_size, *image.shape))
        batch = np.clip(image[None].astype(np.int16) + noise, 0, 255).astype(np.uint8)
        start = time.perf_counter()
        list(classifier.classify_images(batch))
        timings.append((time.perf_counter() - start) / batch_size)
    return statistics.median(timings)


def agreement(x: np.ndarray, y: np.ndarray, cell_level: np.ndarray) -> tuple[float, float, float]:
    """``(rho, top10, lvl)`` of two flat cell-index vectors (see the module docstring)."""
    k = max(1, int(np.ceil(0.1 * len(x))))
    top_x, top_y = np.argsort(-x, kind="stable")[:k], np.argsort(-y, kind="stable")[:k]
    within = [
        spearmanr(x[cell_level == level], y[cell_level == level])[0]
        for level in np.unique(cell_level)
        if (cell_level == level).sum() > 2
    ]
    return (
        float(spearmanr(x, y)[0]),
        len(np.intersect1d(top_x, top_y)) / k,
        float(np.nanmean(within)) if np.isfinite(within).any() else float("nan"),
    )


def image_sets(
    names: str, backend: str = "torch"
) -> Iterator[tuple[str, str, ClassifyImage, list[tuple[str, np.ndarray, Any]]]]:
    """``(set, model name, classifier, [(image id, image, sample or None)])`` for each requested set and model."""
    from xaitk_wcam.classifiers import HuggingFaceImageClassifier

    if "a" in names:
        from xaitk_wcam.models.scale_shapes import SCALE_SHAPES_KINDS

        samples = scale_shapes(8, seed=1, split="test")
        for kind in SCALE_SHAPES_KINDS:
            classifier = HuggingFaceImageClassifier(
                f"scale-shapes-{kind}", device="cpu", batch_size=512, backend=backend
            )
            yield "a", kind, classifier, [(f"test{i}", s.image, s) for i, s in enumerate(samples)]
    if "b" in names:
        import skimage.data
        from skimage.transform import resize

        def photo(name: str) -> np.ndarray:
            resized = resize(getattr(skimage.data, name)(), (224, 224), anti_aliasing=True)
            return (resized * 255).round().astype(np.uint8)

        photos = [(name, photo(name)) for name in PHOTOS]
        classifier = HuggingFaceImageClassifier("efficientnet-lite0", device="cpu", batch_size=64, backend=backend)
        yield "b", "efficientnet-lite0", classifier, [(name, image, None) for name, image in photos]


def explain(
    blackbox: CachedBlackbox, image: np.ndarray, params: dict[str, Any], cache_dir: Path, tag: str
) -> tuple[np.ndarray, int, float, float]:
    """Raw total indices (flat), passes, WCAM's own seconds and its stability; cached on disk too."""
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    path = cache_dir / f"{tag}-indices-{key}.npz"
    if path.exists():
        with np.load(path) as data:
            return data["indices"], int(data["passes"]), float(data["own"]), float(data["stability"])
    before = blackbox.seconds
    start = time.perf_counter()
    result = WCAM(**params).explain(image, blackbox)
    own = time.perf_counter() - start - (blackbox.seconds - before)
    blackbox.save()
    indices = result.sobol_indices[0].ravel().astype(np.float64)
    stability = np.nan if result.stability is None else result.stability
    np.savez(path, indices=indices, passes=result.n_evaluations, own=own, stability=stability)
    return indices, result.n_evaluations, own, stability


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", action="append", default=[], metavar="NAME=JSON", help="WCAM keywords (repeatable)")
    parser.add_argument("--sets", default="ab", help="'a', 'b' or 'ab'")
    parser.add_argument("--reference-b", action="store_true", help="also compute the reference on set (b)")
    parser.add_argument("--cache", type=Path, default=Path(__file__).parent / ".cache" / "sample_efficiency")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--csv", type=Path, default=None, help="also write the per-image rows here")
    parser.add_argument("--backend", default="torch", help="HuggingFaceImageClassifier backend: torch, onnxruntime")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    configs = dict(DEFAULT_CONFIGS) if not args.config else {}
    for item in args.config:
        name, _, text = item.partition("=")
        configs[name] = json.loads(text)

    print(
        f"machine: {platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, "
        f"classifier backend {args.backend}"
    )
    rows = []
    for set_name, model, classifier, images in image_sets(args.sets, args.backend):
        base = SETS[set_name]
        cell_level = cell_level_areas(images[0][1].shape[:2], base["levels"], base["grid_size"]).argmax(axis=1)
        per_pass = seconds_per_pass(classifier, images[0][1], min(base["batch_size"], 64))
        samples = [sample for _, _, sample in images]
        if set_name == "a":
            shape_cells, texture_cells = cue_cells(samples, base["grid_size"])
            details = ~approximation_cells(64, 64, base["levels"], base["grid_size"])
        for i, (image_id, image, _) in enumerate(images):
            confidences = next(iter(classifier.classify_images(image[None])))
            label = max(classifier.get_labels(), key=lambda name: confidences[name])
            # forward passes are cached per backend: the backends agree to 1e-5, not bit for bit
            tag = f"{set_name}-{model}-{image_id}" + ("" if args.backend == "torch" else f"-{args.backend}")
            blackbox = CachedBlackbox(classifier, label, args.cache / f"{tag}-outputs.npz")
            reference = None
            if set_name == "a" or args.reference_b:
                reference = explain(blackbox, image, {**base, **REFERENCE}, args.cache, tag)[0]
            for name, config in configs.items():
                config = dict(config)
                if "max_nb_design" in config:
                    config["max_evaluations"] = config.pop("max_nb_design") * (base["grid_size"] ** 2 + 2)
                runs = [explain(blackbox, image, {**base, **config, "seed": s}, args.cache, tag) for s in SEEDS]
                (x, passes_x, own_x, stab_x), (y, passes_y, own_y, stab_y) = runs
                passes = (passes_x + passes_y) / 2
                row = {
                    "set": set_name,
                    "model": model,
                    "image": image_id,
                    "config": name,
                    "passes": passes,
                    "s": passes * per_pass + (own_x + own_y) / 2,
                    "stab": np.nanmean([stab_x, stab_y]),
                }
                row.update(zip(("seed rho", "seed top10", "seed lvl"), agreement(x, y, cell_level), strict=True))
                if reference is not None:
                    both = np.array([agreement(z, reference, cell_level) for z in (x, y)])
                    row.update(zip(("ref rho", "ref top10", "ref lvl"), both.mean(axis=0), strict=True))
                if set_name == "a":
                    maps = np.stack([x, y]).reshape(2, base["grid_size"], base["grid_size"])
                    shape, texture = shape_cells[[i, i]], texture_cells[[i, i]]
                    row["point"] = pointing_game(maps, shape, texture).hit.mean()
                    row["point det"] = pointing_game(maps, shape, texture, valid=details).hit.mean()
                rows.append(row)
            print(f"  {tag}: {label}, {blackbox.misses} new forward passes", flush=True)

    frame = pd.DataFrame(rows)
    if args.csv is not None:
        frame.to_csv(args.csv, index=False)
    metrics = [c for c in frame.columns if c not in ("set", "model", "image", "config")]
    table = frame.groupby(["set", "config"], sort=False)[metrics].median()
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print("\nmedian over images and models (seed: seed 0 vs seed 1; ref: vs Jansen nb_design=256, seed 1000)")
        print(table.to_string(float_format=lambda v: f"{v:.3f}" if abs(v) < 100 else f"{v:,.0f}"))


if __name__ == "__main__":
    main()
