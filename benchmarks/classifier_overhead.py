"""Overhead of the HuggingFaceImageClassifier adapter over the bare model.

Times, for one batch of ``--batch`` random ``uint8`` images of ``--size x --size`` pixels:

* ``model(pixel_values)``: the underlying ``transformers`` model on already-preprocessed tensors,
  under ``torch.inference_mode()`` (the floor);
* ``classify_images``: ``HuggingFaceImageClassifier.classify_images`` on the ``N x H x W x C`` uint8
  array (zero-copy conversion, torch preprocessing, forward pass, softmax, label dicts).

The model is the offline ImageNet EfficientNet-Lite0. Each timing is the median of ``--repeats`` runs
(after one warm-up run), alternating the two measurements. Torch uses its default thread count.

Two clocks are reported: wall-clock time and the process's CPU time. On a CPU device the pass/fail
check uses CPU time, which other processes competing for the same cores barely change (on a shared
2-core machine the wall-clock time of the same forward pass varied from 2.2 s to 6.3 s between
consecutive runs); on a GPU it uses wall-clock time (after ``torch.cuda.synchronize``).

Usage::

    python benchmarks/classifier_overhead.py [--device cpu] [--batch 64] [--size 224] [--repeats 7]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch

from xaitk_wcam.models import efficientnet_lite0_classifier


def _time(fn) -> tuple[float, float]:
    """(wall-clock seconds, process CPU seconds) of one call."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--max-ratio", type=float, default=1.1)
    args = parser.parse_args()

    clf = efficientnet_lite0_classifier(device=args.device, batch_size=args.batch)
    images = np.random.default_rng(0).integers(0, 256, (args.batch, args.size, args.size, 3), dtype=np.uint8)
    pixels = clf.preprocess(images)
    model = clf.model

    def bare() -> None:
        with torch.inference_mode():
            model(pixel_values=pixels).logits.cpu()

    def adapter() -> None:
        out = list(clf.classify_images(images))
        assert len(out) == args.batch

    bare(), adapter()  # warm-up
    runs: dict[str, list[tuple[float, float]]] = {"bare": [], "adapter": []}
    for _ in range(args.repeats):
        runs["bare"].append(_time(bare))
        runs["adapter"].append(_time(adapter))
    wall = {k: statistics.median(t[0] for t in v) for k, v in runs.items()}
    cpu = {k: statistics.median(t[1] for t in v) for k, v in runs.items()}
    ratio_wall, ratio_cpu = wall["adapter"] / wall["bare"], cpu["adapter"] / cpu["bare"]
    use_cpu_clock = clf.device.type == "cpu"
    ratio = ratio_cpu if use_cpu_clock else ratio_wall

    print(
        f"EfficientNet-Lite0, batch {args.batch} x {args.size} x {args.size} x 3 uint8, device {clf.device}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.machine()}"
    )
    print(f"median of {args.repeats} runs")
    print(f"| {'measurement':<42} | {'wall s':>7} | {'images/s':>8} | {'CPU s':>7} |")
    print(f"|{'-' * 44}|{'-' * 9}|{'-' * 10}|{'-' * 9}|")
    for key, name in (
        ("bare", "model(pixel_values), preprocessed"),
        ("adapter", "HuggingFaceImageClassifier.classify_images"),
    ):
        print(f"| {name:<42} | {wall[key]:7.3f} | {args.batch / wall[key]:8.1f} | {cpu[key]:7.3f} |")
    print(f"ratio adapter / bare model: wall-clock {ratio_wall:.3f}, CPU time {ratio_cpu:.3f}")
    verdict = "OK" if ratio <= args.max_ratio else "TOO SLOW"
    print(f"check ({'CPU time' if use_cpu_clock else 'wall-clock'}): {ratio:.3f} <= {args.max_ratio}: {verdict}")
    return 0 if ratio <= args.max_ratio else 1


if __name__ == "__main__":
    raise SystemExit(main())
