"""WAM-SG's cost in forward passes, against WCAM's default design, on one backend.

WAM needs the torch model (its gradients); WCAM only reads probabilities. This script measures, in one process
and one torch thread (two-thread backward passes thrash on a loaded 2-core machine), paired repeats of

- one WAM-SG explanation (the defaults: 25 noisy forward+backward passes through ptwt's synthesis),
- one forward pass of 64 copies of the image (per image),

and reports WAM-SG in forward-pass equivalents and WCAM's default design (``8 * (28**2 + 2) = 6,288`` forward
passes) over WAM-SG on the same torch backend.

    python benchmarks/wam_cost.py                 # chelsea at 224 x 224, 3 repeats
    python benchmarks/wam_cost.py --photo coffee --repeats 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wam_table import photo

WCAM_PASSES = 8 * (28**2 + 2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photo", default="chelsea", help="a skimage.data photo, resized to 224 x 224")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    import torch

    from xaitk_wcam import WAM
    from xaitk_wcam.models import efficientnet_lite0_classifier
    from xaitk_wcam.utils.confidences import classify

    torch.set_num_threads(1)
    classifier = efficientnet_lite0_classifier(device="cpu", batch_size=64)
    image = photo(args.photo)
    target = int(classify(classifier, [image[None]])[0].argmax())
    batch = np.repeat(image[None], 64, axis=0)
    wam = WAM(method="smooth")
    classifier.classify_array(batch)  # warm-up
    wam_seconds, forward_seconds = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        wam.explain(image, classifier, [target])
        wam_seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
        classifier.classify_array(batch)
        forward_seconds.append((time.perf_counter() - start) / len(batch))
    wam_s, forward_s = statistics.median(wam_seconds), statistics.median(forward_seconds)
    print(f"torch {torch.__version__}, 1 thread, load {os.getloadavg()[0]:.1f}; {args.photo}, {args.repeats} repeats")
    print(f"WAM-SG: {wam_s:.2f} s (runs {', '.join(f'{s:.2f}' for s in wam_seconds)})")
    print(f"forward pass: {forward_s * 1000:.1f} ms per image at batch 64")
    print(f"WAM-SG = {wam_s / forward_s:.0f} forward passes; WCAM's {WCAM_PASSES:,} passes = "
          f"{WCAM_PASSES * forward_s:.0f} s: WCAM / WAM-SG = {WCAM_PASSES * forward_s / wam_s:.0f}x")  # fmt: skip


if __name__ == "__main__":
    main()
