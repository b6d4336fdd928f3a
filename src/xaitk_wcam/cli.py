"""The ``xaitk-wcam`` command line (click, like xaitk-saliency's and nrtk's own tools).

- ``xaitk-wcam study CONFIG OUT_DIR [--resume] [--executor SPEC]``: run a saliency-robustness study;
- ``xaitk-wcam explain IMAGE --out PNG [--model PATH_OR_ID]``: one WCAM figure for one image, with the model's
  prediction and its confidence, a progress bar and the wall time;
- ``xaitk-wcam plugins [NAME]``: every discovered classifier, image source, perturber, saliency and metric plugin;
  with ``NAME``, its parameters, their defaults and its summary (``--json``: all of it, for every plugin).

Every failure (a wrong config, an unreadable file, a read-only folder, a missing model, CUDA asked on a CPU
build, a dead worker pool, an unreachable Dask scheduler...) ends the command with one ``Error: ...`` line
and exit code 1; ``--debug`` shows the traceback instead. ``-v`` logs at DEBUG level, including what other
packages say while smqtk discovers plugins (``Failed to import psycopg2``...) and while a model loads
(transformers' "Loading weights" bars, its logged warnings, Python warnings of other packages), which is hidden
otherwise.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import sys
import textwrap
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

#: ``--model`` default: the offline ImageNet EfficientNet-Lite0 (a model alias, :mod:`xaitk_wcam.models`).
OFFLINE_MODEL = "efficientnet-lite0"

#: ``explain`` warns when the explained class's confidence is below this: the map explains a weak prediction.
LOW_CONFIDENCE = 0.3

LOG = logging.getLogger(__name__)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xaitk-wcam")
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level (plugin discovery messages included).")
@click.option("--debug", is_flag=True, help="Show the traceback of an error instead of one line.")
@click.pass_context
def main(ctx: click.Context, verbose: bool, debug: bool) -> None:
    """Wavelet-scale attribution (WCAM) and saliency-robustness studies."""
    from xaitk_wcam.utils.warning_display import show_each_warning_once

    ctx.obj = {"debug": debug, "verbose": verbose}
    show_each_warning_once()  # a study raises the same warning for every item
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    logging.getLogger("xaitk_wcam").setLevel(logging.DEBUG if verbose else logging.INFO)
    if not verbose:  # transformers' own bars ("Loading weights") are not this command's progress
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # read when transformers is imported
        if "transformers.utils.logging" in sys.modules:  # already imported (in-process callers)
            sys.modules["transformers.utils.logging"].disable_progress_bar()


@contextlib.contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn any failure into ``Error: <type>: <message>`` and exit code 1 (``--debug``: the traceback)."""
    try:
        yield
    except click.ClickException:
        raise
    except KeyboardInterrupt as err:
        raise click.ClickException("interrupted; what was committed is kept (study: --resume continues)") from err
    except Exception as err:
        ctx = click.get_current_context(silent=True)
        if ctx is not None and (ctx.find_root().obj or {}).get("debug"):
            raise
        message = " ".join(str(err).split()) or "(no message)"
        raise click.ClickException(f"{type(err).__name__}: {message} (--debug shows the traceback)") from err


@contextlib.contextmanager
def quiet_model_load(verbose: bool) -> Iterator[None]:
    """Hide what other packages print while a model loads, unless ``verbose`` (``-v``).

    transformers' progress bars ("Loading weights") and its logged warnings are turned off for the block (its
    errors still show); Python warnings of other packages are logged at DEBUG on this module's logger. This
    package's own warnings (a preprocessing that differs from the model's processor...) still show.
    """
    if verbose:
        yield
        return
    try:
        import transformers.utils.logging as hf_logging
    except ImportError:  # no hf extra: the model's own error says so
        hf_logging = None
    if hf_logging is not None:
        verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    package = str(Path(__file__).resolve().parent)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        if hf_logging is not None:
            hf_logging.set_verbosity(verbosity)
            if bars:
                with warnings.catch_warnings():  # huggingface_hub's "HF_HUB_DISABLE_PROGRESS_BARS has priority"
                    warnings.simplefilter("ignore")
                    hf_logging.enable_progress_bar()
    for warning in caught:
        if str(Path(warning.filename).resolve()).startswith(package):
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
        else:
            LOG.debug("while loading the model: %s: %s", warning.category.__name__, warning.message)


def failure_summary(statuses: list[str], top: int = 3) -> str:
    """``"4 rows failed; top causes: 3 x ValueError: ..., 1 x ..."`` for the non-``ok`` statuses."""
    failed = [status for status in statuses if status != "ok"]
    causes = collections.Counter(status[:160] for status in failed).most_common(top)
    return f"{len(failed)} rows failed; top causes: " + "; ".join(f"{n} x {cause}" for cause, n in causes)


@main.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--resume", is_flag=True, help="Keep and skip the items OUT_DIR already holds (same config only).")
@click.option(
    "--executor",
    default="local",
    show_default=True,
    help="Where items run, SCHEME[:ARGUMENT]: local, processes:N, dask:local:N, dask:ADDRESS, or any executor plugin "
    "(entry-point group xaitk_wcam.executors).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Torch threads per worker (equal values give identical results whatever the executor).",
)
@click.option("--retry-failed", is_flag=True, help="With --resume: compute the items recorded as failed again.")
@click.option(
    "--max-worker-deaths",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker deaths on one item after which it is recorded as failed and the study goes on.",
)
@click.option("--no-report", is_flag=True, help="Skip figures/ and report.html.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print what the study will cost (units, items, each method's model evaluations, memory) before any forward "
    "pass, then a time estimate from a few evaluations of the model on the first image; write nothing.",
)
def study(
    config: Path,
    out_dir: Path,
    resume: bool,
    executor: str,
    threads: int,
    retry_failed: bool,
    max_worker_deaths: int,
    no_report: bool,
    quiet: bool,
    dry_run: bool,
) -> None:
    """Run the saliency-robustness study of CONFIG (.json or .yaml) into OUT_DIR."""
    from xaitk_wcam.study import SaliencyRobustnessStudy

    with one_line_errors():
        runner = SaliencyRobustnessStudy.from_file(config)
        if dry_run:
            from xaitk_wcam.study.estimate import calibrate

            click.echo(f"dry run of {config} (config hash {runner.config_hash[:12]}, executor {executor}): nothing "
                       "is written")  # fmt: skip
            estimate = runner.estimate(out_dir, resume=resume, retry_failed=retry_failed, executor=executor,
                                       threads=threads, calibrate=False)  # fmt: skip
            click.echo(estimate.counts_text())
            click.echo("calibrating: building the model and timing its evaluations of the first image ...")
            calibrate(runner.plan, estimate, threads)
            click.echo(estimate.time_text() or "no image could be read: no time estimate")
            return
        frame = runner.run(
            out_dir,
            resume=resume,
            executor=executor,
            threads=threads,
            progress=not quiet,
            report=not no_report,
            retry_failed=retry_failed,
            max_worker_deaths=max_worker_deaths,
        )
    statuses = [str(s) for s in frame["status"]] if len(frame) else []
    errors = sum(status != "ok" for status in statuses)
    click.echo(f"{len(frame)} rows ({errors} with errors) in {out_dir / 'results.csv'}")
    if not no_report:
        click.echo(f"report: {out_dir / 'report.html'}")
    if errors:
        click.echo(failure_summary(statuses))


#: ``explain --method`` -> the method's name in the figure.
EXPLAIN_METHODS = {"wcam": "WCAM", "wam-sg": "WAM-SG", "wam-ig": "WAM-IG"}


def explain_method(
    method: str,
    *,
    grid_size: int,
    nb_design: int,
    estimator: str,
    budget: int | None = None,
    progress: bool | None = None,
    **common: Any,
) -> Any:
    """The generator ``xaitk-wcam explain --method`` names (WCAM's grid, design, estimator, budget and progress bar
    apply to it only; ``budget``: ``nb_design="auto"`` with ``max_evaluations=budget``)."""
    if method == "wcam":
        from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM

        design = {"nb_design": nb_design} if budget is None else {"nb_design": "auto", "max_evaluations": budget}
        return WCAM(grid_size=grid_size, estimator=estimator, progress=progress, **design, **common)
    from xaitk_wcam.impls.gen_image_classifier_whitebox_sal.wam import WAM

    return WAM(method={"wam-sg": "smooth", "wam-ig": "integrated"}[method], **common)


def explain_cost(generator: Any, name: str) -> str:
    """What an explanation will cost, before it runs: ``"WCAM: 6,288 forward passes (grid 28, nb_design 8)"``."""
    if name == "WCAM":
        if generator.nb_design == "auto":
            return (
                f"WCAM: up to {generator.max_evaluations:,} forward passes (grid {generator.grid_size}, nb_design "
                f"from 8 until the map's stability reaches {1 - generator.tolerance:.2f})"
            )
        size = f"grid {generator.grid_size}, nb_design {generator.nb_design}"
        return f"WCAM: {generator.n_evaluations:,} forward passes ({size})"
    return f"{name}: {generator.n_samples} forward+backward passes"


def _explicit(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source is not click.core.ParameterSource.DEFAULT


@main.command()
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="PNG to write.")
@click.option(
    "--model",
    default=OFFLINE_MODEL,
    show_default=True,
    help=f"A save_pretrained folder or a HuggingFace Hub id; '{OFFLINE_MODEL}' is the offline ImageNet model.",
)
@click.option(
    "--label",
    default=None,
    help="Class to explain, a label or its index (default: the top prediction). An unknown label lists the closest.",
)
@click.option(
    "--method",
    type=click.Choice(sorted(EXPLAIN_METHODS)),
    default="wcam",
    show_default=True,
    help="wcam: black-box Sobol masks (grid, design, budget and estimator apply); wam-sg / wam-ig: WAM's gradient "
    "with respect to the wavelet coefficients, SmoothGrad or Integrated Gradients, 25 forward+backward passes "
    "(needs the whitebox extra).",
)
@click.option("--levels", type=click.IntRange(min=1), default=3, show_default=True)
@click.option(
    "--grid-size",
    type=click.IntRange(min=1),
    default=28,
    show_default=True,
    help="Side of WCAM's grid over the wavelet layout (grid_size**2 + 2 passes per design point).",
)
@click.option(
    "--nb-design",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="WCAM's design size, a power of two: nb_design * (grid_size**2 + 2) forward passes.",
)
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    default=None,
    help="WCAM's forward-pass budget instead of --nb-design: the design grows from 8 (reusing every pass) until the "
    "map is stable or the next doubling would exceed BUDGET; at least 8 * (grid_size**2 + 2).",
)
@click.option("--wavelet", default="haar", show_default=True)
@click.option(
    "--estimator",
    type=click.Choice(["importance", "jansen", "homma", "janon"]),
    default="importance",
    show_default=True,
    help="Total-order estimator (see the README's sample-efficiency benchmark).",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "--backend",
    type=click.Choice(["torch", "onnxruntime"]),
    default="torch",
    show_default=True,
    help="Inference backend: onnxruntime is 4-8x faster on a CPU (needs the onnx extra; the first use of a model "
    "exports it, later ones read the cached graph).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="CPU threads of the model (torch's, which ONNX Runtime follows); default: torch's own default.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar (it shows only on a terminal anyway).")
@click.pass_context
def explain(
    ctx: click.Context,
    image: Path,
    out: Path,
    model: str,
    label: str | None,
    method: str,
    levels: int,
    grid_size: int,
    nb_design: int,
    budget: int | None,
    wavelet: str,
    estimator: str,
    batch_size: int,
    seed: int,
    backend: str,
    threads: int | None,
    quiet: bool,
) -> None:
    """Explain IMAGE in the wavelet domain (WCAM or WAM) and write one figure to --out.

    Prints the model's prediction and its confidence first (a warning when the explained class's confidence is below
    0.3: the model is unsure, and the map explains a weak prediction), then the cost, a progress bar of the forward
    passes (on a terminal), and the wall time.

    Cost: WCAM nb_design * (grid_size**2 + 2) forward passes (6,288 at the defaults; --budget caps it); WAM 25
    forward+backward.
    """
    if budget is not None and method != "wcam":
        raise click.UsageError(f"--budget applies to --method wcam only, not {method}")
    if budget is not None and _explicit(ctx, "nb_design"):
        raise click.UsageError("--budget and --nb-design both size WCAM's design: pass one of them")
    from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier
    from xaitk_wcam.interfaces.explainer import as_explainer
    from xaitk_wcam.sources.folder_images import read_image
    from xaitk_wcam.utils.confidences import classify, label_index
    from xaitk_wcam.utils.extras import require_extra
    from xaitk_wcam.viz.figures import uncertain_cells, wcam_figure

    started = time.perf_counter()
    verbose = bool((ctx.find_root().obj or {}).get("verbose"))
    with one_line_errors():
        require_extra("viz", "xaitk-wcam explain's figure")
        generator = explain_method(
            method,
            wavelet=wavelet,
            levels=levels,
            grid_size=grid_size,
            nb_design=nb_design,
            budget=budget,
            estimator=estimator,
            batch_size=batch_size,
            seed=seed,
            progress=False if quiet else None,
        )
        explainer = as_explainer(generator)
        if threads is not None:
            import torch

            torch.set_num_threads(threads)
        pixels = read_image(image)
        with quiet_model_load(verbose):
            classifier = HuggingFaceImageClassifier(model, backend=backend)
        labels = list(classifier.get_labels())
        confidences = classify(classifier, [[pixels]])[0]
        top = int(confidences.argmax())
        index = top if label is None else label_index(labels, label, "--label")
        target = labels[index]
        click.echo(f"prediction: {labels[top]} ({confidences[top]:.3f})")
        if index != top:
            click.echo(f"explaining: {target} ({confidences[index]:.3f})")
        if confidences[index] < LOW_CONFIDENCE:
            weak = "the model is unsure" if index == top else "the model gives this class a low confidence"
            click.echo(
                f"warning: {weak} ({target}: {confidences[index]:.3f} < {LOW_CONFIDENCE}); "
                "the map explains a weak prediction",
                err=True,
            )
        click.echo(explain_cost(generator, EXPLAIN_METHODS[method]))
        explaining = time.perf_counter()
        result = explainer.explain(pixels, classifier, [index])
        explained = time.perf_counter() - explaining
        fig = wcam_figure(
            pixels,
            result.wavelet_maps[0],
            result.spatial_maps[0],
            result.scale_profile[0],
            levels,
            method=EXPLAIN_METHODS[method],
            title=f"{image.name}: {target} ({confidences[index]:.2f}), {result.n_evaluations} evaluations"
            + ("" if result.stability is None else f", stability {result.stability:.2f}"),
            uncertain=uncertain_cells(result),
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=100)
    stability = "" if result.stability is None else f", stability {result.stability:.2f}"
    click.echo(
        f"{target} ({confidences[index]:.3f}): {out} ({result.n_evaluations:,} passes in {explained:.1f} s{stability}; "
        f"{time.perf_counter() - started:.1f} s in all)"
    )


def _plugin_classes() -> dict[str, dict[str, type]]:
    """Section -> public type string -> class, of every discovered plugin."""
    from xaitk_wcam.study.plugins import implementations, plugin_table

    table = plugin_table()
    return {section: {name: implementations(section)[name] for name in names} for section, names in table.items()}


def find_plugin(name: str, classes: dict[str, dict[str, type]]) -> list[tuple[str, str, type]]:
    """``(section, type string, class)`` of the plugins ``name`` selects: a type string (as a config writes it) or a
    class name (case-insensitive; several when it is ambiguous).

    :raises click.ClickException: No plugin has that name; the message lists the closest names.
    """
    from xaitk_wcam.utils.suggest import close_matches

    exact = [(s, key, cls) for s, names in classes.items() for key, cls in names.items() if key == name]
    if exact:
        return exact[:1]
    short = [
        (s, key, cls)
        for s, names in classes.items()
        for key, cls in names.items()
        if key.rsplit(".", 1)[-1].lower() == name.lower()
    ]
    if short:
        return short
    everything = [key for names in classes.values() for key in names]
    closest = close_matches(name, [key.rsplit(".", 1)[-1] for key in everything])
    closest += [key for key in close_matches(name, everything) if key.rsplit(".", 1)[-1] not in closest]
    hint = f"closest: {', '.join(closest[:5])}" if closest else "`xaitk-wcam plugins` lists them"
    raise click.ClickException(f"no plugin named {name!r} ({hint})")


def _describe(section: str, key: str, cls: type) -> list[str]:
    from xaitk_wcam.utils.plugin_info import plugin_info

    info = plugin_info(cls)
    lines = [f"{key}  [{section}]"]
    if info["summary"]:
        lines += textwrap.wrap(info["summary"], 100, initial_indent="  ", subsequent_indent="  ")
    lines.append("parameters (config key = default):" if info["parameters"] else "parameters: none")
    for param, spec in info["parameters"].items():
        value = "(required)" if spec["required"] else f"= {json.dumps(spec['default'])}"
        lines.append(f"  {param} {value}")
        if spec["description"]:
            lines += textwrap.wrap(spec["description"], 100, initial_indent="      ", subsequent_indent="      ")
    return lines


@main.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: every plugin's summary and parameters.")
def plugins(name: str | None, as_json: bool) -> None:
    """List every discovered plugin a study config can name, by config section; with NAME (a type string or a
    class name, e.g. WCAM or BrightnessPerturber), print its parameters with their defaults and its summary.

    --json prints {section: {type string: {"class", "summary", "parameters": {name: {"default", "required",
    "description"}}}}}.
    """
    from xaitk_wcam.utils.plugin_info import plugin_info

    with one_line_errors():
        classes = _plugin_classes()
    if name is not None:
        found = find_plugin(name, classes)
        if as_json:
            click.echo(json.dumps({key: {"section": s, **plugin_info(cls)} for s, key, cls in found}, indent=2))
            return
        click.echo("\n\n".join("\n".join(_describe(*entry)) for entry in found))
        return
    if as_json:
        table = {s: {key: plugin_info(cls) for key, cls in names.items()} for s, names in classes.items()}
        click.echo(json.dumps(table, indent=2))
        return
    for section, names in classes.items():
        click.echo(f"{section}:")
        for key in names:
            click.echo(f"  {key}")
        if not names:
            click.echo("  (none found)")
    click.echo("`xaitk-wcam plugins NAME` shows a plugin's parameters and defaults.")


if __name__ == "__main__":  # pragma: no cover
    main()
