"""``SaliencyRobustnessStudy``: nrtk perturbers x saliency generators x metrics over an image source."""

from __future__ import annotations

import concurrent.futures as cf
import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from xaitk_wcam.study.config import build_plugin, config_hash, load_config, resolve_config
from xaitk_wcam.study.executors import (
    InlineExecutor,
    StudySetupError,
    open_executor,
    parse_executor,
    process_unit,
    register_context,
    set_torch_threads,
)
from xaitk_wcam.study.spec import StudySpec
from xaitk_wcam.study.store import ResultsStore, item_key
from xaitk_wcam.study.work import ImageUnit, StudyContext, run_unit

#: Torch intra-op threads per worker unless ``threads`` is given (see :meth:`SaliencyRobustnessStudy.run`).
DEFAULT_THREADS = 1

#: Consecutive failures of an image source's iterator after which the study stops reading it.
MAX_SOURCE_FAILURES = 100


def iter_source(source: Any) -> Iterator[tuple[str, Any, Any, str | None]]:
    """``(image_id, image, label, error)`` for each image of a source; a bad image does not end the stream.

    For an :class:`~xaitk_wcam.interfaces.image_source.ImageSource`, images are read with its
    ``_iter_images`` (the template's reading step) and normalised one by one with ``as_hwc_uint8``, so that
    an image of a wrong shape becomes an ``error`` instead of ending the source's own ``__iter__``. Any other
    iterable of ``(image_id, image, label)`` is read as is; an exception from its iterator is recorded and
    reading goes on (a generator that raised ends there). A source may yield an exception instance in place of
    an image it could not read: it is recorded as that image's error.
    """
    from xaitk_wcam.interfaces.image_source import ImageSource, as_hwc_uint8

    if isinstance(source, ImageSource):
        records = source._iter_images()
        if source.limit is not None:
            records = itertools.islice(records, source.limit)

        def normalise(image_id: str, image: Any) -> np.ndarray:
            return as_hwc_uint8(image, image_id=image_id)
    else:
        records = iter(source)

        def normalise(image_id: str, image: Any) -> np.ndarray:
            return image

    index = failures = 0
    while failures < MAX_SOURCE_FAILURES:
        try:
            item = next(records)
        except StopIteration:
            return
        except Exception as err:
            failures += 1
            yield f"#{index}", None, None, f"{type(err).__name__}: {err}"
            index += 1
            continue
        failures = 0
        try:
            image_id, image, label = item
        except (TypeError, ValueError):
            yield f"#{index}", None, None, f"the image source gave {type(item).__name__}, not (image_id, image, label)"
        else:
            if isinstance(image, BaseException):  # a source that reports an unreadable image in its place
                yield str(image_id), None, label, f"{type(image).__name__}: {image}"
                index += 1
                continue
            try:
                yield str(image_id), normalise(str(image_id), image), label, None
            except Exception as err:
                yield str(image_id), None, label, f"{type(err).__name__}: {err}"
        index += 1


class SaliencyRobustnessStudy:
    """How saliency maps change when nrtk perturbs the images a classifier sees.

    For every image of the source x perturbation (the unperturbed reference included) x saliency method,
    the study records the classifier's prediction, the map of the target class, every metric (map
    metrics, comparisons with the reference map of the same image and method, faithfulness) and, for
    WCAM, the scale profile. Follows the perturbation-versus-saliency exploration of nrtk's
    ``nrtk_saliency`` notebook, and the spectral (wavelet) view of robustness of Kasmi et al., "Assessment of
    the Reliability of a Model's Decision by Generalizing Attribution to the Wavelet Domain" (2023).

    Cost: per image, ``(1 + P)`` items, each one classification plus, per method, the method's own forward
    passes (WCAM: ``nb_design * (grid_size**2 + 2)`` images) and the faithfulness metrics' passes.

    :param config: A study config (see :mod:`xaitk_wcam.study.config`); validated here, before any model
        is loaded: unknown plugin types, wrong parameters and malformed sections raise
        :class:`~xaitk_wcam.study.config.StudyConfigError` (a ``ValueError``).
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = dict(config)
        self.resolved = resolve_config(config)
        self.config_hash = config_hash(self.resolved)
        self.spec = StudySpec.from_resolved(self.resolved)

    @classmethod
    def from_file(cls, path: str | Path) -> SaliencyRobustnessStudy:
        """Load a ``.json``/``.yaml`` study config."""
        return cls(load_config(path))

    # -- the image stream ---------------------------------------------------------------------------
    def _units(self, source: Any, store: ResultsStore) -> Iterator[ImageUnit]:
        n_items = len(self.spec.perturbations) + 1
        for index, (image_id, image, label, error) in enumerate(iter_source(source)):
            unit = ImageUnit(index, image_id, image, label, [], error=error)
            unit.todo = [p for p in range(n_items) if not store.done(item_key(index, p), unit.image_id)]
            yield unit

    # -- running ------------------------------------------------------------------------------------
    def run(
        self,
        out_dir: str | Path,
        *,
        resume: bool = False,
        executor: str = "local",
        threads: int | None = None,
        progress: bool = True,
        report: bool = True,
    ) -> Any:
        """Run the study into ``out_dir``; return the results table (a ``pandas.DataFrame``).

                :param out_dir: Output folder (see :mod:`xaitk_wcam.study.store` for its layout).
                :param resume: Keep and skip the items already committed in ``out_dir`` (same config hash only).
                :param executor: ``local``, ``processes:N``, ``dask:local:N`` or ``dask:ADDRESS``.
        :param threads: Torch intra-op threads per worker (``local``: in this process, restored afterwards).
                    Default :data:`DEFAULT_THREADS` (1) for every executor: torch's CPU kernels sum in an order that
                    depends on the thread count (last-bit differences), so equal ``threads`` is what makes the results
                    of ``local``, ``processes:N`` and Dask identical. Raise it when workers are fewer than cores.
                :param progress: Show a tqdm bar over images x perturbations.
                :param report: Write ``figures/`` and ``report.html`` after the table.
                :raises xaitk_wcam.study.store.OutDirError: ``out_dir`` holds another study, or this one without
                    ``resume``.
                :raises StudySetupError: A worker could not build the classifier.
        """
        exec_spec = parse_executor(executor)
        if threads is None:
            threads = DEFAULT_THREADS
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive integer, got {threads!r}")
        store = ResultsStore(out_dir)
        store.prepare(self.resolved, self.config_hash, resume)
        source = build_plugin("images", self.resolved["images"], "images")
        n_items = len(self.spec.perturbations) + 1
        try:
            total: int | None = len(source) * n_items
        except TypeError:
            total = None
        bar = _progress_bar(total, progress)
        keys: list[str] = []
        try:
            if exec_spec.parallel:
                keys = self._run_pool(exec_spec, source, store, bar, threads)
            else:
                previous = set_torch_threads(threads)
                try:
                    ctx = StudyContext(self.resolved, self.config_hash)
                    register_context(ctx)
                    set_torch_threads(threads)  # again: importing some plugin packages resets it
                    inline = InlineExecutor()  # the same Executor interface as the pools, in this process
                    for unit in self._units(source, store):
                        keys += [item_key(unit.image_index, p) for p in range(n_items)]
                        bar.update(n_items - len(unit.todo))
                        inline.submit(run_unit, ctx, store, unit, on_commit=lambda _key: bar.update(1)).result()
                finally:
                    set_torch_threads(previous)
        finally:
            bar.close()
        frame = store.assemble(self.spec.row_columns(), keys)
        if report:
            from xaitk_wcam.study.report import write_report

            write_report(store, self.spec, frame)
        return frame

    def _run_pool(self, exec_spec: Any, source: Any, store: ResultsStore, bar: Any, threads: int) -> list:
        n_items = len(self.spec.perturbations) + 1
        max_in_flight = 2 * (exec_spec.workers or 4)
        keys: list[str] = []
        done_before = 0
        expected: set[str] = set()
        with open_executor(exec_spec, self.resolved, self.config_hash, threads) as pool:
            pending: set[cf.Future] = set()

            def drain(block_until: int) -> None:
                while len(pending) > block_until:
                    finished, _ = cf.wait(pending, timeout=0.5, return_when=cf.FIRST_COMPLETED)
                    for fut in finished:
                        pending.discard(fut)
                        fut.result()  # a worker that could not build the study, or an I/O error: stop
                    bar.n = done_before + len(store.committed_keys() & expected)
                    bar.refresh()

            try:
                for unit in self._units(source, store):
                    unit_keys = [item_key(unit.image_index, p) for p in range(n_items)]
                    keys += unit_keys
                    if not unit.todo:
                        done_before += n_items
                        continue
                    done_before += n_items - len(unit.todo)
                    expected.update(item_key(unit.image_index, p) for p in unit.todo)
                    pending.add(
                        pool.submit(process_unit, self.resolved, self.config_hash, str(store.root), unit, threads)
                    )
                    drain(max_in_flight - 1)
                drain(0)
            except BaseException:
                for fut in pending:
                    fut.cancel()
                raise
        return keys


def _progress_bar(total: int | None, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="images x perturbations", unit="item", disable=not enabled, dynamic_ncols=True)


__all__ = ["SaliencyRobustnessStudy", "StudySetupError"]
