"""``SaliencyRobustnessStudy``: nrtk perturbers x saliency generators x metrics over an image source."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import itertools
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from xaitk_wcam.interfaces.image_source import ImageSource, SourceRecord, iter_records
from xaitk_wcam.study.config import build_plugin, config_hash, load_config, resolve_config
from xaitk_wcam.study.errors import StudySetupError
from xaitk_wcam.study.executors import StudyExecutor, WorkerDied, open_executor, parse_executor
from xaitk_wcam.study.items import ImageUnit, attach_reference, commit_item, failed_item, image_hash
from xaitk_wcam.study.plan import StudyPlan
from xaitk_wcam.study.store import ResultsStore, item_key
from xaitk_wcam.study.verdicts import write_tables
from xaitk_wcam.utils.checks import check_int
from xaitk_wcam.utils.extras import require_extra

#: Torch intra-op threads per worker unless ``threads`` is given (see :meth:`SaliencyRobustnessStudy.run`).
DEFAULT_THREADS = 1


def iter_source(source: Any) -> Iterator[SourceRecord]:
    """Records of a source: an :class:`~xaitk_wcam.interfaces.image_source.ImageSource`'s own
    :meth:`~xaitk_wcam.interfaces.image_source.ImageSource.records`, or, for any other iterable of
    ``(image_id, image, label)``, :func:`~xaitk_wcam.interfaces.image_source.iter_records` of it."""
    return source.records() if isinstance(source, ImageSource) else iter_records(iter(source))


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
        require_extra("study", "A saliency-robustness study")
        self.config = dict(config)
        resolved = resolve_config(config)
        self.plan = StudyPlan.from_resolved(resolved, config_hash(resolved))

    @property
    def config_hash(self) -> str:
        """SHA-256 of the resolved config: what guards an output folder."""
        return self.plan.digest

    @classmethod
    def from_file(cls, path: str | Path) -> SaliencyRobustnessStudy:
        """Load a ``.json``/``.yaml`` study config."""
        return cls(load_config(path))

    def model_identity(self) -> dict[str, Any]:
        """The identity of the study's model: its files, code and libraries (:mod:`xaitk_wcam.study.identity`), which
        a resumed study checks."""
        from xaitk_wcam.study.identity import model_identity
        from xaitk_wcam.study.plugins import implementations

        section = self.plan.task.section
        entry = self.plan.resolved[section]
        return model_identity(implementations(section)[entry["type"]], entry[entry["type"]])

    # -- the image stream ---------------------------------------------------------------------------
    def _units(self, source: Any, store: ResultsStore, retry_failed: bool) -> Iterator[ImageUnit]:
        """One unit per image of the source, with the items still to do."""
        for index, record in enumerate(iter_source(source)):
            unit = ImageUnit(index, record.image_id, record.image, record.label, [], record.error)
            unit.image_hash = image_hash(record.image)
            done = (
                store.done(item_key(index, p), unit.image_id, unit.image_hash, retry_failed)
                for p in range(self.plan.n_items)
            )
            unit.todo = [p for p, is_done in enumerate(done) if not is_done]
            yield attach_reference(store, unit)

    # -- what it will cost ---------------------------------------------------------------------------
    def estimate(
        self,
        out_dir: str | Path | None = None,
        *,
        resume: bool = False,
        retry_failed: bool = False,
        executor: str = "local",
        threads: int | None = None,
        calibrate: bool = True,
    ) -> Any:
        """What :meth:`run` would cost, counted before any forward pass and writing nothing (``--dry-run``): units,
        items, each method's evaluations per item and in total, memory, and (``calibrate``) the time, from the
        model's evaluations of the first image (:mod:`xaitk_wcam.study.estimate`).

        :param out_dir: The run's output folder: checked as :meth:`run` checks it, and with ``resume`` only the
            items it does not hold are counted.
        :param calibrate: Build the model and time it (else counts only: no forward pass at all).
        :return: A :class:`~xaitk_wcam.study.estimate.StudyEstimate` (``report()`` is the dry run's text).
        :raises xaitk_wcam.study.store.OutDirError: :meth:`run` would refuse ``out_dir``.
        """
        from xaitk_wcam.study import estimate as cost

        cls, kwargs = parse_executor(executor)
        threads = DEFAULT_THREADS if threads is None else check_int("threads", threads, 1)
        store = None
        if out_dir is not None:
            store = ResultsStore(out_dir)
            store.check(self.plan.digest, resume)
        source = build_plugin("images", self.plan.resolved["images"], "images")

        def units() -> Iterator[ImageUnit]:
            for index, record in enumerate(iter_source(source)):
                unit = ImageUnit(index, record.image_id, record.image, record.label, [], record.error)
                todo = range(self.plan.n_items)
                if store is not None and resume:
                    unit.image_hash = image_hash(record.image)
                    todo = (p for p in todo if not store.done(item_key(index, p), unit.image_id, unit.image_hash,
                                                             retry_failed))  # fmt: skip
                unit.todo = list(todo)
                yield unit

        workers = 1 if cls.__name__ == "LocalExecutor" else kwargs.get("workers")
        estimate = cost.count(self.plan, units(), workers)
        if calibrate:
            cost.calibrate(self.plan, estimate, threads)
        return estimate

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
        retry_failed: bool = False,
        max_worker_deaths: int = 1,
    ) -> Any:
        """Run the study into ``out_dir``; return the results table (a ``pandas.DataFrame``).

        :param out_dir: Output folder (see :mod:`xaitk_wcam.study.store` for its layout).
        :param resume: Keep and skip the items already committed in ``out_dir`` (same config hash only; an image
            whose content changed under its id is recomputed, with a warning).
        :param executor: ``local``, ``processes:N``, ``dask:local:N``, ``dask:ADDRESS``, ``ray:local:N``,
            ``ray:ADDRESS``, options after ``?`` (:mod:`xaitk_wcam.study.executors`). Under ``dask`` and ``ray`` the
            workers return their items and this process commits them: they need not see ``out_dir``.
        :param threads: Torch intra-op threads per worker (``local``: in this process, restored afterwards).
            Default :data:`DEFAULT_THREADS` (1) for every executor: torch's CPU kernels sum in an order that
            depends on the thread count (last-bit differences), so equal ``threads`` is what makes the results
            of ``local``, ``processes:N`` and Dask identical. Raise it when workers are fewer than cores.
        :param progress: Show a tqdm bar over images x items (with a total and an ETA when the image source
            knows its length).
        :param report: Write ``figures/`` and ``report.html`` after the table.
        :param retry_failed: With ``resume``, compute again the items recorded as failed.
        :param max_worker_deaths: Deaths of a worker process on one item after which the item is recorded as
            failed (``worker died (...)``, skipped by ``resume`` unless ``retry_failed``) and the study goes on;
            a death that cannot be pinned on one item (a process pool running several) is retried with the item
            alone first. A crash of the calling process itself (``local``) ends the run; ``resume`` continues it.
        :raises xaitk_wcam.study.store.OutDirError: ``out_dir`` holds another study, or this one without
            ``resume``.
        :raises StudySetupError: A worker could not build the classifier.
        """
        parse_executor(executor)  # a wrong value fails before anything is written
        threads = DEFAULT_THREADS if threads is None else check_int("threads", threads, 1)
        max_worker_deaths = check_int("max_worker_deaths", max_worker_deaths, 1)
        store = ResultsStore(out_dir)
        model = self.model_identity()
        store.check(self.plan.digest, resume, model)  # before anything is built or written
        with store.lock():
            store.check(self.plan.digest, resume, model)  # again, now that no other run can change the folder
            source = build_plugin("images", self.plan.resolved["images"], "images")
            try:
                total: int | None = len(source) * self.plan.n_items
            except TypeError:
                total = None
            units = self._units(source, store, retry_failed)
            read = _until_work(units)
            # No executor when nothing is left to do (a finished study resumed: only the tables and the report are
            # written again). The local executor loads the classifier here: a start that fails writes no study.json.
            idle = not read or not read[-1].todo
            opened = contextlib.nullcontext() if idle else open_executor(executor, self.plan, str(store.root), threads)
            with opened as pool:
                store.prepare(self.plan.resolved, self.plan.digest, resume, model)
                bar = _progress_bar(total, progress)
                try:
                    units = itertools.chain(read, units)
                    keys = _Dispatcher(self, pool, store, bar, max_worker_deaths).run(units)
                finally:
                    bar.close()
                sanity = self._sanity_check(pool, store, keys, threads)
            frame = store.assemble(self.plan.row_columns(), self.plan.text_columns, keys)
            verdicts, robustness = write_tables(store, frame, self.plan)
            if report:
                from xaitk_wcam.study.report import write_report

                write_report(store, self.plan, frame, keys, verdicts, robustness, sanity)  # the run's items only
        return frame

    def _sanity_check(
        self, pool: StudyExecutor | None, store: ResultsStore, keys: list[str], threads: int
    ) -> Any | None:
        """``sanity.csv`` when the config asks for it (:mod:`xaitk_wcam.study.sanity`), run in this process on the
        local executor's worker or a worker built here; ``None`` otherwise."""
        if "sanity_check" not in self.plan.resolved:
            return None
        from xaitk_wcam.study.executors import set_torch_threads
        from xaitk_wcam.study.sanity import sanity_table
        from xaitk_wcam.study.worker import StudyWorker

        worker = getattr(pool, "worker", None)
        if worker is None:
            previous = set_torch_threads(threads)
            worker = StudyWorker(self.plan)
        else:
            previous = None
        try:
            images = sorted({int(key.split("-")[0]) for key in keys})
            table = sanity_table(self.plan, worker, store, images)
        finally:
            set_torch_threads(previous)
        store.write_table("sanity.csv", table)
        return table


class _Dispatcher:
    """Submits units to an executor, at most ``max_in_flight`` at a time, commits the items its workers return, and
    survives dying workers.

    Items returned by the workers (:attr:`StudyExecutor.returned <xaitk_wcam.study.executors.StudyExecutor.returned>`)
    are committed here, one by one, in the order they arrive (a unit's in its own order), through the one commit path
    (:func:`~xaitk_wcam.study.items.commit_item`); every item of a unit is committed before its end is handled.

    A unit whose worker died alone (:class:`~xaitk_wcam.study.executors.WorkerDied` with ``isolated``) counts
    one death on the item it was computing (its first uncommitted item); at ``max_deaths`` that item is
    recorded as failed and the unit goes on with the rest. Units that were running together when a process
    pool broke are suspects: each is run again alone, which pins the death on the right one.
    """

    def __init__(self, study: SaliencyRobustnessStudy, pool: StudyExecutor | None, store: ResultsStore, bar: Any,
                 max_deaths: int) -> None:  # fmt: skip
        """``pool`` is ``None`` when no unit has items to do."""
        self.study, self.pool, self.store, self.bar, self.max_deaths = study, pool, store, bar, max_deaths
        self.returned = None if pool is None else pool.returned
        self.pending: dict[cf.Future, ImageUnit] = {}
        self.suspects: deque[ImageUnit] = deque()
        self.retries: deque[ImageUnit] = deque()
        self.expected: set[str] = set()
        self.done_before = 0
        self.deaths: Counter[str] = Counter()

    def run(self, units: Iterator[ImageUnit]) -> list[str]:
        """Dispatch every unit; return the keys of all items of the study, in order."""
        n_items, keys = self.study.plan.n_items, []
        try:
            for unit in units:
                keys += [item_key(unit.image_index, p) for p in range(n_items)]
                self.done_before += n_items - len(unit.todo)
                if self.returned is not None and len(unit.todo) < n_items:
                    self.bar.update(n_items - len(unit.todo))  # done before this run
                if unit.todo:
                    self.expected.update(item_key(unit.image_index, p) for p in unit.todo)
                    self._submit(unit, self.pool.max_in_flight)
                self._handle_deaths()
            while self.pending or self.suspects or self.retries:  # a rerun may be pending, or die again
                self._collect(0)
                self._handle_deaths()
        except BaseException:
            for future in self.pending:
                future.cancel()
            raise
        return keys

    def _submit(self, unit: ImageUnit, max_in_flight: int) -> None:
        future = self.pool.submit(unit, on_commit=lambda _key: self.bar.update(1))
        self.pending[future] = unit
        if self.returned is not None:
            future.add_done_callback(lambda _future: self.returned.wake())  # type: ignore[union-attr]
        self._collect(max_in_flight - 1)

    def _handle_deaths(self) -> None:
        while self.suspects or self.retries:
            if self.suspects:  # alone: nothing else runs, so a death is this unit's
                self._collect(0)
                self._submit(self.suspects.popleft(), 1)
            else:
                self._submit(self.retries.popleft(), self.pool.max_in_flight)

    def _collect(self, block_until: int) -> None:
        while len(self.pending) > block_until:
            if self.returned is None:
                finished, _ = cf.wait(self.pending, timeout=0.5, return_when=cf.FIRST_COMPLETED)
            else:
                self.returned.wait(timeout=0.5)
                finished = {future for future in self.pending if future.done()}  # their items are all returned
                self._commit_returned()
            for future in finished:
                unit = self.pending.pop(future)
                try:
                    future.result()  # a worker that could not build the study, or an I/O error: stop
                except WorkerDied as death:
                    self._died(unit, death)
            if self.returned is None:  # the workers commit: count what the store holds
                self.bar.n = self.done_before + len(self.store.committed_keys() & self.expected)
                self.bar.refresh()
        self._commit_returned()

    def _commit_returned(self) -> None:
        """Commit every item the workers returned so far, in arrival order."""
        if self.returned is None:
            return
        plan = self.study.plan
        while (returned := self.returned.take()) is not None:
            unit, p_index, item = returned
            try:
                commit_item(self.store, plan, unit, p_index, item)
            finally:
                self.returned.release()
            self.bar.update(1)

    def _died(self, unit: ImageUnit, death: WorkerDied) -> None:
        committed = self.store.committed_keys()
        unit.todo = [p for p in unit.todo if item_key(unit.image_index, p) not in committed]
        if not unit.todo:
            return
        if not death.isolated:
            self.suspects.append(attach_reference(self.store, unit))
            return
        key = item_key(unit.image_index, unit.todo[0])
        self.deaths[key] += 1
        if self.deaths[key] >= self.max_deaths:
            plan = self.study.plan
            commit_item(self.store, plan, unit, unit.todo[0], failed_item(plan, unit, unit.todo[0], str(death)))
            self.bar.update(1)
            unit.todo = unit.todo[1:]
        if unit.todo:
            self.retries.append(attach_reference(self.store, unit))


def _until_work(units: Iterator[ImageUnit]) -> list[ImageUnit]:
    """The units of ``units`` up to and including the first with items to do (all of them when none has)."""
    read = []
    for unit in units:
        read.append(unit)
        if unit.todo:
            break
    return read


def _progress_bar(total: int | None, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="images x perturbations", unit="item", disable=not enabled, dynamic_ncols=True)


__all__ = ["SaliencyRobustnessStudy", "StudySetupError"]
