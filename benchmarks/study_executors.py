"""Wall time of one saliency-robustness study under each executor: ``local``, ``processes:N``, ``dask:local:N``, a
remote Dask scheduler and its workers (processes started here), ``ray:local:N``.

Each mode runs the ``xaitk-wcam study`` command in a fresh Python process (model loading, worker start-up and report
included, as a user sees it), into its own output folder; the modes run one after the other, ``--repeats`` rounds in
alternation (a shared machine's load drifts: every round runs every mode once), and the table gives each mode's median
wall time, its median speed-up over ``local --threads 1`` in the same round, and the load average when it started. The
script then checks that every single-threaded mode wrote the same ``results.csv`` (timings aside).

``processes:N`` commits each item in the worker (a shared file system); ``dask`` and ``ray`` return each item to the
study's process, which commits it (the return path): their difference to ``processes:N``, with the same ``N``
single-threaded workers, bounds what the return path costs (the engines' own overheads included).

Usage::

    python benchmarks/study_executors.py                                   # examples/blur-study.json, its 2 images
    python benchmarks/study_executors.py --images 20 --grid-size 4 --nb-design 4 --repeats 3 \\
        --modes local-1 ray processes dask remote-dask                   # the 20-image comparison of the docs

``--images N`` replaces the config's images by ``N`` 128 x 128 crops of scikit-image's photographs (a folder written
here). The config's ``"efficientnet-lite0"`` model name is replaced by the exported offline model folder
(:func:`xaitk_wcam.models.export_efficientnet_lite0`), so the benchmark needs no network.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
MODEL_ALIAS = "efficientnet-lite0"
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry")


def _config(path: Path, grid_size: int | None, nb_design: int | None, images: Path | None) -> dict:
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
    if images is not None:
        from smqtk_core.configuration import to_config_dict

        from xaitk_wcam.sources import FolderImages

        config["images"] = json.loads(json.dumps(to_config_dict(FolderImages(str(images)))))
    return config


def _write_images(folder: Path, n: int, size: int = 128) -> Path:
    """``n`` ``size x size`` RGB crops of scikit-image's photographs, at seeded positions."""
    import numpy as np
    import skimage.data
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        photo = np.asarray(getattr(skimage.data, PHOTOS[i % len(PHOTOS)])())[..., :3]
        top = rng.integers(0, photo.shape[0] - size + 1)
        left = rng.integers(0, photo.shape[1] - size + 1)
        Image.fromarray(photo[top : top + size, left : left + size].astype(np.uint8)).save(folder / f"im{i:03d}.png")
    return folder


def _run(config: Path, out: Path, executor: str, threads: int | None) -> float:
    cmd = [sys.executable, "-m", "xaitk_wcam.cli", "study", str(config), str(out), "--executor", executor, "--quiet"]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


#: The Dask config of the workers the benchmark starts (the Dask how-to's).
DASK_WORKER_CONFIG = """\
distributed:
  nanny:
    pre-spawn-environ:
      MALLOC_TRIM_THRESHOLD_: null
"""


@contextlib.contextmanager
def _dask_cluster(workers: int, folder: Path):
    """A Dask scheduler and ``workers`` single-threaded workers, each a process started here; yields the address.

    Their Dask config keeps glibc's malloc thresholds (no ``MALLOC_TRIM_THRESHOLD_``), as the Dask how-to advises."""
    scheduler_file = folder / "scheduler.json"
    python = [sys.executable, "-m"]
    (folder / "config").mkdir()
    (folder / "config" / "distributed.yaml").write_text(DASK_WORKER_CONFIG)
    env = {**os.environ, "DASK_CONFIG": str(folder / "config")}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": folder, "env": env}
    scheduler = [*python, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
    worker = [*python, "distributed.cli.dask_worker", "--nworkers", str(workers), "--nthreads", "1", "--no-dashboard"]
    started = [subprocess.Popen([*scheduler, "--scheduler-file", str(scheduler_file)], **quiet)]
    try:
        while not scheduler_file.exists():
            time.sleep(0.2)
        worker += ["--memory-limit", "0", "--local-directory", str(folder), "--scheduler-file", str(scheduler_file)]
        started.append(subprocess.Popen(worker, **quiet))
        address = json.loads(scheduler_file.read_text())["address"]
        from distributed import Client

        with Client(address) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "examples" / "blur-study.json")
    parser.add_argument("--workers", type=int, default=2, help="N of processes:N, dask:local:N, ray:local:N")
    parser.add_argument("--grid-size", type=int, default=None, help="override WCAM grid_size")
    parser.add_argument("--nb-design", type=int, default=None, help="override WCAM nb_design")
    parser.add_argument("--images", type=int, default=None, help="N 128 x 128 photographs instead of the config's")
    parser.add_argument("--repeats", type=int, default=1, help="rounds, every mode once per round")
    modes_all = ("local-cores", "local-1", "processes", "dask", "remote-dask", "ray")
    parser.add_argument("--modes", nargs="+", choices=modes_all, default=list(modes_all))
    args = parser.parse_args()

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    n = args.workers
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        images = _write_images(Path(tmp) / "images", args.images) if args.images else None
        config = Path(tmp) / "study.json"
        config.write_text(json.dumps(_config(args.config, args.grid_size, args.nb_design, images)))
        table = {
            "local-cores": (f"local --threads {cores}", "local", cores),
            "local-1": ("local --threads 1", "local", 1),
            "processes": (f"processes:{n} (workers commit)", f"processes:{n}", 1),
            "dask": (f"dask:local:{n} (returned)", f"dask:local:{n}", 1),
            "ray": (f"ray:local:{n} (returned)", f"ray:local:{n}", 1),
        }
        if "remote-dask" in args.modes:
            folder = Path(tmp) / "dask"
            folder.mkdir()
            address = stack.enter_context(_dask_cluster(n, folder))
            table["remote-dask"] = (f"dask:{address.split('//')[0]}//... ({n} workers, returned)", f"dask:{address}", 1)
        modes = [m for m in modes_all if m in args.modes]
        rows, tables = [], {}
        for round_ in range(args.repeats):
            order = modes if round_ % 2 == 0 else modes[::-1]  # alternate, so that no mode always runs first
            for mode in order:
                name, executor, threads = table[mode]
                out = Path(tmp) / f"out-{mode}-{round_}"
                load = os.getloadavg()[0]
                seconds = _run(config, out, executor, threads)
                tables[mode] = pd.read_csv(out / "results.csv").drop(columns=["seconds"])
                rows.append({"mode": mode, "name": name, "round": round_, "wall_s": seconds, "load": load})
                print(f"round {round_}: {name}: {seconds:.1f} s (load {load:.2f})", flush=True)
    frame = pd.DataFrame(rows)
    if "local-1" in modes:
        base = frame[frame["mode"] == "local-1"].set_index("round")["wall_s"]
        frame["speedup_vs_local_1_thread"] = base.reindex(frame["round"]).to_numpy() / frame["wall_s"]
    single = [tables[m] for m in modes if table[m][2] == 1]
    identical = all(t.equals(single[0]) for t in single[1:])
    summary = frame.groupby("mode", sort=False).agg(
        name=("name", "first"),
        median_wall_s=("wall_s", "median"),
        **({"median_speedup": ("speedup_vs_local_1_thread", "median")} if "local-1" in modes else {}),
        load=("load", lambda v: f"{min(v):.1f}-{max(v):.1f}"),
    )
    print(
        f"\nconfig: {args.config.name}"
        + (f" ({args.images} images of 128 x 128)" if args.images else "")
        + f"; cores: {cores}; rounds: {args.repeats}; results.csv of 1-thread modes identical: {identical}"
    )
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if "processes" in modes:
        shared = statistics.median(frame[frame["mode"] == "processes"]["wall_s"])
        for mode in ("dask", "ray", "remote-dask"):
            if mode in modes:
                cost = statistics.median(frame[frame["mode"] == mode]["wall_s"]) / shared - 1
                print(f"return path ({mode}) vs workers commit (processes): {100 * cost:+.1f} %")


if __name__ == "__main__":
    main()
