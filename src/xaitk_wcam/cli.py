"""The ``xaitk-wcam`` command line (click, like xaitk-saliency's and nrtk's own tools).

- ``xaitk-wcam study CONFIG OUT_DIR [--resume] [--executor SPEC]``: run a saliency-robustness study;
- ``xaitk-wcam explain IMAGE --out PNG [--model PATH_OR_ID]``: one WCAM figure for one image;
- ``xaitk-wcam plugins``: every discovered classifier, image source, perturber, saliency and metric plugin.

Every failure (a wrong config, an unreadable file, a read-only folder, a missing model, CUDA asked on a CPU
build, a dead worker pool, an unreachable Dask scheduler...) ends the command with one ``Error: ...`` line
and exit code 1; ``--debug`` shows the traceback instead. ``-v`` logs at DEBUG level, including what other
packages say while smqtk discovers plugins (``Failed to import psycopg2``...), which is hidden otherwise.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

#: ``--model`` default: the offline ImageNet EfficientNet-Lite0 (a model alias, :mod:`xaitk_wcam.models`).
OFFLINE_MODEL = "efficientnet-lite0"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xaitk-wcam")
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level (plugin discovery messages included).")
@click.option("--debug", is_flag=True, help="Show the traceback of an error instead of one line.")
@click.pass_context
def main(ctx: click.Context, verbose: bool, debug: bool) -> None:
    """Wavelet-scale attribution (WCAM) and saliency-robustness studies."""
    ctx.obj = {"debug": debug}
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
) -> None:
    """Run the saliency-robustness study of CONFIG (.json or .yaml) into OUT_DIR."""
    from xaitk_wcam.study import SaliencyRobustnessStudy

    with one_line_errors():
        runner = SaliencyRobustnessStudy.from_file(config)
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


def explain_method(method: str, *, grid_size: int, nb_design: int, estimator: str, **common: Any) -> Any:
    """The generator ``xaitk-wcam explain --method`` names (WCAM's grid, design and estimator apply to it only)."""
    if method == "wcam":
        from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM

        return WCAM(grid_size=grid_size, nb_design=nb_design, estimator=estimator, **common)
    from xaitk_wcam.impls.gen_image_classifier_whitebox_sal.wam import WAM

    return WAM(method={"wam-sg": "smooth", "wam-ig": "integrated"}[method], **common)


@main.command()
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="PNG to write.")
@click.option(
    "--model",
    default=OFFLINE_MODEL,
    show_default=True,
    help=f"A save_pretrained folder or a HuggingFace Hub id; '{OFFLINE_MODEL}' is the offline ImageNet model.",
)
@click.option("--label", default=None, help="Class to explain (default: the top prediction).")
@click.option(
    "--method",
    type=click.Choice(sorted(EXPLAIN_METHODS)),
    default="wcam",
    show_default=True,
    help="wcam: black-box Sobol masks (grid, design and estimator apply); wam-sg / wam-ig: WAM's gradient with "
    "respect to the wavelet coefficients, SmoothGrad or Integrated Gradients, 25 forward+backward passes "
    "(needs the whitebox extra).",
)
@click.option("--levels", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--grid-size", type=click.IntRange(min=1), default=28, show_default=True)
@click.option("--nb-design", type=click.IntRange(min=1), default=8, show_default=True, help="A power of two.")
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
def explain(
    image: Path,
    out: Path,
    model: str,
    label: str | None,
    method: str,
    levels: int,
    grid_size: int,
    nb_design: int,
    wavelet: str,
    estimator: str,
    batch_size: int,
    seed: int,
) -> None:
    """Explain IMAGE in the wavelet domain (WCAM or WAM) and write one figure to --out.

    Cost: WCAM nb_design * (grid_size**2 + 2) forward passes (6,288 at the defaults); WAM 25 forward+backward.
    """
    from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier
    from xaitk_wcam.interfaces.explainer import as_explainer
    from xaitk_wcam.sources.folder_images import read_image
    from xaitk_wcam.utils.confidences import classify, label_index
    from xaitk_wcam.utils.extras import require_extra
    from xaitk_wcam.viz.figures import uncertain_cells, wcam_figure

    with one_line_errors():
        require_extra("viz", "xaitk-wcam explain's figure")
        explainer = as_explainer(
            explain_method(
                method,
                wavelet=wavelet,
                levels=levels,
                grid_size=grid_size,
                nb_design=nb_design,
                estimator=estimator,
                batch_size=batch_size,
                seed=seed,
            )
        )
        pixels = read_image(image)
        classifier = HuggingFaceImageClassifier(model)
        labels = list(classifier.get_labels())
        confidences = classify(classifier, [[pixels]])[0]
        index = int(confidences.argmax()) if label is None else label_index(labels, label, "--label")
        target = labels[index]
        result = explainer.explain(pixels, classifier, [index])
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
    click.echo(f"{target} ({confidences[index]:.3f}): {out}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of text.")
def plugins(as_json: bool) -> None:
    """List every discovered plugin a study config can name, by config section."""
    from xaitk_wcam.study.plugins import plugin_table

    with one_line_errors():
        table = plugin_table()
    if as_json:
        click.echo(json.dumps(table, indent=2))
        return
    for section, names in table.items():
        click.echo(f"{section}:")
        for name in names:
            click.echo(f"  {name}")
        if not names:
            click.echo("  (none found)")


if __name__ == "__main__":  # pragma: no cover
    main()
