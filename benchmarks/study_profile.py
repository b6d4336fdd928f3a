"""Where the main job's wall time goes: a study run in this process, its time split by what it was doing.

Runs ``xaitk-wcam study CONFIG OUT --threads N`` (the CLI, in-process, into a fresh folder) while a sampling
thread records, every ``--interval`` seconds, the main thread's Python stack. Each sample is given to the
innermost frame that belongs to one of these parts, and each part gets its share of the wall time:

- ``imports``: module imports (at start-up and wherever a module is first imported later);
- ``model load``: ``HuggingFaceImageClassifier.__init__`` (reading the weights; with the ONNX Runtime
  backend, also the export or the cached graph);
- ``forward passes``: the classifier's ``classify_images`` / ``__call__`` (preprocessing, forward, softmax,
  the label dicts);
- ``saliency own work``: the black-box and white-box saliency generators, WCAM's wavelets and Sobol code,
  outside the forward passes they call;
- ``metrics own work``: faithfulness metrics, saliency metrics, map comparisons, outside their forward passes;
- ``figures / report``: ``xaitk_wcam.viz``, the study report, matplotlib;
- ``other``: everything else (config, plugin discovery, image sources, perturbers, the results store).

No timing code lives in the package: the split comes from the stacks alone, so the same script measures
any version of it (``PYTHONPATH=/path/to/other/src python benchmarks/study_profile.py --config ...``).

    python benchmarks/study_profile.py                                # examples/blur-study.json, 2 threads
    python benchmarks/study_profile.py --config examples/blur-study.json --threads 2 --out /tmp/profile
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

START = time.perf_counter()

_CLASSIFIER = os.sep + os.path.join("classifiers", "huggingface.py")
_FORWARD = {"_predict", "classify_images", "__call__", "_graph_pixels"}


def _path_has(*parts: str) -> Callable[[FrameType], bool]:
    parts = tuple(part.replace("/", os.sep) for part in parts)
    return lambda frame: any(part in frame.f_code.co_filename for part in parts)


#: (part, does this frame belong to it), tried in this order on each frame from the innermost outward.
PARTS: list[tuple[str, Callable[[FrameType], bool]]] = [
    ("imports", lambda f: f.f_code.co_filename.startswith("<frozen importlib")),
    (
        "forward passes",
        lambda f: f.f_code.co_filename.endswith(_CLASSIFIER) and f.f_code.co_name in _FORWARD,
    ),
    ("model load", lambda f: f.f_code.co_filename.endswith(_CLASSIFIER) and f.f_code.co_name == "__init__"),
    (
        "saliency own work",
        _path_has(
            "/impls/gen_image_classifier_blackbox_sal/",
            "/impls/gen_image_classifier_whitebox_sal/",
            "xaitk_wcam/wavelets/",
            "xaitk_wcam/sobol/",
            "/captum/",
        ),
    ),
    (
        "metrics own work",
        _path_has("/impls/faithfulness/", "/impls/saliency_metric/", "/impls/comparison/"),
    ),
    ("figures / report", _path_has("xaitk_wcam/viz/", "study/report.py", "/matplotlib/")),
]


class StackSampler:
    """Samples the main thread's stack every ``interval`` seconds and counts samples per part."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.counts: collections.Counter[str] = collections.Counter()
        self.phase = "imports"  # samples with no matching frame before the study starts: start-up
        self._main = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _classify(self, frame: FrameType | None) -> str:
        while frame is not None:
            for part, belongs in PARTS:
                if belongs(frame):
                    return part
            frame = frame.f_back
        return self.phase

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            frame = sys._current_frames().get(self._main)
            self.counts[self._classify(frame)] += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(Path(__file__).parents[1] / "examples" / "blur-study.json"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None, help="study folder (default: a fresh temporary one, removed)")
    parser.add_argument("--interval", type=float, default=0.005)
    args = parser.parse_args()

    sampler = StackSampler(args.interval)
    sampler.start()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    import xaitk_wcam
    from xaitk_wcam.cli import main as cli

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="study-profile-"))
    started = time.perf_counter()
    sampler.phase = "other"
    try:
        cli.main(["study", args.config, str(out), "--threads", str(args.threads)], standalone_mode=False)
    finally:
        finished = time.perf_counter()
        sampler.stop()
        rows = (out / "results.csv").read_text().count("\n") - 1 if (out / "results.csv").is_file() else 0
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)

    wall = finished - START
    total = sum(sampler.counts.values()) or 1
    print(
        f"{args.config}, --threads {args.threads}, xaitk_wcam from {Path(xaitk_wcam.__file__).parent}; {rows} rows; "
        f"wall {wall:.1f} s (start-up to the study's start {started - START:.1f} s); {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} at the end; {total} stack samples"
    )
    print(f"| {'part':<18} | {'share':>6} | {'seconds':>8} |")
    print(f"|{'-' * 20}|{'-' * 8}|{'-' * 10}|")
    for part in [name for name, _ in PARTS] + ["other"]:
        share = sampler.counts.get(part, 0) / total
        print(f"| {part:<18} | {100 * share:5.1f}% | {share * wall:8.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
