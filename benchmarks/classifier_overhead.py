"""Cost of the HuggingFaceImageClassifier adapter over the bare model, and of its two backends.

Times, for one batch of ``--batch`` random ``uint8`` images of ``--size x --size`` pixels (the offline
ImageNet EfficientNet-Lite0), alternating the measurements, median of ``--repeats`` runs after a warm-up:

* ``bare``: what a user who knows the model writes, from the raw ``N x H x W x C`` uint8 array:
  ``torch.from_numpy(images).permute(0, 3, 1, 2).float()``, normalise, ``model(pixel_values)``, softmax, under
  ``torch.inference_mode()`` (the floor of the torch backend);
* ``torch``: ``HuggingFaceImageClassifier(..., backend="torch").classify_images(images)`` (checks, resize when
  needed, normalise, forward, softmax, one ``{label: probability}`` dict per image);
* ``onnxruntime``: the same with ``backend="onnxruntime"`` (``--no-onnx`` skips it);
* ``0.2 adapter``: the adapter as 0.2 shipped it, rebuilt here from the same model: ``batch_size=32``, the
  input copied to contiguous NCHW, batch norm not folded (the model run under ``torch.enable_grad()`` with
  its parameters frozen, which takes the training-form path), dicts.

Each timing has two clocks, wall-clock and this process's CPU time. On a CPU the pass/fail checks use CPU
time, which other processes competing for the cores change less (wall time on a shared 2-core machine
varied 3x between consecutive runs); CPU time of an idle-spinning thread pool counts, so both are printed.
Checks: ``torch / bare <= --max-ratio`` (1.1) and ``onnxruntime / 0.2 adapter`` throughput ``>= --min-speedup`` (4).

Usage::

    python benchmarks/classifier_overhead.py [--threads 1] [--batch 64] [--size 224] [--repeats 5]
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import tempfile
import time

import numpy as np
import torch

from xaitk_wcam.classifiers import HuggingFaceImageClassifier


def _time(fn) -> tuple[float, float]:
    """(wall-clock seconds, process CPU seconds) of one call."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="torch and ONNX Runtime threads")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-ratio", type=float, default=1.1)
    parser.add_argument("--min-speedup", type=float, default=4.0)
    parser.add_argument("--no-onnx", action="store_true", help="skip the onnxruntime backend")
    parser.add_argument("--onnx-cache", default=None, help="cache_dir of the exported graph (default: the user's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    clf = HuggingFaceImageClassifier("efficientnet-lite0", device="cpu", batch_size=args.batch)
    model, labels = clf.model, clf.get_labels()
    scale, shift = (t.view(1, -1, 1, 1) for t in clf._preprocessor.uint8_affine)
    images = np.random.default_rng(0).integers(0, 256, (args.batch, args.size, args.size, 3), dtype=np.uint8)
    if args.size != 224:
        raise SystemExit("--size must be 224, the model's input size (the bare model has no resize)")

    def bare() -> None:
        with torch.inference_mode():
            pixels = torch.from_numpy(images).permute(0, 3, 1, 2).float() * scale + shift
            model(pixel_values=pixels).logits.softmax(-1).numpy()

    old_model = copy.deepcopy(model).requires_grad_(False)

    def old_adapter() -> None:  # 0.2: batches of 32, contiguous NCHW, batch norm as in training, dicts
        out = []
        for start in range(0, len(images), 32):
            with torch.enable_grad():
                pixels = torch.from_numpy(images[start : start + 32]).permute(0, 3, 1, 2).float() * scale + shift
                probs = old_model(pixel_values=pixels.contiguous()).logits.softmax(-1).numpy()
            out.extend(dict(zip(labels, row, strict=True)) for row in probs.tolist())
        assert len(out) == args.batch

    def adapter(classifier: HuggingFaceImageClassifier):
        def run() -> None:
            assert len(list(classifier.classify_images(images))) == args.batch

        return run

    variants = {"bare": bare, "torch": adapter(clf), "0.2 adapter": old_adapter}
    if not args.no_onnx:
        cache = args.onnx_cache or os.path.join(tempfile.gettempdir(), "xaitk_wcam_benchmark_onnx")
        start = time.perf_counter()
        onnx = HuggingFaceImageClassifier(
            "efficientnet-lite0", device="cpu", batch_size=args.batch, backend="onnxruntime", cache_dir=cache
        )
        print(
            f"onnxruntime: graph {'exported' if onnx._graph.exported else 'read from cache'} in "
            f"{time.perf_counter() - start:.1f} s ({onnx._graph.path})"
        )
        variants["onnxruntime"] = adapter(onnx)
        got = np.array([list(d.values()) for d in onnx.classify_images(images)])
        want = np.array([list(d.values()) for d in clf.classify_images(images)])
        print(
            f"onnxruntime vs torch: max abs probability difference {np.abs(got - want).max():.2e}, "
            f"top-1 agreement {(got.argmax(1) == want.argmax(1)).mean():.3f}"
        )

    for fn in variants.values():
        fn()  # warm-up
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in variants}
    for _ in range(args.repeats):
        for key, fn in variants.items():
            runs[key].append(_time(fn))
    wall = {k: statistics.median(t[0] for t in v) for k, v in runs.items()}
    cpu = {k: statistics.median(t[1] for t in v) for k, v in runs.items()}

    print(
        f"EfficientNet-Lite0, batch {args.batch} x {args.size} x {args.size} x 3 uint8, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}; median of {args.repeats} runs"
    )
    print(
        f"| {'variant':<12} | {'wall s':>7} | {'img/s':>7} | {'CPU s':>7} | {'img/CPU s':>9} | "
        f"{'x bare (CPU)':>12} | {'speed x 0.2 (CPU)':>17} |"
    )
    print(f"|{'-' * 14}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 11}|{'-' * 14}|{'-' * 19}|")
    for key in variants:
        print(
            f"| {key:<12} | {wall[key]:7.3f} | {args.batch / wall[key]:7.1f} | {cpu[key]:7.3f} | "
            f"{args.batch / cpu[key]:9.1f} | {cpu[key] / cpu['bare']:12.3f} | "
            f"{cpu['0.2 adapter'] / cpu[key]:17.2f} |"
        )
    ratio = cpu["torch"] / cpu["bare"]
    ok = ratio <= args.max_ratio
    print(
        f"check torch / bare (CPU time): {ratio:.3f} <= {args.max_ratio}: {'OK' if ok else 'TOO SLOW'} "
        f"(wall {wall['torch'] / wall['bare']:.3f})"
    )
    if "onnxruntime" in variants:
        speedup = cpu["0.2 adapter"] / cpu["onnxruntime"]
        ok_onnx = speedup >= args.min_speedup
        print(
            f"check onnxruntime / 0.2 adapter throughput (CPU time): {speedup:.2f} >= {args.min_speedup}: "
            f"{'OK' if ok_onnx else 'TOO SLOW'} (wall {wall['0.2 adapter'] / wall['onnxruntime']:.2f})"
        )
        ok = ok and ok_onnx
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
