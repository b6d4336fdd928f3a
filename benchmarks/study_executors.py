"""Wall time of one saliency-robustness study under each executor (``local`` vs ``processes:N``).

Each mode runs the ``xaitk-wcam study`` command in a fresh Python process (model loading, worker start-up
and report included, as a user sees it), into its own output folder; the script then checks that every
mode wrote the same ``results.csv`` (timings aside) and prints a table with the speed-up over ``local``.

``local --threads <cores>`` uses every core for torch's intra-op threads; ``local --threads 1`` (the study's
default) is the single-threaded baseline; ``processes:N`` gives each of its ``N`` workers one torch thread,
so the workers do not compete for cores. Runs with equal ``--threads`` give bit-identical tables.

Usage::

    python benchmarks/study_executors.py                       # examples/blur-study.json
    python benchmarks/study_executors.py --grid-size 4 --nb-design 4   # a quicker variant

The config's ``"efficientnet-lite0"`` model name is replaced by the exported offline model folder
(:func:`xaitk_wcam.models.export_efficientnet_lite0`), so the benchmark needs no network.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
MODEL_ALIAS = "efficientnet-lite0"


def _config(path: Path, grid_size: int | None, nb_design: int | None) -> dict:
    config = json.loads(path.read_text())
    for entry in [config["classifier"]]:
        params = entry[entry["type"]]
        if params.get("model_name_or_path") == MODEL_ALIAS:
            from xaitk_wcam.models import export_efficientnet_lite0

            params["model_name_or_path"] = str(export_efficientnet_lite0())
    for entry in config["saliency"].values():
        params = entry[entry["type"]]
        if "nb_design" in params:
            params["grid_size"] = grid_size or params["grid_size"]
            params["nb_design"] = nb_design or params["nb_design"]
    return config


def _run(config: Path, out: Path, executor: str, threads: int | None) -> float:
    cmd = [sys.executable, "-m", "xaitk_wcam.cli", "study", str(config), str(out), "--executor", executor, "--quiet"]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "examples" / "blur-study.json")
    parser.add_argument("--workers", type=int, default=2, help="N of processes:N")
    parser.add_argument("--grid-size", type=int, default=None, help="override WCAM grid_size")
    parser.add_argument("--nb-design", type=int, default=None, help="override WCAM nb_design")
    args = parser.parse_args()

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    modes = [
        (f"local --threads {cores}", "local", cores),
        ("local --threads 1", "local", 1),
        (f"processes:{args.workers}", f"processes:{args.workers}", 1),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "study.json"
        config.write_text(json.dumps(_config(args.config, args.grid_size, args.nb_design)))
        rows, tables = [], []
        for name, executor, threads in modes:
            out = Path(tmp) / f"out{len(rows)}"
            seconds = _run(config, out, executor, threads)
            tables.append(pd.read_csv(out / "results.csv").drop(columns=["seconds"]))
            rows.append({"mode": name, "wall_s": seconds})
        identical = all(t.equals(tables[1]) for t in tables[2:])
        close = all(
            (t.select_dtypes("number") - tables[0].select_dtypes("number")).abs().max().max() < 1e-4
            and t.select_dtypes("object").equals(tables[0].select_dtypes("object"))
            for t in tables[1:]
        )
    frame = pd.DataFrame(rows)
    frame[f"speedup_vs_local_{cores}_threads"] = frame["wall_s"].iloc[0] / frame["wall_s"]
    frame["speedup_vs_local_1_thread"] = frame["wall_s"].iloc[1] / frame["wall_s"]
    print(
        f"config: {args.config.name}; cores: {cores}; results.csv of 1-thread modes identical: {identical}; "
        f"all modes within 1e-4: {close}"
    )
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
