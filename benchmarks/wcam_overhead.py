"""What WCAM adds around the classifier's forward passes, per torch thread count, with or without load.

A fixed-cost torch model (a small CNN with 1000 outputs, calibrated to about ``--target-ms`` per
image at the first thread count) is wrapped as an smqtk ``ClassifyImage``. For each thread count of
``--threads`` and each repeat the script runs, in this order:

1. ``WCAM.generate`` at the given settings on ``skimage.data.chelsea()`` (cropped to ``--size``, or resized
   when larger), recording wall time, the time spent inside ``classify_images``, and the peak RSS growth;
2. forward-only: the same classifier on the same number of uint8 images of that size, in batches of the
   same size.

It prints one row per thread count and repeat and the medians per thread count: WCAM's own milliseconds per
perturbed image (wall time outside the blackbox, and the process's CPU time outside it: on a machine that
other jobs share, wall time mostly measures their load), the CPU time as a share of ``--target-ms`` (the
issue's target: <= 10 % of a 10 ms/image model), the ratio WCAM wall / forward-only wall, and the peak RSS
growth of each
(the forward-only growth is the model's own working memory; WCAM's includes it, plus the returned
``n_classes x H x W`` float32 maps: 200 MB for 1000 classes at 224 x 224). ``--load N`` starts N busy
processes (a Python loop each) beside the measurement and stops them at the end, to see the cost on a
loaded machine.

    python benchmarks/wcam_overhead.py                   # defaults: grid 28, nb_design 8 (6,288 passes)
    python benchmarks/wcam_overhead.py --threads 1,2 --load 2            # 1 vs 2 threads, two busy processes
    python benchmarks/wcam_overhead.py --size 300x451 --grid-size 10     # the blur study's image size
    python benchmarks/wcam_overhead.py --repeats 1 --nb-design 2   # quick look
    python benchmarks/wcam_overhead.py --perturb-only --threads 1,2      # masking + synthesis + cast alone

``--perturb-only`` times only what WCAM does per perturbed image (one batch of ``--batch-size`` random grid
masks -> perturbed uint8 images, the Sobol loop's ``_Evaluator._images``), median of 7, at 224 x 224 (grid 28)
and 300 x 451 (grid 10); run it with ``PYTHONPATH=<other checkout>/src`` to compare versions.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time

import numpy as np
import psutil
import skimage.data
import torch
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam import WCAM


class FixedCostClassifier(ClassifyImage):
    """A small CNN with 1000 classes; ``width`` sets its cost. Counts the time spent classifying."""

    def __init__(self, width: int, n_classes: int = 1000) -> None:
        torch.manual_seed(0)
        self.model = torch.nn.Sequential(
            torch.nn.Conv2d(3, width, 3, stride=2, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1),
            torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1),
            torch.nn.Flatten(),
            torch.nn.Linear(4 * width, n_classes),
        ).eval()
        self.labels = list(range(n_classes))
        self.seconds = self.cpu_seconds = 0.0

    def get_labels(self):
        return self.labels

    @torch.inference_mode()
    def classify_images(self, img_iter):
        start, cpu = time.perf_counter(), time.process_time()
        batch = torch.from_numpy(np.asarray(img_iter)).permute(0, 3, 1, 2).float().div_(255)
        probabilities = self.model(batch).softmax(-1).numpy()
        results = [dict(zip(self.labels, row.tolist(), strict=True)) for row in probabilities]
        self.seconds += time.perf_counter() - start
        self.cpu_seconds += time.process_time() - cpu
        return iter(results)

    def get_config(self):
        return {}


def calibrate(target_ms: float, batch: np.ndarray, n_classes: int) -> FixedCostClassifier:
    """Smallest width whose cost per image reaches ``target_ms``."""
    for width in (16, 24, 32, 48, 64, 96, 128):
        classifier = FixedCostClassifier(width, n_classes)
        seconds = []
        for _ in range(4):  # the first calls are warm-up (oneDNN primitive creation)
            classifier.seconds = 0.0
            list(classifier.classify_images(batch))
            seconds.append(classifier.seconds)
        if 1000 * statistics.median(seconds[1:]) / len(batch) >= target_ms:
            break
    return classifier


class PeakRss:
    """Peak resident memory of this process while the block runs, sampled every 5 ms."""

    def __enter__(self):
        self.process, self.before, self.peak, self._stop = psutil.Process(), 0, 0, threading.Event()
        self.before = self.peak = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.before) / 2**20


def busy_processes(n: int) -> list[subprocess.Popen]:
    """``n`` processes that each keep one core busy until terminated."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def test_image(size: str) -> np.ndarray:
    """``skimage.data.chelsea()`` (300 x 451) cropped to ``HxW`` around its centre, or resized when larger."""
    height, width = (int(v) for v in size.lower().split("x"))
    image = skimage.data.chelsea()
    if height > image.shape[0] or width > image.shape[1]:
        from skimage.transform import resize

        return (resize(image, (height, width), preserve_range=True) + 0.5).astype(np.uint8)
    top, left = (image.shape[0] - height) // 2, (image.shape[1] - width) // 2
    return image[top : top + height, left : left + width].copy()


def perturb_only(thread_counts: list[int], batch_size: int, repeats: int = 7) -> None:
    """Wall and CPU milliseconds per image of masking + synthesis + cast, per size and thread count."""
    from xaitk_wcam.impls.gen_image_classifier_blackbox_sal._sobol_blackbox import _Evaluator
    from xaitk_wcam.wavelets.layout import padded_size
    from xaitk_wcam.wavelets.masking import MaskedWaveletImages

    print(f"masking + synthesis + cast of {batch_size} images, median of {repeats}, load {os.getloadavg()[0]:.1f}")
    for size, grid in (("224x224", 28), ("300x451", 10)):
        image = test_image(size)
        height, width = image.shape[:2]
        pad = ((0, padded_size(height, 3) - height), (0, padded_size(width, 3) - width), (0, 0))
        layout = torch.from_numpy(np.pad(image.astype(np.float32), pad, mode="symmetric")).permute(2, 0, 1)
        masked = MaskedWaveletImages(layout, "haar", 3, grid)
        crop = (slice(None), slice(0, height), slice(0, width))
        evaluator = _Evaluator(image, None, [0], lambda m, f=masked, c=crop: f(m)[c], grid, batch_size)
        masks = torch.from_numpy(np.random.default_rng(0).random((batch_size, grid, grid)).astype(np.float32))
        for threads in thread_counts:
            torch.set_num_threads(threads)
            evaluator._images(masks)
            wall, cpu = [], []
            for _ in range(repeats):
                start, cpu_start = time.perf_counter(), time.process_time()
                evaluator._images(masks)
                wall.append(time.perf_counter() - start)
                cpu.append(time.process_time() - cpu_start)
            print(
                f"{size} grid {grid}, {threads} threads: wall {1000 * statistics.median(wall) / batch_size:.3f} "
                f"ms/image, CPU {1000 * statistics.median(cpu) / batch_size:.3f} ms/image"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid-size", type=int, default=28)
    parser.add_argument("--nb-design", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--size", default="224x224", help="HxW of the explained image (chelsea, cropped)")
    parser.add_argument("--target-ms", type=float, default=10.0, help="classifier cost per image to calibrate to")
    parser.add_argument("--threads", default=str(torch.get_num_threads()), help="torch thread counts, e.g. 1,2")
    parser.add_argument("--load", type=int, default=0, help="busy processes to run beside the measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--classes", type=int, default=1000, help="outputs of the classifier (maps returned)")
    parser.add_argument("--perturb-only", action="store_true", help="time masking + synthesis + cast alone")
    args = parser.parse_args()
    thread_counts = [int(t) for t in args.threads.split(",")]
    if args.perturb_only:
        perturb_only(thread_counts, args.batch_size)
        return

    image = test_image(args.size)
    torch.set_num_threads(thread_counts[0])
    classifier = calibrate(args.target_ms, np.repeat(image[None], args.batch_size, axis=0), args.classes)
    wcam = WCAM(grid_size=args.grid_size, nb_design=args.nb_design, batch_size=args.batch_size)
    n = wcam.n_evaluations
    batches = [np.repeat(image[None], min(args.batch_size, n - s), axis=0) for s in range(0, n, args.batch_size)]

    print(
        f"machine: {platform.processor() or platform.machine()}, {psutil.cpu_count()} cores, "
        f"torch {torch.__version__}, load average {os.getloadavg()[0]:.1f} before, {args.load} busy processes beside"
    )
    print(
        f"WCAM grid_size={args.grid_size} nb_design={args.nb_design} batch_size={args.batch_size} on a "
        f"{image.shape[0]} x {image.shape[1]} x 3 uint8 image: {n} forward passes per explanation, "
        f"{args.classes} classes"
    )
    columns = [
        "model ms/img",
        "WCAM s",
        "forward s",
        "ratio",
        "own ms/img",
        "own CPU ms/img",
        "own CPU % target",
        "WCAM +MB",
        "fwd +MB",
    ]
    formats = ["{:.2f}", "{:.1f}", "{:.1f}", "{:.3f}", "{:.3f}", "{:.3f}", "{:.1f}", "{:.0f}", "{:.0f}"]

    def line(name: str, values) -> str:
        return f"{name:>7} " + " ".join(
            f.format(v).rjust(len(c)) for c, f, v in zip(columns, formats, values, strict=True)
        )

    load = busy_processes(args.load)
    try:
        print("threads " + " ".join(columns))
        medians = {}
        for threads in thread_counts:
            torch.set_num_threads(threads)
            rows = []
            for run in range(args.repeats):
                classifier.seconds = classifier.cpu_seconds = 0.0
                with PeakRss() as rss:
                    start, cpu = time.perf_counter(), time.process_time()
                    wcam.generate(image, classifier)  # the plugin call: one stack of n_classes maps
                    wcam_seconds, wcam_cpu = time.perf_counter() - start, time.process_time() - cpu
                inside, inside_cpu = classifier.seconds, classifier.cpu_seconds
                with PeakRss() as forward_rss:
                    start = time.perf_counter()
                    for batch in batches:
                        list(classifier.classify_images(batch))
                    forward_seconds = time.perf_counter() - start
                own_ms, own_cpu_ms = 1000 * (wcam_seconds - inside) / n, 1000 * (wcam_cpu - inside_cpu) / n
                rows.append(
                    (
                        1000 * forward_seconds / n,
                        wcam_seconds,
                        forward_seconds,
                        wcam_seconds / forward_seconds,
                        own_ms,
                        own_cpu_ms,
                        100 * own_cpu_ms / args.target_ms,
                        rss.growth_mb,
                        forward_rss.growth_mb,
                    )
                )
                print(line(f"{threads}.{run}", rows[-1]))
            medians[threads] = [statistics.median(column) for column in zip(*rows, strict=True)]
        for threads, values in medians.items():
            print(line(f"{threads} med", values))
    finally:
        for process in load:
            process.terminate()
            process.wait()
    print(f"(process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
