"""How far ``xaitk-wcam study CONFIG OUT --dry-run``'s time estimate is from the real wall time.

For each config, each round runs the dry run (its estimate, from a calibration of a few seconds) then the study itself
(``local``, one torch thread, report included, in a fresh process), and prints the ratio real / estimate; the rounds
alternate which comes first (the load of a shared machine drifts). A ratio in ``[1/1.5, 1.5]`` is the target.

Usage::

    python benchmarks/dry_run_error.py                        # the three example configs, 2 rounds
    python benchmarks/dry_run_error.py --configs examples/blur-study.json --rounds 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ("blur-study.json", "detector-blur-study.json", "noise-study.yaml")


def _cli(*args: str) -> tuple[float, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "xaitk_wcam.cli", "study", *args], check=True, env=env,
                          capture_output=True, text=True)  # fmt: skip
    return time.perf_counter() - start, done.stdout


def _estimate(config: Path, out: Path) -> float:
    """The dry run's estimated seconds (its last line)."""
    _, text = _cli(str(config), str(out), "--dry-run")
    line = next(line for line in text.splitlines() if line.startswith("estimated time:"))
    value, unit = line.split(":", 1)[1].split()[:2]
    return float(value) * {"s": 1, "min": 60, "h": 3600}[unit]  # rounded as printed: 1 s, 0.1 min


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", type=Path, default=[ROOT / "examples" / c for c in CONFIGS])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    ratios: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            for config in args.configs:
                out = Path(tmp) / f"{config.stem}-{round_}"
                load = os.getloadavg()[0]
                if round_ % 2 == 0:
                    estimate = _estimate(config, out)
                    real, _ = _cli(str(config), str(out), "--quiet")
                else:
                    real, _ = _cli(str(config), str(out), "--quiet")
                    estimate = _estimate(config, Path(tmp) / f"{config.stem}-{round_}-dry")
                ratio = real / estimate
                ratios.setdefault(config.name, []).append(ratio)
                print(f"round {round_}: {config.name}: estimate {estimate:.0f} s, real {real:.0f} s, real/estimate "
                      f"{ratio:.2f} (load {load:.1f})", flush=True)  # fmt: skip
    worst = max(max(r, 1 / r) for values in ratios.values() for r in values)
    medians = ", ".join(f"{name} {statistics.median(values):.2f}" for name, values in ratios.items())
    print(f"median real/estimate: {medians}; worst factor {worst:.2f} (target 1.5)")


if __name__ == "__main__":
    main()
