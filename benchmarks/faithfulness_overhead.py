"""Overhead of the faithfulness metrics beyond the black-box calls.

A fake black box sleeps ``--ms-per-image`` milliseconds per image (10 ms: a mid-size CNN on CPU) and
answers with cheap confidences; the script times each metric end to end (``T``) and the time spent
inside ``classify_images`` (``B``), and reports the metric's own share ``(T - B) / B``, median over
``--repeats`` runs. The issue's target: under 10 % at 10 ms/image. ``own cpu ms`` is the metric's
CPU time (process time outside ``classify_images``, median), which, unlike wall time, does not grow
when other processes compete for the cores.

Run: ``python benchmarks/faithfulness_overhead.py [--repeats 5] [--ms-per-image 10] [--size 224]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.impls.faithfulness import AverageDrop, Deletion, Insertion, MuFidelity


class SleepingBlackbox(ClassifyImage):
    """Sleeps a fixed time per image; confidences from the image mean; accumulates its own time."""

    def __init__(self, seconds_per_image: float) -> None:
        self.seconds_per_image = seconds_per_image
        self.elapsed = 0.0
        self.cpu = 0.0
        self.images = 0

    def get_labels(self):
        return ["a", "b"]

    def classify_images(self, img_iter):
        start, cpu_start = time.perf_counter(), time.process_time()
        batch = np.asarray(img_iter)
        time.sleep(self.seconds_per_image * len(batch))
        means = batch.reshape(len(batch), -1).mean(axis=1, dtype=np.float64)
        out = [{"a": float(m), "b": 1.0 - float(m)} for m in means]
        self.elapsed += time.perf_counter() - start
        self.cpu += time.process_time() - cpu_start
        self.images += len(batch)
        return iter(out)

    def get_config(self):
        return {"seconds_per_image": self.seconds_per_image}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ms-per-image", type=float, default=10.0)
    parser.add_argument("--size", type=int, default=224, help="image side (pixels)")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    size = args.size
    image = rng.random((size, size, 3), dtype=np.float32)
    images = [rng.random((size, size, 3), dtype=np.float32) for _ in range(16)]
    cases = [
        (
            "Deletion 56x56 map, black",
            Deletion(),
            lambda m, bb: m.compute(image, rng.random((56, 56)), bb, 0),
        ),
        (
            "Insertion 14x14 map, blur",
            Insertion(fill="blur"),
            lambda m, bb: m.compute(image, rng.random((14, 14)), bb, 0),
        ),
        (
            "Deletion full-res map, 8x8 superpixels",
            Deletion(superpixel_size=8),
            lambda m, bb: m.compute(image, rng.random((size, size)), bb, 0),
        ),
        (
            "AverageDrop x16 images (compute_many)",
            AverageDrop(),
            lambda m, bb: m.compute_many(images, [rng.random((14, 14)) for _ in images], bb, [0] * 16),
        ),
        ("MuFidelity 200 samples", MuFidelity(), lambda m, bb: m.compute(image, rng.random((56, 56)), bb, 0)),
    ]
    print(f"image {size}x{size}x3 float32, blackbox {args.ms_per_image:g} ms/image, median of {args.repeats} runs")
    header = (
        f"{'metric':42s} {'images':>6s} {'total s':>8s} {'blackbox s':>10s} {'own ms':>8s} {'own/bb':>7s}"
        f" {'own cpu ms':>10s}"
    )
    print(header)
    print("-" * len(header))
    for name, metric, run in cases:
        rows = []
        for _ in range(args.repeats):
            blackbox = SleepingBlackbox(args.ms_per_image / 1000.0)
            start, cpu_start = time.perf_counter(), time.process_time()
            run(metric, blackbox)
            total, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            rows.append((total, blackbox.elapsed, blackbox.images, cpu - blackbox.cpu))
        ratios = [(t - b) / b for t, b, _, _ in rows]
        k = int(np.argsort(ratios)[len(ratios) // 2])
        total, elapsed, n_images, _ = rows[k]
        own_cpu = float(np.median([row[3] for row in rows]))
        print(
            f"{name:42s} {n_images:6d} {total:8.3f} {elapsed:10.3f} {1000 * (total - elapsed):8.1f} "
            f"{100 * ratios[k]:6.2f}% {1000 * own_cpu:10.1f}"
        )


if __name__ == "__main__":
    main()
