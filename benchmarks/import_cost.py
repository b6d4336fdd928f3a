"""What installing xaitk-wcam costs every xaitk / nrtk user: the time its plugin modules add to discovery.

smqtk's plugin discovery imports every module registered under the ``smqtk_plugins`` entry point, of every
installed package, the first time any interface's ``get_impls()`` runs. This script times
``GenerateImageClassifierBlackboxSaliency.get_impls()`` in fresh processes with torch already imported,
once as installed and once with this package's entry points hidden, and reports the medians, their
difference, the ten slowest modules this package's entry points import (``python -X importtime``), and
which heavy optional dependencies are loaded afterwards.

    python benchmarks/import_cost.py            # 7 runs of each
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys

PROBE = r"""
import importlib.metadata as md, sys, time
if sys.argv[1] == "hide":
    entry_points = md.entry_points
    def without_ours(*args, **kwargs):
        found = entry_points(*args, **kwargs)
        if kwargs.get("group") == "smqtk_plugins":
            return md.EntryPoints([e for e in found if not e.value.startswith("xaitk_wcam")])
        return found
    md.entry_points = without_ours
import torch
from xaitk_saliency.interfaces.gen_image_classifier_blackbox_sal import GenerateImageClassifierBlackboxSaliency
start = time.perf_counter()
impls = GenerateImageClassifierBlackboxSaliency.get_impls()
seconds = time.perf_counter() - start
heavy = ("transformers", "captum", "dask", "distributed", "pandas", "matplotlib", "pyarrow", "datasets")
print(seconds, len(impls), ",".join(h for h in heavy if h in sys.modules))
"""


def probe(mode: str) -> tuple[float, int, list[str]]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True, env=env)
    seconds, n, heavy = ([*out.stdout.strip().splitlines()[-1].split(" "), ""])[:3]
    return float(seconds), int(n), [h for h in heavy.split(",") if h]


def slowest_modules(count: int = 10) -> list[tuple[int, str]]:
    """Cumulative microseconds of the outermost imports the package's entry points trigger."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    code = PROBE.replace(
        "start = time.perf_counter()", "start = time.perf_counter(); print('--start--', file=sys.stderr)"
    )
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, "show"], capture_output=True, text=True, check=True, env=env
    ).stderr
    lines = err.split("--start--", 1)[1].splitlines()
    rows = []
    for line in lines:
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        depth = len(name) - len(name.lstrip(" "))
        rows.append((depth, int(cumulative), name.strip()))
    outer = min((d for d, _, n in rows if n.startswith("xaitk_wcam")), default=1)
    ours = [(c, n) for d, c, n in rows if d == outer and n.startswith("xaitk_wcam")]
    return sorted(ours, reverse=True)[:count]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    runs = {mode: [probe(mode) for _ in range(args.repeats)] for mode in ("show", "hide")}
    with_ours = statistics.median(r[0] for r in runs["show"])
    without = statistics.median(r[0] for r in runs["hide"])
    print(
        f"get_impls() with xaitk-wcam installed: {with_ours:.3f} s (median of {args.repeats}, torch already imported)"
    )
    print(f"get_impls() with its entry points hidden: {without:.3f} s")
    print(f"added by xaitk-wcam: {with_ours - without:+.3f} s")
    print(
        f"heavy modules loaded after get_impls(): {', '.join(runs['show'][0][2]) or 'none'}"
        f" (without xaitk-wcam: {', '.join(runs['hide'][0][2]) or 'none'})"
    )
    print("slowest outermost imports of xaitk_wcam modules (cumulative ms):")
    for microseconds, name in slowest_modules():
        print(f"  {microseconds / 1000:8.1f}  {name}")


if __name__ == "__main__":
    main()
