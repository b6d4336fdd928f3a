"""What the estimate costs beyond the forward passes: indices, per-cell errors and split-half stability.

A synthetic 1000-class softmax over ``d = 784`` cells (``grid_size=28``) is evaluated at every design row
(at almost no cost), then ``estimate()`` is timed: the classic Jansen indices alone (0.1's work), and the
full estimate with ``index_std`` and ``stability``, for Jansen and the importance design at ``nb_design=8``
(6,288 rows). The extra seconds are compared with the forward passes of a 10 ms/image model on the same rows.

    python benchmarks/estimator_cost.py --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from xaitk_wcam.sobol import ClassicRun, ImportanceRun

D, K, N = 784, 1000, 8
MODEL_SECONDS = 10e-3 * N * (D + 2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    weights = np.random.default_rng(0).normal(size=(D, K)).astype(np.float32) / 30

    def evaluate(n: int, rows: object) -> np.ndarray:
        x = np.concatenate([rows(s, min(s + 512, n)) for s in range(0, n, 512)])  # type: ignore[operator]
        z = x @ weights
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)

    dense = np.arange(D) < 16
    runs = {"jansen": ClassicRun(D, 0, evaluate, "jansen"), "importance": ImportanceRun(D, 0, evaluate, dense)}
    for run in runs.values():
        run.grow_to(N)

    def seconds(step: object) -> float:
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            step()  # type: ignore[operator]
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    indices_only = seconds(lambda: runs["jansen"]._indices(runs["jansen"].outputs, N))
    print(f"{K} classes, {D} cells, nb_design={N}; medians of {args.repeats}; model: 10 ms x {N * (D + 2):,} passes")
    print(f"jansen indices alone (0.1):           {indices_only:.3f} s")
    for name, run in runs.items():
        full = seconds(run.estimate)
        extra = full - indices_only if name == "jansen" else full
        print(f"{name:10s} estimate with std + stability: {full:.3f} s; beyond 0.1's indices {extra:.3f} s "
              f"= {100 * extra / MODEL_SECONDS:.2f} % of the model's {MODEL_SECONDS:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
