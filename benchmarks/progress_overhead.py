"""What the progress bar of a Sobol explanation costs: one WCAM explanation with ``progress=True`` and with
``progress=False``, alternated in the same process, median of ``--repeats`` each.

Two classifiers, so that the ratio is seen where the bar weighs most and where it is used:

- ``trivial``: the mean brightness of each image as ``--classes`` classes, about a microsecond per image: the
  explanation is nearly all WCAM's own work, the worst case for the bar's share;
- ``efficientnet-lite0``: the offline ImageNet model (``HuggingFaceImageClassifier``, torch backend), the case
  the bar is for (``--no-model`` skips it).

The bar writes to standard error (the script sends it to ``os.devnull`` while timing, so a terminal's redraws
are not counted; tqdm formats and writes it all the same). It prints one row per classifier: passes, the median
wall and CPU seconds (the process's, less sensitive than wall time to other jobs on a shared machine) with and
without the bar, their ratios, and the median of the wall-time ratios of consecutive pairs (``paired``: the load of
the moment cancels out). Last, the bar alone: a bar created, updated once per batch of the same design
and closed, median of 20, what it adds to one explanation whatever the model.

    python benchmarks/progress_overhead.py                       # grid 16, nb_design 8 (2,064 passes), 5 repeats
    python benchmarks/progress_overhead.py --repeats 3 --grid-size 8 --no-model   # quick look
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import time

import numpy as np
import skimage.data
import torch
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam import WCAM


class Trivial(ClassifyImage):
    """``classes`` outputs from each image's mean brightness: almost free."""

    def __init__(self, classes: int) -> None:
        self.labels = [f"c{k}" for k in range(classes)]
        self.weights = np.linspace(0.5, 1.5, classes, dtype=np.float32)

    def get_labels(self) -> list[str]:
        return list(self.labels)

    def classify_array(self, images: np.ndarray) -> np.ndarray:
        mean = np.asarray(images, dtype=np.float32).reshape(len(images), -1).mean(axis=1) / 255
        return mean[:, None] * self.weights[None]

    def classify_images(self, img_iter):
        for row in self.classify_array(np.asarray(img_iter)):
            yield dict(zip(self.labels, row.tolist(), strict=True))

    def get_config(self) -> dict:
        return {"classes": len(self.labels)}


def timed(wcam: WCAM, image: np.ndarray, classifier: ClassifyImage) -> tuple[float, float]:
    """Wall and CPU seconds of one explanation."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
        wall, cpu = time.perf_counter(), time.process_time()
        wcam.explain(image, classifier)
        return time.perf_counter() - wall, time.process_time() - cpu


def bar_alone(passes: int, batch_size: int) -> float:
    """Seconds of a bar's whole life for one explanation: created, one update per batch, closed (to os.devnull)."""
    from xaitk_wcam.utils.progress import progress_bar

    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
        start = time.perf_counter()
        with progress_bar(passes, "WCAM", True) as bar:
            for done in range(0, passes, batch_size):
                bar.update(min(batch_size, passes - done))
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid-size", type=int, default=16)
    parser.add_argument("--nb-design", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--no-model", action="store_true", help="Skip the EfficientNet-Lite0 row.")
    args = parser.parse_args()

    image = skimage.data.chelsea()[:224, :224]
    classifiers: list[tuple[str, ClassifyImage]] = [("trivial", Trivial(args.classes))]
    if not args.no_model:
        from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier

        classifiers.append(("efficientnet-lite0", HuggingFaceImageClassifier("efficientnet-lite0", device="cpu")))
    keywords = {"grid_size": args.grid_size, "nb_design": args.nb_design, "batch_size": args.batch_size}
    print(
        f"# WCAM grid {args.grid_size}, nb_design {args.nb_design}, batch {args.batch_size}, 224 x 224, "
        f"{args.repeats} repeats each; torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{platform.processor() or platform.machine()}, Python {sys.version.split()[0]}"
    )
    columns = ("wall off", "wall on", "on/off", "cpu off", "cpu on", "on/off", "paired")
    print(f"{'classifier':<20}{'passes':>8}" + "".join(f"{c:>10}" for c in columns))
    passes = 0
    for name, classifier in classifiers:
        passes = WCAM(**keywords).explain(image, classifier).n_evaluations  # warm-up, and the count
        off, on = [], []
        for _ in range(args.repeats):  # alternated, so that the machine's load falls on both alike
            off.append(timed(WCAM(**keywords, progress=False), image, classifier))
            on.append(timed(WCAM(**keywords, progress=True), image, classifier))
        wall_off, wall_on = (statistics.median(t[0] for t in runs) for runs in (off, on))
        cpu_off, cpu_on = (statistics.median(t[1] for t in runs) for runs in (off, on))
        paired = statistics.median(b[0] / a[0] for a, b in zip(off, on, strict=True))
        print(
            f"{name:<20}{passes:>8}{wall_off:>10.3f}{wall_on:>10.3f}{wall_on / wall_off:>10.4f}"
            f"{cpu_off:>10.3f}{cpu_on:>10.3f}{cpu_on / cpu_off:>10.4f}{paired:>10.4f}"
        )
    alone = statistics.median(bar_alone(passes, args.batch_size) for _ in range(20))
    updates = -(-passes // args.batch_size)
    print(f"# the bar alone: {1000 * alone:.2f} ms per explanation ({updates} updates, {passes} passes)")


if __name__ == "__main__":
    main()
