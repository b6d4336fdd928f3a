"""Known answer at data-set scale: does an explanation's shift under blur go with the model breaking?

Runs the shipped study ``examples/scale-shapes-robustness.json`` (ScaleShapes test and cue-conflict images,
:class:`~xaitk_wcam.sources.scale_shapes_images.ScaleShapesImages`; nrtk ``AverageBlurPerturber`` swept over
``ksize`` 1 to 9, ``ksize=1`` being the identity; WCAM and VanillaGradients; XCorr, SpearmanRank, SSD) once per
shipped ScaleShapes classifier, ``standard`` (texture-biased) and ``robust`` (blur-trained, shape-biased), with
``--executor`` (default ``processes:2``), and prints per model:

1. the flip rate per strength (share of images whose top class differs from the reference's), per split;
2. the verdicts (``verdicts.csv``): per method x comparison x ``ksize``, the verdict, the mean change beyond the
   noise floor and on how many images the map moved beyond its own noise;
3. the robustness link (``robustness.csv``): Spearman's correlation of each map feature with the confidence drop
   and its AUROC for the flip, with bootstrap intervals, and the warning margin over the sweep;
4. the known answer (the cue-conflict design of Geirhos et al., ICLR 2019: the shape of one class with the texture of
   another): WCAM's importance share at the texture's wavelet level and at the shape's levels (0 and 1) on the
   reference and under each blur, with the mean shift and its paired t interval, then what held and what did not;
5. the time split: the study (the work units) against the statistics (``verdicts.write_tables``) and the report
   (``report.write_report``), each timed in the same run by wrapping the two functions.

Expected (the design): blur removes the texture (period 2 or 4 px) first, so the texture-biased model flips on
cue-conflict images and WCAM's importance moves from the texture's level to the shape's coarser levels; the
shape-biased model flips far less; ``ksize=1`` changes no pixel, so no method may read ``moves`` under it.

WCAM's comparisons read its pixel (spatial) map (``"output": "spatial"``): at ``grid_size=8`` the approximation band
is one cell of the wavelet layout, which holds most of the importance in both maps, so XCorr and SSD of two layouts
hardly see a shift of the details (``--wcam-output wavelet`` measures it); the scale shares are recorded either way.

Usage::

    python benchmarks/robustness_link.py                        # the shipped config: 50 + 50 images per model
    python benchmarks/robustness_link.py --n 8 --models standard --out /tmp/rl
    python benchmarks/robustness_link.py --n 25 --models standard --wcam-output wavelet   # comparisons on the layout
    python benchmarks/robustness_link.py --out OUT --resume   # again on finished studies: times statistics + report
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import xaitk_wcam
import xaitk_wcam.study.report as report_module
import xaitk_wcam.study.runner as runner_module
from xaitk_wcam.datasets import scale_shapes
from xaitk_wcam.statistics.paired import MOVES, paired_verdict
from xaitk_wcam.study import SaliencyRobustnessStudy
from xaitk_wcam.study.plan import NOISE_FLOOR, REFERENCE
from xaitk_wcam.study.verdicts import moved_counts, outcomes

CONFIG = Path(__file__).resolve().parents[1] / "examples" / "scale-shapes-robustness.json"
SOURCE = "xaitk_wcam.sources.scale_shapes_images.ScaleShapesImages"
CLASSIFIER = "xaitk_wcam.classifiers.huggingface.HuggingFaceImageClassifier"
WCAM = "xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam.WCAM"
MODELS = {"standard": "texture-biased", "robust": "shape-biased"}
FLOAT = "{:.3f}".format


class Timer:
    """Wall and CPU seconds spent in wrapped functions, by name (the statistics and the report of one run: both run in
    this process, so its CPU time is theirs)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def wrap(self, name: str, function: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
                self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu

        return timed


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of its finished children (the study's worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@contextmanager
def timed_statistics_and_report(timer: Timer):
    """Time ``write_tables`` (as the runner calls it) and ``write_report`` (imported by the runner when it runs)."""
    tables, report = runner_module.write_tables, report_module.write_report
    runner_module.write_tables = timer.wrap("statistics", tables)
    report_module.write_report = timer.wrap("report", report)
    try:
        yield
    finally:
        runner_module.write_tables, report_module.write_report = tables, report


def model_config(base: dict[str, Any], kind: str, n: int | None, wcam_output: str | None) -> dict[str, Any]:
    config = copy.deepcopy(base)
    config["classifier"][CLASSIFIER]["model_name_or_path"] = f"scale-shapes-{kind}"
    if n is not None:
        config["images"][SOURCE]["n"] = n
    if wcam_output is not None:
        config["saliency"]["wcam"][WCAM]["output"] = wcam_output
    return config


def ksize_of(perturbation: str) -> str:
    """``AverageBlurPerturber(ksize=5)`` -> ``k5``."""
    return "k" + perturbation.split("ksize=")[1].rstrip(")") if "ksize=" in perturbation else perturbation


def flip_rates(frame: Any, plan: Any) -> pd.DataFrame:
    """Per split (and all), the share of images whose top class flipped, per perturbation; n in the last column."""
    method = plan.method_names[0]
    rows = {}
    table = pd.DataFrame({p: flipped for p, (_, flipped) in outcomes(frame, plan, method).items()})
    split = pd.Series(table.index.str.split("/").str[0], index=table.index)
    for name, part in [*table.groupby(split), ("all", table)]:
        rows[name] = {**{ksize_of(p): part[p].mean() for p in part}, "n_images": int(part.notna().all(axis=1).sum())}
    return pd.DataFrame(rows).T


def decisions(frame: Any, n: int, seed: int) -> pd.DataFrame:
    """Per split and item (the reference, each blur): the share of predictions that follow the image's shape, its
    texture, and the most frequent prediction with its share."""
    from xaitk_wcam.datasets import CLASS_NAMES

    rows = frame.drop_duplicates(["image_id", "perturbation"]).set_index(["image_id", "perturbation"])
    predicted = rows["predicted_label"].dropna().unstack("perturbation")
    items = [REFERENCE, *(p for p in predicted.columns if p not in (REFERENCE, NOISE_FLOOR))]
    table = {}
    for split in sorted({i.split("/")[0] for i in predicted.index}):
        samples = scale_shapes(n, 64, seed, split)
        ids = [f"{split}/{i}" for i in range(n)]
        shape = np.array([CLASS_NAMES[s.shape_label] for s in samples])
        texture = np.array([CLASS_NAMES[s.texture_label] for s in samples])
        for item in items:
            labels = predicted[item].reindex(ids)
            top = labels.value_counts()
            table[(split, ksize_of(item))] = {
                "follows shape": float((labels.to_numpy() == shape).mean()),
                "follows texture": float((labels.to_numpy() == texture).mean()),
                "most frequent": f"{top.index[0]} ({top.iloc[0] / len(ids):.2f})",
            }
    return pd.DataFrame(table).T


def verdict_matrix(verdicts: pd.DataFrame, moved: dict) -> pd.DataFrame:
    """``method / metric`` x ``ksize``: ``verdict change (moved/n)``."""
    cells = {}
    for row in verdicts.itertuples():
        counted = moved.get((row.method, row.metric, row.perturbation))
        share = f" {counted[0]}/{counted[1]}" if counted else ""
        word = "MOVES" if row.verdict == MOVES else ("within" if row.verdict == "within noise" else row.verdict)
        cells[(f"{row.method} / {row.metric}", ksize_of(row.perturbation))] = f"{word} {row.change:+.2f}{share}"
    return pd.Series(cells).unstack()


def link_matrix(robustness: pd.DataFrame, statistic: str) -> pd.DataFrame:
    """``method / feature`` x ``ksize``: ``value [ci_low, ci_high]`` of one statistic (n/a where it does not exist)."""
    rows = robustness[robustness["statistic"] == statistic]
    cells = {}
    for row in rows.itertuples():
        value = "n/a" if not np.isfinite(row.value) else f"{row.value:+.2f} [{row.ci_low:+.2f},{row.ci_high:+.2f}]"
        cells[(f"{row.method} / {row.feature}", ksize_of(row.perturbation))] = value
    return pd.Series(cells, dtype=object).unstack()


def margin_matrix(robustness: pd.DataFrame) -> pd.DataFrame:
    rows = robustness[robustness["statistic"].str.startswith("warning margin")]
    table = rows.assign(margin=rows["statistic"].str.removeprefix("warning margin: "))
    table = table.pivot_table(index=["method", "feature", "n_images"], columns="margin", values="value", sort=False)
    return table.astype(int)


def scale_shift(frame: Any, plan: Any, n: int, seed: int, method: str = "wcam") -> tuple[pd.DataFrame, dict]:
    """WCAM's importance share at each image's texture level and at its shape levels, per split and perturbation
    (mean over images), and per perturbation on the cue-conflict images the paired verdicts of the shifts (texture
    share down, shape share up; no noise floor: the reference and the perturbed map are independent draws)."""
    rows = frame[frame["method"] == method].set_index(["image_id", "perturbation"])
    items = [REFERENCE, *(p.id for p in plan.perturbations)]
    table, tests = {}, {}
    for split in sorted({i.split("/")[0] for i in frame["image_id"]}):
        texture, shape = {p: [] for p in items}, {p: [] for p in items}
        for i, sample in enumerate(scale_shapes(n, 64, seed, split)):
            for p in items:
                row = rows.loc[(f"{split}/{i}", p)]
                texture[p].append(row[f"scale_share_{sample.texture_level}"])
                shape[p].append(sum(row[f"scale_share_{level}"] for level in sample.shape_levels))
        texture = {p: np.asarray(v, dtype=float) for p, v in texture.items()}
        shape = {p: np.asarray(v, dtype=float) for p, v in shape.items()}
        for p in items:
            table[(split, ksize_of(p))] = {
                "texture-level share": np.nanmean(texture[p]),
                "shape-levels share": np.nanmean(shape[p]),
            }
            if p != REFERENCE and split == "cue_conflict":
                tests[p] = (
                    paired_verdict(texture[REFERENCE] - texture[p], np.zeros(n)),
                    paired_verdict(shape[p] - shape[REFERENCE], np.zeros(n)),
                )
    return pd.DataFrame(table).T, tests


def run_model(kind: str, config: dict[str, Any], out: Path, executor: str, resume: bool) -> dict[str, Any]:
    folder = out / kind
    if folder.exists() and not resume:
        raise SystemExit(f"{folder} exists: give another --out (the benchmark times a fresh run), or --resume")
    timer = Timer()
    load_before = os.getloadavg()
    study = SaliencyRobustnessStudy(config)
    with timed_statistics_and_report(timer):
        start, cpu = time.perf_counter(), cpu_seconds()
        frame = study.run(folder, executor=executor, progress=False, resume=resume)
        total, total_cpu = time.perf_counter() - start, cpu_seconds() - cpu
    return {"frame": frame, "plan": study.plan, "folder": folder, "total": total, "cpu": total_cpu,
            "timer": timer, "load": (load_before, os.getloadavg()), "resumed": resume}  # fmt: skip


def print_model(kind: str, result: dict[str, Any], n: int, seed: int) -> dict[str, Any]:
    frame, plan, folder = result["frame"], result["plan"], result["folder"]
    verdicts = pd.read_csv(folder / "verdicts.csv")
    robustness = pd.read_csv(folder / "robustness.csv")
    print(f"\n=== scale-shapes-{kind} ({MODELS[kind]}): {frame['image_id'].nunique()} images, {len(frame)} rows ===")
    print("\nPredictions (share of images that follow the shape, the texture; the most frequent prediction):")
    decided = decisions(frame, n, seed)
    print(decided.to_string(float_format=FLOAT))
    flips = flip_rates(frame, plan)
    print("\nFlip rate per blur ksize (top class differs from the reference's):")
    print(flips.to_string(float_format=FLOAT))
    moved = moved_counts(frame, plan)
    print("\nVerdicts (verdict, mean change beyond the noise floor, images whose map moved beyond its noise / n):")
    print(verdict_matrix(verdicts, moved).to_string())
    print("\nRobustness link: Spearman with the confidence drop [95 % bootstrap interval]")
    print(link_matrix(robustness, "spearman").to_string())
    print("\nRobustness link: AUROC for the flip [95 % bootstrap interval]")
    print(link_matrix(robustness, "auroc").to_string())
    print("\nWarning margin over the ksize sweep (images per class):")
    print(margin_matrix(robustness).to_string())
    shares, tests = scale_shift(frame, plan, n, seed)
    print("\nWCAM importance share at the image's texture level and at its shape levels (0 + 1), mean over images:")
    print(shares.to_string(float_format=FLOAT))
    print("\nCue-conflict images, shift from the reference (paired t, one-sided 95 %):")
    for p, (down, up) in tests.items():
        print(
            f"  {ksize_of(p):>4}: texture share -{down.change:.3f} (lower bound {down.ci_low:+.3f}, {down.verdict}); "
            f"shape share +{up.change:.3f} (lower bound {up.ci_low:+.3f}, {up.verdict}); n={down.n_images}"
        )
    timer = result["timer"]
    statistics, report = timer.seconds.get("statistics", np.nan), timer.seconds.get("report", np.nan)
    study_seconds = result["total"] - statistics - report
    cpu_statistics, cpu_report = timer.cpu.get("statistics", np.nan), timer.cpu.get("report", np.nan)
    study_cpu = result["cpu"] - cpu_statistics - cpu_report
    (b1, b5, _), (a1, a5, _) = result["load"]
    load = f"load average (1, 5 min) {b1:.2f}, {b5:.2f} before, {a1:.2f}, {a5:.2f} after"
    if result["resumed"]:  # nothing recomputed: the shares of the study's time mean nothing
        print(
            f"\nTime (resumed, nothing recomputed): total {result['total']:.1f} s; statistics (write_tables) "
            f"{statistics:.2f} s wall, {cpu_statistics:.2f} s CPU; report (write_report) {report:.2f} s wall, "
            f"{cpu_report:.2f} s CPU; {load}"
        )
    else:
        print(
            f"\nTime: total {result['total']:.1f} s = study {study_seconds:.1f} s + statistics (write_tables) "
            f"{statistics:.2f} s ({100 * statistics / study_seconds:.1f} %) + report (write_report) {report:.2f} s "
            f"({100 * report / study_seconds:.1f} %); {load}"
        )
        print(
            f"CPU time (this process and the workers, user + system): {result['cpu']:.1f} s = study {study_cpu:.1f} s "
            f"+ statistics {cpu_statistics:.2f} s ({100 * cpu_statistics / study_cpu:.1f} %) + report "
            f"{cpu_report:.2f} s ({100 * cpu_report / study_cpu:.1f} %)"
        )
    return {"verdicts": verdicts, "flips": flips, "tests": tests, "decisions": decided, "study": study_seconds,
            "statistics": statistics, "report": report, "cpu": result["cpu"]}  # fmt: skip


def checks(summaries: dict[str, dict[str, Any]]) -> list[tuple[bool, str]]:
    """The known answer's claims, each with what was measured."""
    out = []
    for kind, summary in summaries.items():
        verdicts = summary["verdicts"]
        identity = verdicts[verdicts["perturbation"].str.contains(r"ksize=1\)")]
        moved = identity[identity["verdict"] == MOVES]
        out.append((moved.empty, f"{kind}: ksize=1 (identity) gets no 'moves' ({len(identity)} method x metric "
                                 f"verdicts; largest change {identity['change'].max():+.3f})"))  # fmt: skip
    if "standard" in summaries:
        summary = summaries["standard"]
        flips = summary["flips"]
        strongest = flips.columns[-2]
        rate = flips.loc["cue_conflict", strongest] if "cue_conflict" in flips.index else np.nan
        out.append((rate > 0.5, f"standard: blur flips the cue-conflict predictions (flip rate {rate:.2f} at "
                                f"{strongest})"))  # fmt: skip
        if "cue_conflict" in summary["decisions"].index:
            shape = summary["decisions"].loc["cue_conflict", "follows shape"].drop(["reference", "k1"])
            shares = ", ".join(f"{k} {v:.2f}" for k, v in shape.items())
            text = f"standard: blurred cue-conflict images are classified by their shape (share: {shares})"
            out.append((bool((shape > 0.5).all()), text))
        for p, (down, up) in summary["tests"].items():
            if "ksize=1)" in p:
                continue
            out.append((down.verdict == MOVES and up.verdict == MOVES,
                        f"standard, cue conflict, {ksize_of(p)}: WCAM importance leaves the texture level "
                        f"(-{down.change:.3f}) for the shape levels (+{up.change:.3f})"))  # fmt: skip
        verdicts = summary["verdicts"]
        wcam = verdicts[(verdicts["method"] == "wcam") & ~verdicts["perturbation"].str.contains(r"ksize=1\)")]
        moving = sorted({f"{ksize_of(r.perturbation)} {r.metric}" for r in wcam.itertuples() if r.verdict == MOVES})
        out.append(
            (bool(moving), f"standard: WCAM's map moves beyond its noise under blur: {', '.join(moving) or 'never'}")
        )
    if {"standard", "robust"} <= set(summaries):
        s, r = (summaries[k]["flips"] for k in ("standard", "robust"))
        if "cue_conflict" in s.index:
            column = s.columns[-2]
            out.append((r.loc["all", column] < s.loc["all", column],
                        f"the shape-biased model flips less under {column}: {r.loc['all', column]:.2f} vs "
                        f"{s.loc['all', column]:.2f} (all images)"))  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=CONFIG, help="the study config (default: the shipped one)")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--n", type=int, default=None, help="images per split (default: the config's)")
    parser.add_argument(
        "--wcam-output",
        choices=["spatial", "wavelet"],
        default=None,
        help="the space WCAM's comparisons read (default: the config's, spatial)",
    )
    parser.add_argument("--executor", default="processes:2")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary one)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="resume the studies in --out (nothing is recomputed: what it times is the statistics and the report)",
    )
    args = parser.parse_args()
    base = json.loads(args.config.read_text())
    source = base["images"][SOURCE]
    n, seed = args.n or source["n"], source.get("seed", 0)
    out = args.out or Path(tempfile.mkdtemp(prefix="robustness_link_"))
    print(
        f"robustness link benchmark: {args.config.name}, {n} images per split x {source['split']}, WCAM output "
        f"{args.wcam_output or base['saliency']['wcam'][WCAM].get('output', 'wavelet')}, models "
        f"{args.models}, executor {args.executor}; xaitk-wcam {xaitk_wcam.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}; out {out}"
    )
    start = time.perf_counter()
    summaries = {}
    for kind in args.models:
        result = run_model(kind, model_config(base, kind, args.n, args.wcam_output), out, args.executor, args.resume)
        summaries[kind] = print_model(kind, result, n, seed)
    wall = time.perf_counter() - start
    print("\nKnown answer:")
    for held, text in checks(summaries):
        print(f"  [{'held' if held else 'DID NOT HOLD'}] {text}")
    study = sum(s["study"] for s in summaries.values())
    extra = sum(s["statistics"] + s["report"] for s in summaries.values())
    cpu = sum(s["cpu"] for s in summaries.values())
    if args.resume:
        return
    print(
        f"\nAll models: {wall:.1f} s wall ({wall / 60:.1f} min; budget 10 min); statistics + report add "
        f"{100 * extra / study:.1f} % to the studies' {study:.1f} s (target <= 5 %); load average now "
        f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}; CPU time {cpu:.1f} s in all (/ 2 cores: "
        f"{cpu / 2 / 60:.1f} min)"
    )


if __name__ == "__main__":
    main()
