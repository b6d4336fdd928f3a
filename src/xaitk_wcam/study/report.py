"""Figures and the self-contained ``report.html`` of a finished study.

``figures/`` holds, for each image (up to :data:`MAX_IMAGE_FIGURES`), the reference and perturbed images
with every method's map side by side (WCAM in the wavelet domain with its level lines, and on pixels);
for each perturbation sweep, every metric and the target confidence against strength (mean over images
with a 95 % band, the reference as a dashed line); and for each sweep and WCAM method, the mean scale
profile per strength. A detection study gets one maps figure per image and explained detection (the images with
the detection's box, its maps, and its scale profile per wavelet method), and its curves follow each detection's
``survival`` where a classification study's follow the target confidence. ``report.html`` embeds the same
figures as base64 PNG next to the tables
(``pandas.DataFrame.to_html``), so it is one file that opens anywhere.
"""

from __future__ import annotations

import base64
import html
import json
import re
import textwrap
import warnings
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from xaitk_wcam.interfaces.explanation import PIXEL, WAVELET
from xaitk_wcam.statistics.paired import MIN_IMAGES, MOVES
from xaitk_wcam.study.findings import findings_html, matrix_html, sweep_name
from xaitk_wcam.study.plan import KEY_COLUMNS, NOISE_FLOOR, REFERENCE, Perturbation, StudyPlan
from xaitk_wcam.study.store import ResultsStore, atomic_write, item_key
from xaitk_wcam.study.verdicts import comparisons, moved_counts, outcomes, robustness_table, sweeps, verdict_table
from xaitk_wcam.viz.curves import plot_metric_curve
from xaitk_wcam.viz.layout import panel_grid
from xaitk_wcam.viz.maps import plot_image, plot_map, plot_spatial_map, plot_wavelet_map
from xaitk_wcam.viz.profiles import plot_grouped_profiles
from xaitk_wcam.viz.text import PLAIN, plain_legend
from xaitk_wcam.viz.verdicts import plot_break_rate, plot_change_beyond_noise

#: Images that get a maps figure (the first ones of the source); tables always hold every image.
#: (Each maps figure draws every item and map of its image: it is most of a report's cost, about a second an image
#: on 2 cores; the tables and ``maps/`` hold every image.)
MAX_IMAGE_FIGURES = 8


def non_metric_columns(plan: StudyPlan) -> tuple[str, ...]:
    """The columns left out of the means: the keys and what the model kind's columns describe (names, boxes)."""
    return (*KEY_COLUMNS, *plan.task.label_columns)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def _save(fig: Any, path: Path) -> Path:
    """``fig`` as a PNG at ``path``, atomically (a symbolic link there is replaced, never written through)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda handle: fig.savefig(handle, dpi=90, format="png"), mode="wb")
    return path


def image_figure(store: ResultsStore, plan: StudyPlan, image_index: int, target: int | None = None) -> Any | None:
    """Reference and perturbed images of one image with each method's map below them; with ``target`` (one of the
    model kind's :meth:`~xaitk_wcam.study.tasks.ModelTask.figure_targets`, e.g. a detection), that target's box on
    the images, its maps and, where the kind asks for it, each wavelet method's scale profile.

    :return: A ``matplotlib.figure.Figure``, or ``None`` when the image has no committed item.
    """
    from matplotlib.figure import Figure

    columns = []
    for p_index in range(len(plan.perturbations) + 1):
        record = store.load_item(item_key(image_index, p_index))
        if record is not None:
            columns.append((record, store.load_arrays(item_key(image_index, p_index))))
    if not columns:
        return None
    task = plan.task
    map_rows = [(method.name, space) for method in plan.methods for space in method.spaces]
    if target is not None and task.figure_profiles:
        map_rows += [(name, "profile") for name in plan.wavelet_levels]
    n_rows, n_cols = 1 + len(map_rows), len(columns)
    # a fixed grid, not matplotlib's constrained layout: it measured every label of every panel (half the figure's time)
    height = 2.0 * n_rows + 0.9  # the first row's titles (the item, the prediction) and the figure's title on top
    fig = Figure(figsize=(2.2 * n_cols, height))
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.01, top=1 - 0.85 / height, wspace=0.08, hspace=0.12)
    axes = np.atleast_2d(fig.subplots(n_rows, n_cols, squeeze=False))
    for c, (record, arrays) in enumerate(columns):
        mine = task.rows_of(record["rows"], target)
        rows = {r["method"]: r for r in mine}
        first = mine[0] if mine else {}
        title = "\n".join([_wrapped(record["perturbation"]), *task.figure_title(first)])
        image = arrays.image
        if image is not None:
            plot_image(axes[0, c], image, title)
            box = task.figure_box(first)
            if box is not None:
                _draw_box(axes[0, c], box)
        else:
            axes[0, c].axis("off")
            axes[0, c].set_title(f"{title}\n{first.get('status', '')}"[:80], fontsize=6, **PLAIN)
        for r, (name, space) in enumerate(map_rows, start=1):
            ax = axes[r, c]
            row = rows.get(name, {})
            sal_map = task.map_of(record, arrays.maps.get(name, {}).get(space), target)
            shares = (
                [row[f"scale_share_{i}"] for i in range(plan.wavelet_levels[name] + 1)]
                if space == "profile" and row.get("scale_share_0") is not None
                else None
            )
            if shares is not None and np.nansum(shares) > 0:
                plot_grouped_profiles(ax, {name: shares})
            elif shares is not None:
                ax.axis("off")
                ax.text(0.5, 0.5, "no profile:\nall-zero map\n(the output did not vary)", ha="center",
                        va="center", fontsize=7)  # fmt: skip
            elif sal_map is not None and space == WAVELET:
                plot_wavelet_map(ax, sal_map, plan.wavelet_levels[name])
            elif sal_map is not None and space == PIXEL:
                plot_spatial_map(ax, image, sal_map)
            elif sal_map is not None:
                plot_map(ax, sal_map, space)
            else:
                ax.axis("off")
                status = str(row.get("status", "no map"))[:60]
                ax.text(0.5, 0.5, status, ha="center", va="center", fontsize=6, wrap=True, **PLAIN)
            if c == 0:
                ax.set_ylabel(f"{name} ({space})", fontsize=7, **PLAIN)
    first = next(iter(task.rows_of(columns[0][0]["rows"], target)), {})
    fig.suptitle(f"image {columns[0][0]['image_id']} ({task.figure_subject(first, target)})", fontsize=9, y=0.998,
                 **PLAIN)  # fmt: skip
    return fig


def _wrapped(name: str, width: int = 24) -> str:
    """A perturbation's name on lines of about ``width`` characters, broken before its parameters first
    (``AverageBlurPerturber(ksize=3)`` ran into the next column)."""
    if len(name) > width and "(" in name:
        head, _, rest = name.partition("(")
        return textwrap.fill(head, width) + "\n" + textwrap.fill("(" + rest, width)
    return textwrap.fill(name, width)


def _draw_box(ax: Any, box: list[float]) -> None:
    from matplotlib.patches import Rectangle

    x0, y0, x1, y1 = box
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, edgecolor="red", linewidth=1))


def _figure_targets(store: ResultsStore, plan: StudyPlan, image_index: int) -> list[int | None]:
    """The maps figures of one image: one, or one per target of its reference item the model kind draws apart."""
    return plan.task.figure_targets(store.load_item(item_key(image_index, 0)) or {})


def _groups(plan: StudyPlan) -> dict[str, list[Perturbation]]:
    groups: dict[str, list[Perturbation]] = defaultdict(list)
    for p in plan.perturbations:
        groups[p.group].append(p)
    return {g: sorted(ps, key=lambda p: (p.strength, p.index)) for g, ps in groups.items()}


def curves_figure(frame: Any, plan: StudyPlan, group: str, perturbations: list[Perturbation]) -> Any:
    """Each metric column and the target confidence against the strength of one sweep, per method."""
    confidence = plan.task.outcome_column
    metric_cols = [c.column for c in plan.columns] + [confidence]
    n = len(metric_cols)
    n_cols = min(3, n)
    n_rows = -(-n // n_cols)
    title = (
        f"{group}: metrics vs {perturbations[0].axis} (mean over n images, 95 % band; dashed: reference; hatched: "
        "a second draw on the reference, mean and 95 % interval; a triangle on a panel's top edge: an infinite mean, "
        "such as the SSD of an empty map)"
    )
    fig, axes = panel_grid(n_rows, n_cols, (3.3, 2.3), title=title, fontsize=9)
    axes = axes.ravel()
    strengths = [p.strength for p in perturbations]
    images = list(dict.fromkeys(frame["image_id"]))
    for ax, col in zip(axes, metric_cols, strict=False):
        # the confidence is the model's, the same for every method: one curve
        methods = plan.method_names[:1] if col == confidence else plan.method_names
        for method in methods:  # every row with a value (a metric that failed on a row leaves the others' values)
            sub = frame[frame["method"] == method]
            table = sub.pivot_table(index="image_id", columns="perturbation", values=col, aggfunc="first")
            values = np.full((len(images), len(perturbations)), np.nan)
            for i, img in enumerate(images):
                for j, p in enumerate(perturbations):
                    if img in table.index and p.id in table.columns:
                        values[i, j] = table.loc[img, p.id]
            ref = sub[sub["perturbation"] == REFERENCE][col].astype(float)
            reference = float(ref.mean()) if ref.notna().any() else None
            floor = noise_floor_band(frame, method, col)
            if np.isfinite(values).any():
                counts = np.isfinite(values).sum(axis=0)
                n_text = f"{counts.min()}" if counts.min() == counts.max() else f"{counts.min()}-{counts.max()}"
                label = f"{plan.model_kind if col == confidence else method} (n={n_text})"
                plot_metric_curve(ax, strengths, values, label=label, reference=reference, noise_floor=floor)
        ax.set_title(col, fontsize=8, **PLAIN)
        ax.set_xlabel(perturbations[0].axis, fontsize=7, **PLAIN)
        if ax.get_legend_handles_labels()[0]:
            plain_legend(ax, fontsize=6)
    for ax in axes[n:]:
        ax.axis("off")
    return fig


def noise_floor_band(frame: Any, method: str, column: str) -> tuple[float, float] | None:
    """Where a second draw of ``method`` on the reference image lands on ``column``: the mean over images of its
    ``noise_floor`` rows with a 95 % t interval, or ``None`` without such rows (what the verdicts compare with is
    per image: :mod:`xaitk_wcam.study.verdicts`)."""
    from scipy import stats

    values = frame[(frame["perturbation"] == NOISE_FLOOR) & (frame["method"] == method)][column].astype(float)
    values = values[np.isfinite(values)].to_numpy()
    if not values.size:
        return None
    mean = float(values.mean())
    if values.size < 2 or np.ptp(values) == 0:
        return mean, mean
    half = float(stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
    return mean - half, mean + half


def share_columns(plan: StudyPlan, method: str) -> list[str]:
    """The ``scale_share_*`` columns of a wavelet-map ``method``."""
    return [f"scale_share_{i}" for i in range(plan.wavelet_levels[method] + 1)]


def zero_profiles(frame: Any, plan: StudyPlan, method: str) -> Any:
    """Booleans over ``frame``'s rows: ``method``'s ok rows whose scale shares are all 0.

    An explanation whose output does not vary has an all-zero map (WCAM warns when it computes it): its shares are
    not a profile, and averaging them in would shrink the mean (a reference profile summing to 0.5).
    """
    shares = frame.reindex(columns=share_columns(plan, method)).astype(float)
    ok = (frame["status"] == "ok") & (frame["method"] == method)
    return ok & shares.notna().all(axis=1) & (shares == 0).all(axis=1)


def _without_zero_profiles(frame: Any, plan: StudyPlan, warn: bool = True) -> Any:
    """``frame`` with the scale shares of all-zero profiles (:func:`zero_profiles`) blanked, so means skip them;
    a ``RuntimeWarning`` per method says how many."""
    blanked = frame.copy()
    for method in plan.wavelet_levels:
        zero = zero_profiles(frame, plan, method)
        if zero.any():
            blanked.loc[zero, share_columns(plan, method)] = np.nan
            if warn:
                total = int(((frame["status"] == "ok") & (frame["method"] == method)).sum())
                warnings.warn(
                    f"{int(zero.sum())} of {total} ok rows of {method} have an all-zero map (the explained output does "
                    "not vary): left out of its mean scale profiles",
                    RuntimeWarning,
                    stacklevel=3,
                )
    return blanked


def profile_figure(
    frame: Any, plan: StudyPlan, method: str, group: str, perturbations: list[Perturbation]
) -> Any | None:
    """Mean scale profile of a wavelet-map ``method`` for the reference and each strength of one sweep (all-zero
    profiles left out, with a warning: :func:`zero_profiles`)."""
    from matplotlib.figure import Figure

    share_cols = share_columns(plan, method)
    frame = _without_zero_profiles(frame[frame["method"] == method], plan)
    ok = frame[(frame["status"] == "ok") & frame[share_cols].notna().all(axis=1)]
    profiles: dict[str, np.ndarray] = {}
    for pid, label in [(REFERENCE, REFERENCE)] + [(p.id, f"{p.axis}={p.strength:g}") for p in perturbations]:
        rows = ok[ok["perturbation"] == pid][share_cols].astype(float)
        if len(rows):
            profiles[label] = rows.mean(axis=0).to_numpy()
    if not profiles:
        return None
    fig = Figure(figsize=(6, 3), layout="constrained")
    plot_grouped_profiles(fig.subplots(), profiles, title=f"{method}: mean scale profile, {group}")
    return fig


def _embed(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    name = html.escape(path.name)
    return f'<figure><img alt="{name}" src="data:image/png;base64,{data}"/><figcaption>{name}</figcaption></figure>'


def _verdicts_html(verdicts: Any, plan: StudyPlan) -> str:
    if verdicts.empty:
        return "<p>No verdict: no comparison metric reads the methods' maps.</p>"
    off = [m.name for m in plan.methods if m.seeded and plan.noise_floor_index is None]
    note = (
        f"<p>The config turns the noise floor off: the seeded methods ({html.escape(', '.join(off))}) have no "
        "verdict (too few images).</p>"
        if off
        else ""
    )
    return (
        "<p>Per method, comparison and perturbation, over the images that have both values: each comparison read as a "
        "change from the reference map (0: identical, positive: further), the perturbed image's change minus the "
        "same image's noise-floor change (a second, independent draw of the method on the reference image; 0 for a "
        "deterministic method), and a one-sided paired t test of the mean difference. <code>change</code>: the mean "
        "change beyond the noise; <code>ci_low</code>: its one-sided 95 % lower bound (<code>ci_low</code>, "
        f"<code>ci_high</code>: the two-sided 90 % interval); <code>moves</code> when <code>ci_low</code> &gt; 0, "
        f"<code>too few images</code> below {MIN_IMAGES}. Also in <code>verdicts.csv</code>.</p>"
        + note
        + _table_html(verdicts, index=False)
    )


def _robustness_html(robustness: Any, plan: StudyPlan) -> str:
    if robustness.empty:
        return "<p>No robustness link: no comparison metric or wavelet method.</p>"
    drop, broke = plan.task.outcome_names
    return (
        f"<p>Per method and perturbation, over the images: Spearman's correlation of each map feature with the "
        f"{drop}, and its AUROC for predicting the {broke} (0.5: chance), each with a seeded 95 % bootstrap interval "
        f"(empty: n/a, e.g. only one outcome); per sweep, the <em>warning margin</em>: how many images moved beyond "
        f"their own noise before, with or after the {broke}. Also in <code>robustness.csv</code>.</p>"
        + _table_html(robustness, index=False)
    )


def _zero_profiles_html(frame: Any, plan: StudyPlan) -> str:
    """One line per wavelet-map method with all-zero maps left out of its means (:func:`zero_profiles`)."""
    counts = {method: int(zero_profiles(frame, plan, method).sum()) for method in plan.wavelet_levels}
    items = "".join(
        f"<li>{html.escape(method)}: {n} rows with an all-zero map (the explained output does not vary), left out "
        "of the mean profiles and of the mean scale shares</li>"
        for method, n in counts.items()
        if n
    )
    return f"<ul>{items}</ul>" if items else ""


def _not_applicable_html(plan: StudyPlan) -> str:
    """One line per (method, metric) pair the study skipped because the metric does not read that kind of map."""
    pairs = plan.not_applicable()
    if not pairs:
        return "<p>None: every metric applies to every method's maps.</p>"
    items = "".join(f"<li>{html.escape(reason)}: not applicable, left empty</li>" for _, _, reason in pairs)
    return f"<ul>{items}</ul>"


_CSS = (
    "body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;font-size:12px}"
    "td,th{border:1px solid #ccc;padding:2px 6px;white-space:nowrap}.scroll{overflow-x:auto;max-width:100%}"
    "img{max-width:100%}figure{margin:1em 0}dt{font-weight:bold;font-family:monospace}dd{margin:0 0 .4em 1.5em}"
    "pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:11px}"
)

#: What a cell holds when a metric gives no number.
NOT_APPLICABLE, NO_REFERENCE = "n/a", "ref"
_BLANKS = (
    f"<code>{NOT_APPLICABLE}</code>: the metric does not read this method's maps (see <em>Metrics that do not "
    f"apply</em>); <code>{NO_REFERENCE}</code>: a comparison with the reference map, undefined on the reference "
    "itself; an empty cell: no value (a failed row, listed under <em>Errors</em>, or an undefined score; "
    "<code>noise_floor</code> rows hold only the comparisons of two seeds)."
)


def _marked(frame: Any, plan: StudyPlan) -> Any:
    """``frame`` with text in the cells that hold no number for a known reason (see :data:`_BLANKS`)."""
    out = frame.astype(object).where(frame.notna(), "")
    comparisons = {c.column for c in plan.columns if c.compares}
    for method, column, _ in plan.not_applicable():
        if column in out:
            out.loc[out["method"] == method, column] = NOT_APPLICABLE
    for column in comparisons & set(out.columns):
        rows = (out["perturbation"] == REFERENCE) & (out[column] == "")
        out.loc[rows, column] = NO_REFERENCE
    return out


def _table_html(frame: Any, index: bool) -> str:
    """A table that scrolls sideways when wider than the page (numbers to 4 significant digits, no value: empty)."""

    def cell(value: Any) -> Any:
        if isinstance(value, (float, np.floating)):
            return f"{value:.4g}" if np.isfinite(value) else ""
        return value

    formatted = frame.map(cell) if len(frame) else frame
    return f"<div class='scroll'>{formatted.to_html(index=index, na_rep='', escape=True)}</div>"


#: What the columns of xaitk-saliency's own metrics mean (their docstrings name the interface, not the number).
XAITK_METRIC_HELP = {
    "Entropy": "Shannon entropy of the map read as a distribution over its pixels (scipy.stats.entropy; clip_range "
    "keeps the positive [0, 1] or negative [-1, 0] part, None min-max scales the map); lower: importance on fewer "
    "pixels",
}


def _legend_html(plan: StudyPlan) -> str:
    """Each metric column: what its metric measures and which direction is better (the metrics' own words)."""
    from xaitk_wcam.study.plan import build_metrics

    metrics = build_metrics(plan.resolved)
    items = [
        *plan.task.legend,
        ("scale_share_<level>", "share of a wavelet map's importance at each level, 0 = approximation (coarsest)"),
        ("seconds", "time the method took on the item, its metrics included"),
    ]  # fmt: skip
    for column in plan.columns:
        metric = metrics[column.metric]
        text = getattr(metric, "score_help", {}).get(column.score) if column.score else None
        text = text or XAITK_METRIC_HELP.get(type(metric).__name__)
        doc = (type(metric).__doc__ or type(metric).__name__).strip().splitlines()[0].replace("``", "")
        items.append((column.column, f"{text or doc} ({type(metric).__name__}, reads {'/'.join(column.spaces)} maps)"))
    body = "".join(f"<dt>{html.escape(name)}</dt><dd>{html.escape(text)}</dd>" for name, text in items)
    return f"<dl>{body}</dl>"


def _sanity_flags_html(sanity: Any | None) -> str:
    """One warning line per method that fails the sanity check (at the top of the findings)."""
    if sanity is None:
        return ""
    from xaitk_wcam.study.sanity import sanity_verdicts

    items = "".join(
        f"<li><strong>{html.escape(method)} fails the sanity check</strong>: its map of the fully randomised network "
        f"still correlates {randomised:.2f} with the trained network's map, no less than a second draw of the method "
        f"does ({seed:.2f}; Spearman, mean over {n} images): its map follows the image more than the model. Read its "
        "verdicts with that in mind.</li>"
        for method, (randomised, seed, n, fails) in sanity_verdicts(sanity).items()
        if fails
    )
    return f"<ul class='flags'>{items}</ul>" if items else ""


def _sanity_html(sanity: Any) -> str:
    from xaitk_wcam.study.sanity import sanity_verdicts

    summary = [
        {"method": method, "images": n, "similarity, randomised network": randomised, "seed-to-seed similarity": seed,
         "verdict": "fails" if fails else "passes"}
        for method, (randomised, seed, n, fails) in sanity_verdicts(sanity).items()
    ]  # fmt: skip
    import pandas as pd

    return (
        "<p>Cascading model randomisation (Adebayo et al. 2018): each method explained the first images again on a "
        "copy of the model whose layers were re-initialised from the top down; <code>similarity</code> is the "
        "Spearman correlation of that map with the trained model's map (Quantus' MPRT), at each checkpoint, the last "
        "one the fully randomised network. A method <em>fails</em> when its map of the fully randomised network is "
        "no less similar to the trained map than a second draw of the method is (1 for a deterministic method). "
        "Also in <code>sanity.csv</code>.</p>"
        + _table_html(pd.DataFrame(summary), index=False)
        + _table_html(sanity, index=False)
    )


def stability_figure(frame: Any, plan: StudyPlan) -> Any | None:
    """The relative stability columns (Agarwal et al. 2022: how far the map moved for how far the image, output or
    representation moved) of every perturbation on one axis, whatever its sweep: per method, the mean over images with
    its 95 % interval (lower: more stable). ``None`` without such columns."""
    from matplotlib.figure import Figure

    columns = [c for c in plan.columns if c.compares and not c.has_verdict and c.direction and not c.reference_only]
    if not columns or not len(frame):
        return None
    fig = Figure(figsize=(max(5.0, 1.1 * len(plan.perturbations) * len(plan.methods) / 2), 3.0 * len(columns)),
                 layout="constrained")  # fmt: skip
    axes = np.atleast_1d(fig.subplots(len(columns), 1, squeeze=False)).ravel()
    labels = [_wrapped(p.id, 18) for p in plan.perturbations]
    width = 0.8 / len(plan.methods)
    for ax, column in zip(axes, columns, strict=True):
        for m, method in enumerate(plan.method_names):
            rows = frame[frame["method"] == method]
            values = [
                rows[rows["perturbation"] == p.id][column.column].astype(float).dropna() for p in plan.perturbations
            ]
            means = [v.mean() if len(v) else np.nan for v in values]
            half = [1.96 * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0.0 for v in values]
            x = np.arange(len(values)) + (m - (len(plan.methods) - 1) / 2) * width
            ax.bar(x, means, width, yerr=half, capsize=2, label=f"{method} (n={max(len(v) for v in values)})")
        ax.set_xticks(np.arange(len(labels)), labels, fontsize=6, **PLAIN)
        ax.set_title(f"{column.column} per perturbation (mean, 95 % interval; lower: more stable)", fontsize=8, **PLAIN)
        ax.tick_params(labelsize=6)
        plain_legend(ax, fontsize=6)
    return fig


def mean_table(frame: Any, plan: StudyPlan) -> Any:
    """Per perturbation and method: ``n_images`` (its rows) and the mean of every measure over the rows that have it;
    a mean over fewer rows than ``n_images`` is shown with its count, ``0.123 (n=4)``."""
    import pandas as pd

    if not len(frame):
        return frame
    numeric = [c for c in frame.columns if c not in non_metric_columns(plan)]
    groups = frame.groupby(["perturbation", "method"], sort=False)
    means, counts, sizes = groups[numeric].mean(), groups[numeric].count(), groups.size()
    cells = means.astype(object)
    for column in numeric:
        fewer = (counts[column] < sizes) & (counts[column] > 0)
        cells.loc[fewer, column] = [
            f"{v:.4g} (n={k})" for v, k in zip(means.loc[fewer, column], counts.loc[fewer, column], strict=True)
        ]
    out = cells.reset_index()
    out.insert(2, "n_images", sizes.to_numpy())
    return pd.DataFrame(out)


def verdicts_figure(frame: Any, plan: StudyPlan, verdicts: Any) -> Any:
    """One panel per sweep and method: each comparison's mean change beyond the noise floor against strength with its
    interval (filled markers: "moves"), beside the share of images on which the model broke."""
    groups = sweeps(plan)
    methods = [m for m in plan.method_names if comparisons(plan, m)]
    samples = plan.task.sample_ids(frame)
    break_name = plan.task.outcome_names[1]
    title = (
        "Does each map move beyond its noise? Mean change beyond the noise floor, 90 % interval; filled: moves; "
        f"grey dashed: share of images on which the model broke ({break_name})"
    )
    # each panel's twin axis (the share of breaks) has its ticks and label on the right
    fig, axes = panel_grid(len(groups), len(methods), (2.9, 2.2), title=title, right=0.6, wgap=1.3)
    for r, members in enumerate(groups.values()):
        strengths = [p.strength for p in members]
        for c, method in enumerate(methods):
            ax = axes[r, c]
            for column in comparisons(plan, method):
                rows = verdicts[(verdicts["method"] == method) & (verdicts["metric"] == column.column)]
                rows = rows.set_index("perturbation").reindex([p.id for p in members])
                plot_change_beyond_noise(
                    ax, strengths, rows["change"], rows["ci_low"], rows["ci_high"], rows["verdict"] == MOVES,
                    label=f"{column.column} (n={int(rows['n_images'].min())})",
                )  # fmt: skip
            found = outcomes(samples, plan, method)
            rate = [float(np.nanmean(found[p.id][1])) if np.isfinite(found[p.id][1]).any() else np.nan for p in members]
            plot_break_rate(ax, strengths, rate, label=f"share {break_name}")
            ax.set_title(f"{method}: {sweep_name(members)}", fontsize=8, **PLAIN)
            ax.set_xlabel(members[0].axis, fontsize=7, **PLAIN)
            ax.set_ylabel("change beyond noise", fontsize=7, **PLAIN)
            ax.tick_params(labelsize=6)
            plain_legend(ax, fontsize=6)
    return fig


def write_report(
    store: ResultsStore,
    plan: StudyPlan,
    frame: Any,
    keys: Iterable[str] | None = None,
    verdicts: Any | None = None,
    robustness: Any | None = None,
    sanity: Any | None = None,
) -> Path:
    """Write ``figures/`` and ``report.html`` for a finished study.

    :param store: The study's output folder.
    :param plan: The study plan.
    :param frame: The results table (as written to ``results.csv``).
    :param keys: The run's items (default: every committed item). A resumed run whose source lost an image
        leaves that image's items in the folder; only the run's get figures (stale image figures are removed).
    :param verdicts: The verdicts table (:func:`~xaitk_wcam.study.verdicts.verdict_table`; computed when ``None``).
    :param robustness: The robustness table (:func:`~xaitk_wcam.study.verdicts.robustness_table`; computed when
        ``None``).
    :param sanity: The sanity check's table (:func:`~xaitk_wcam.study.sanity.sanity_table`), or ``None`` when the
        config does not ask for one.
    :return: Path of ``report.html``.
    """
    if verdicts is None:
        verdicts = verdict_table(frame, plan)
    if robustness is None:
        robustness = robustness_table(frame, plan)
    figures_dir = store.root / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    image_figs: list[Path] = []
    curve_figs: list[Path] = []
    profile_figs: list[Path] = []
    image_indices = sorted({r["image_index"] for r in store.records(keys)})
    for image_index in image_indices[:MAX_IMAGE_FIGURES]:
        for target in _figure_targets(store, plan, image_index):
            fig = image_figure(store, plan, image_index, target)
            suffix = "" if target is None else f"_{plan.task.figure_name}_{target}"
            if fig is not None:
                image_figs.append(_save(fig, figures_dir / f"image_{image_index:06d}{suffix}.png"))
    for stale in set(figures_dir.glob("image_*.png")) - set(image_figs):
        stale.unlink()
    stability_fig = stability_figure(frame, plan)
    if stability_fig is not None:
        stability_fig = _save(stability_fig, figures_dir / "relative_stability.png")
    summary_fig = None
    if len(frame) and not verdicts.empty:
        summary_fig = _save(verdicts_figure(frame, plan, verdicts), figures_dir / "verdicts.png")
    if len(frame):
        samples = plan.task.sample_ids(frame)
        for group, perturbations in _groups(plan).items():
            curve_figs.append(
                _save(curves_figure(samples, plan, group, perturbations), figures_dir / f"curves_{_slug(group)}.png")
            )
            for method in plan.wavelet_levels:
                fig = profile_figure(frame, plan, method, group, perturbations)
                if fig is not None:
                    profile_figs.append(_save(fig, figures_dir / f"profile_{_slug(group)}_{_slug(method)}.png"))

    summary = mean_table(_without_zero_profiles(frame, plan, warn=False), plan)  # profile_figure warned
    errors = frame[frame["status"] != "ok"][["image_id", "perturbation", "method", "status"]] if len(frame) else frame
    resolved = json.loads((store.root / "config.json").read_text(encoding="utf-8"))
    digest = json.loads((store.root / "study.json").read_text(encoding="utf-8"))["config_hash"]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Saliency robustness study</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Saliency robustness study</h1>",
        f"<p>Config hash <code>{digest}</code>; {frame['image_id'].nunique() if len(frame) else 0} images, "
        f"{len(plan.perturbations)} perturbations, {len(plan.methods)} saliency methods, {len(frame)} rows, "
        f"{len(errors)} rows with errors.</p>",
        "<h2>What this study found</h2>",
        "<p>Does each explanation move beyond its own noise under each perturbation, and does that movement go with "
        "the model breaking? (Details: <em>Verdicts</em> and <em>Robustness link</em> below.)</p>",
        matrix_html(frame, plan, verdicts, moved_counts(frame, plan)) if len(frame) and not verdicts.empty else "",
        _embed(summary_fig) if summary_fig is not None else "",
        _sanity_flags_html(sanity),
        findings_html(plan, verdicts, robustness) if len(frame) else "",
        "<h2>Mean per perturbation and method</h2>",
        f"<p>Each mean is over the images that have the value (a metric that failed on an image leaves the others' "
        f"values); <code>n_images</code> counts the rows of the group, and a cell over fewer images says so, "
        f"<em>(n=k)</em>. {_BLANKS}</p>",
        _table_html(_marked(summary, plan) if len(summary) else summary, index=False),
        "<h2>What the columns mean</h2>",
        _legend_html(plan),
        *(
            (
                "<h2>Relative stability of every perturbation on one scale</h2>",
                "<p>How far each map moved for how "
                "far the image (or the model's output or representation) moved (Agarwal et al. 2022): a perturbation "
                "that changes the image little but moves the map a lot scores high, whatever its sweep.</p>",
                _embed(stability_fig),
            )
            if stability_fig is not None
            else ()
        ),
        "<h2>Metrics versus strength</h2>",
        *[_embed(p) for p in curve_figs],
        "<h2>Scale profiles</h2>" if profile_figs else "",
        _zero_profiles_html(frame, plan) if profile_figs else "",
        *[_embed(p) for p in profile_figs],
        "<h2>Images and maps</h2>",
        *[_embed(p) for p in image_figs],
        "<h2>Verdicts: does each map move beyond its noise?</h2>",
        _verdicts_html(verdicts, plan),
        "<h2>Robustness link: does the movement go with the model breaking?</h2>",
        _robustness_html(robustness, plan),
        *(
            ("<h2>Sanity check: does each method explain the model?</h2>", _sanity_html(sanity))
            if sanity is not None
            else ()
        ),
        "<h2>Metrics that do not apply</h2>",
        _not_applicable_html(plan),
        "<h2>Errors</h2>",
        _table_html(errors, index=False) if len(errors) else "<p>None.</p>",
        "<h2>All results</h2>",
        f"<p>{_BLANKS}</p>",
        _table_html(_marked(frame, plan) if len(frame) else frame, index=False),
        "<h2>Resolved config</h2>",
        f"<pre>{html.escape(json.dumps(resolved, indent=2))}</pre>",
        "</body></html>",
    ]
    return store.write_file("report.html", lambda handle: handle.write("\n".join(parts)))
