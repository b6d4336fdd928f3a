"""Time to draw and save the report's verdict and curve figures of a finished study, this checkout against another
revision's ``study/report.py``, in one process, alternating, median of ``--repeats``.

Usage::

    python3 tasks.py study                                          # a finished study: out/blur-study
    python benchmarks/report_figures.py out/blur-study --baseline d1f5a8b

The baseline's ``report.py`` is read with ``git show REV:src/xaitk_wcam/study/report.py`` and loaded beside this
checkout's (both use this checkout's other modules), so the figures of the same tables are drawn by both.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

import xaitk_wcam.study.report as current
from xaitk_wcam.study.runner import SaliencyRobustnessStudy
from xaitk_wcam.study.verdicts import verdict_table

ROOT = Path(__file__).resolve().parents[1]


def _baseline(revision: str, folder: Path):
    source = subprocess.run(
        ["git", "show", f"{revision}:src/xaitk_wcam/study/report.py"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    path = folder / "report_baseline.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("xaitk_wcam.study.report_baseline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="a finished study's folder (config.json, results.csv)")
    parser.add_argument("--baseline", required=True, help="the git revision to compare with")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    plan = SaliencyRobustnessStudy(json.loads((args.out_dir / "config.json").read_text())).plan
    frame = pd.read_csv(args.out_dir / "results.csv")
    verdicts = verdict_table(frame, plan)
    group, perturbations = next(iter(current._groups(plan).items()))
    samples = plan.task.sample_ids(frame)
    figures = {
        "verdicts": lambda module: module.verdicts_figure(frame, plan, verdicts),
        "curves": lambda module: module.curves_figure(samples, plan, group, perturbations),
    }
    with tempfile.TemporaryDirectory() as folder:
        modules = {"baseline": _baseline(args.baseline, Path(folder)), "this checkout": current}
        times: dict[tuple[str, str], list[float]] = {(m, f): [] for m in modules for f in figures}
        for round_ in range(args.repeats + 1):  # the first round warms up (fonts, caches) and is not counted
            for name, module in modules.items():
                for figure, draw in figures.items():
                    start = time.perf_counter()
                    draw(module).savefig(io.BytesIO(), dpi=90, format="png")
                    if round_:
                        times[(name, figure)].append(time.perf_counter() - start)
    print(f"{args.out_dir}: {len(plan.methods)} methods, {len(plan.perturbations)} perturbations; "
          f"median of {args.repeats}, alternating, one process ({sys.platform})")  # fmt: skip
    for figure in figures:
        base, mine = (statistics.median(times[(m, figure)]) for m in modules)
        print(f"{figure:9s} baseline {base:.2f} s, this checkout {mine:.2f} s ({mine / base:.2f}x)")


if __name__ == "__main__":
    main()
