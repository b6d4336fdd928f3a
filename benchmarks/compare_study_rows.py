"""Whether two study folders hold the same rows: a refactor of the study must not change a number.

Compares ``results.csv`` of two ``OUT_DIR``s (the timing column aside): the same columns, the same rows in the same
order, the same text, and numbers equal to the last bit (or within ``--atol``). Prints one line per column that
differs and exits 1 if any does.

Usage (the version before a change in a second worktree, the two studies run with the same ``--threads``)::

    git worktree add /tmp/before <commit>
    PYTHONPATH=/tmp/before/src xaitk-wcam study examples/blur-study.json /tmp/old --threads 2
    xaitk-wcam study examples/blur-study.json /tmp/new --threads 2
    python benchmarks/compare_study_rows.py /tmp/old /tmp/new
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

TIMING = ("seconds",)


def differences(old: pd.DataFrame, new: pd.DataFrame, atol: float = 0.0) -> list[str]:
    """One line per difference between two results tables (timing columns aside); empty when they agree."""
    old, new = old.drop(columns=list(TIMING), errors="ignore"), new.drop(columns=list(TIMING), errors="ignore")
    if list(old.columns) != list(new.columns):
        return [f"columns differ: {list(old.columns)} vs {list(new.columns)}"]
    if len(old) != len(new):
        return [f"{len(old)} rows vs {len(new)} rows"]
    out = []
    for column in old.columns:
        a, b = old[column], new[column]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            x, y = a.to_numpy(dtype=np.float64), b.to_numpy(dtype=np.float64)
            same_nan = np.isnan(x) == np.isnan(y)
            close = np.isclose(x, y, rtol=0.0, atol=atol) | (np.isnan(x) & np.isnan(y))
            if not (same_nan.all() and close.all()):
                worst = np.nanmax(np.abs(x - y)) if np.isfinite(x - y).any() else float("nan")
                out.append(f"{column}: {int((~close).sum())} rows differ (max |difference| {worst:.3g})")
        elif not a.fillna("").astype(str).equals(b.fillna("").astype(str)):
            out.append(f"{column}: {int((a.fillna('').astype(str) != b.fillna('').astype(str)).sum())} rows differ")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="OUT_DIR of the study before the change")
    parser.add_argument("new", type=Path, help="OUT_DIR of the study after the change")
    parser.add_argument("--atol", type=float, default=0.0, help="tolerance on numbers (default: equal to the bit)")
    args = parser.parse_args()
    old, new = (pd.read_csv(folder / "results.csv") for folder in (args.old, args.new))
    found = differences(old, new, args.atol)
    print(f"{len(new)} rows x {len(new.columns)} columns: " + ("identical" if not found else "DIFFERENT"))
    for line in found:
        print("  " + line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
