"""Where a study's work units run: one interface, three implementations.

A work unit is one image and the perturbation items still to do (:class:`~xaitk_wcam.study.items.ImageUnit`).
A :class:`StudyExecutor` runs units and hands back a ``concurrent.futures.Future`` per unit whose result
is the list of item keys the unit committed to the results store. The runner has one loop for all of them
(submit while fewer than :attr:`StudyExecutor.max_in_flight` are pending, collect as they finish).

- ``local`` (:class:`LocalExecutor`, the default): in the calling process, one unit after the other;
- ``processes:N`` (:class:`ProcessExecutor`): a ``concurrent.futures.ProcessPoolExecutor`` of ``N``
  ``spawn``-ed workers, which end when the study's process ends, ``kill -9`` included (:func:`exit_with_parent`);
- ``dask:local:N`` / ``dask:ADDRESS`` (:class:`DaskExecutor`): a ``dask.distributed`` ``LocalCluster`` of
  ``N`` single-threaded worker processes, or an existing scheduler (``tcp://host:8786``), whose workers
  must see ``OUT_DIR`` at the same path (a shared filesystem), since each commits its items there.

Every executor receives the study's :class:`~xaitk_wcam.study.plan.StudyPlan`, resolved once by the caller;
each worker process builds its :class:`~xaitk_wcam.study.worker.StudyWorker` (the model, the metrics) once per study,
through :data:`WORKERS`,
and runs torch with the study's thread count (:func:`set_torch_threads`): torch's CPU kernels sum in an order
that depends on the thread count, so equal ``threads`` is what makes the results of all executors identical.

Executors are plugins: each is a :class:`StudyExecutor` subclass registered under the entry-point group
:data:`ENTRY_POINT_GROUP` by its scheme (this package registers ``local``, ``processes`` and ``dask`` in its
``pyproject.toml``), so another package adds one (``--executor myscheme:ARG``) without an edit here.
"""

from __future__ import annotations

import abc
import contextlib
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from typing import Any, ClassVar

from xaitk_wcam.study.errors import StudySetupError
from xaitk_wcam.study.items import ImageUnit
from xaitk_wcam.study.plan import StudyPlan
from xaitk_wcam.study.store import ResultsStore
from xaitk_wcam.study.worker import StudyWorker
from xaitk_wcam.utils.extras import require_extra

#: Entry-point group of the executor plugins: ``scheme = "package.module:ExecutorClass"``.
ENTRY_POINT_GROUP = "xaitk_wcam.executors"


class WorkerDied(RuntimeError):
    """The worker process running a unit died (crash, out-of-memory killer, ``os._exit``).

    :param detail: What is known of the death (exit code or signal, or the executor's message).
    :param isolated: Whether the unit ran alone from its submission to its end (so it caused the death); a
        process pool that breaks fails every unit it held, and only a rerun alone tells which.
    """

    def __init__(self, detail: str, isolated: bool) -> None:
        super().__init__(f"worker died ({detail})")
        self.detail, self.isolated = detail, isolated


class InFlight:
    """The units an executor is running, and whether each ran alone from submission to end.

    A worker death fails every unit its process (or its pool) held; it can be pinned on a unit only if no
    other unit was in flight at any moment while that unit was, which is what :meth:`ran_alone` says.
    """

    def __init__(self) -> None:
        self._shared: dict[Future, bool] = {}  # unit future -> whether another unit ran beside it
        self._lock = threading.Lock()

    def add(self, future: Future) -> None:
        """Count ``future`` in flight (before its done callback can run)."""
        with self._lock:
            for other in self._shared:
                self._shared[other] = True
            self._shared[future] = bool(self._shared)

    def ran_alone(self, future: Future) -> bool:
        with self._lock:
            return not self._shared.get(future, True)

    def settle(self, inner: Future, outer: Future, died: Callable[[BaseException], WorkerDied | None]) -> None:
        """Complete ``outer`` with the outcome of the finished ``inner``, a worker death turned into
        :class:`WorkerDied` by ``died``; ``inner`` leaves the count first, so a unit submitted once ``outer`` is
        done runs alone."""
        error = CancelledError("the executor cancelled the unit") if inner.cancelled() else inner.exception()
        if error is not None:
            error = died(error) or error
        with self._lock:
            self._shared.pop(inner, None)
        if error is None:
            outer.set_result(inner.result())
        else:
            outer.set_exception(error)


def set_torch_threads(threads: int | None) -> int | None:
    """Set torch's intra-op threads in this process; return the previous count (``None``: nothing done)."""
    if threads is None:
        return None
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    return previous


class WorkerCache:
    """The study workers of this process, one per config hash, built on first use (thread-safe).

    Building one loads the model, so a process that runs many units of one study loads it once.
    Importing plugin packages while building may reset torch's thread count, so the count is set after.
    """

    def __init__(self) -> None:
        self._workers: dict[str, StudyWorker] = {}
        self._lock = threading.Lock()

    def get(self, plan: StudyPlan, threads: int | None = None) -> StudyWorker:
        """This process's worker of the study ``plan``.

        :raises StudySetupError: The model or the metrics could not be built.
        """
        with self._lock:
            worker = self._workers.get(plan.digest)
            if worker is None:
                try:
                    worker = StudyWorker(plan)
                except Exception as err:
                    raise StudySetupError(f"a worker could not build the study: {type(err).__name__}: {err}") from err
                self._workers[plan.digest] = worker
            set_torch_threads(threads)
            return worker


#: The workers of this process (each pool or Dask worker process has its own).
WORKERS = WorkerCache()


#: Exit code of a pool worker that ends because the process that started it ended.
ORPHANED_EXIT_CODE = 70


def exit_with_parent() -> None:
    """In a worker process: end it as soon as the process that started it ends, however it ends (``kill -9``
    included), instead of living on under PID 1, blocked on a queue no one writes to.

    A daemon thread waits on ``multiprocessing.parent_process()``'s sentinel (a pipe the parent holds open on
    POSIX, the parent's process handle on Windows: no polling) and calls ``os._exit``. Once the pool's workers are
    gone, the resource tracker they share with the parent sees its pipe close and exits too.
    """
    import multiprocessing

    parent = multiprocessing.parent_process()
    if parent is None:  # not a multiprocessing child
        return

    def watch() -> None:
        parent.join()
        os._exit(ORPHANED_EXIT_CODE)

    threading.Thread(target=watch, name="xaitk-wcam-exit-with-parent", daemon=True).start()


def build_worker(plan: StudyPlan, threads: int | None) -> None:
    """Pool initializer: end with the parent (:func:`exit_with_parent`), then build this process's worker once,
    before its first unit."""
    exit_with_parent()
    WORKERS.get(plan, threads)


def process_unit(plan: StudyPlan, out_dir: str, unit: ImageUnit, threads: int | None) -> list[str]:
    """Task run by a pool or Dask worker: compute and commit one image's items; return the keys."""
    return WORKERS.get(plan, threads).run_unit(ResultsStore(out_dir), unit)


class StudyExecutor(abc.ABC):
    """Runs the units of one study.

    :param plan: The study plan.
    :param out_dir: The study's output folder (workers commit their items there).
    :param threads: Torch threads per worker.
    """

    #: How ``--executor`` names it (``SCHEME`` or ``SCHEME:ARGUMENT``), for help texts and errors.
    usage: ClassVar[str]

    def __init__(self, plan: StudyPlan, out_dir: str, threads: int | None) -> None:
        self.plan, self.out_dir, self.threads = plan, str(out_dir), threads

    @classmethod
    @abc.abstractmethod
    def parse(cls, argument: str) -> dict[str, Any]:
        """Keyword arguments of the constructor from the text after ``scheme:`` (``""`` when none).

        :raises ValueError: The argument is not understood.
        """

    @property
    def max_in_flight(self) -> int:
        """Units submitted but not finished at most (the runner waits for one before submitting more)."""
        return 1

    @abc.abstractmethod
    def submit(self, unit: ImageUnit, on_commit: Callable[[str], None] | None = None) -> Future:
        """Run ``unit``; the future's result is the list of keys it committed.

        :param on_commit: Called with each committed key, where the executor can (in this process).
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Stop the workers (and any cluster this executor started)."""

    def __enter__(self) -> StudyExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalExecutor(StudyExecutor):
    """Units run in this process, at ``submit``, one after the other; torch threads restored on close."""

    usage = "local"

    def __init__(self, plan: StudyPlan, out_dir: str, threads: int | None) -> None:
        super().__init__(plan, out_dir, threads)
        self._previous_threads = set_torch_threads(threads)
        #: This process's worker of the study (the runner reuses its model for the sanity check).
        self.worker = StudyWorker(plan)  # errors propagate as they are (config, missing model)
        set_torch_threads(threads)  # building may import plugin packages that reset it
        self._store = ResultsStore(out_dir)

    @classmethod
    def parse(cls, argument: str) -> dict[str, Any]:
        if argument:
            raise ValueError(f"executor 'local' takes no argument, got 'local:{argument}'; {accepted_executors()}")
        return {}

    def submit(self, unit: ImageUnit, on_commit: Callable[[str], None] | None = None) -> Future:
        """Run the unit now. ``KeyboardInterrupt`` and other non-``Exception`` errors propagate at once."""
        future: Future = Future()
        try:
            future.set_result(self.worker.run_unit(self._store, unit, on_commit=on_commit))
        except Exception as err:
            future.set_exception(err)
        return future

    def close(self) -> None:
        set_torch_threads(self._previous_threads)


def _worker_count(text: str, spec: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"executor {spec!r}: N must be a positive integer; {accepted_executors()}")
    return int(text)


class ProcessExecutor(StudyExecutor):
    """A ``ProcessPoolExecutor`` of ``workers`` ``spawn``-ed processes (safe with torch's thread pools); each
    builds its context in the pool's initializer. A worker that dies breaks the pool: every unit it was
    running fails with :class:`WorkerDied` and a new pool takes the next units."""

    usage = "processes:N"

    def __init__(self, plan: StudyPlan, out_dir: str, threads: int | None, workers: int) -> None:
        super().__init__(plan, out_dir, threads)
        self.workers = workers
        self._lock = threading.Lock()
        self._in_flight = InFlight()
        self._closed = False
        self._pool = self._new_pool()

    def _new_pool(self) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=build_worker,
            initargs=(self.plan, self.threads),
        )

    @classmethod
    def parse(cls, argument: str) -> dict[str, Any]:
        return {"workers": _worker_count(argument, f"processes:{argument}")}

    @property
    def max_in_flight(self) -> int:
        return 2 * self.workers

    def submit(self, unit: ImageUnit, on_commit: Callable[[str], None] | None = None) -> Future:
        from concurrent.futures.process import BrokenProcessPool

        outer: Future = Future()
        task = (process_unit, self.plan, self.out_dir, unit, self.threads)
        with self._lock:
            try:
                inner = self._pool.submit(*task)
            except BrokenProcessPool:  # broken before the callbacks of its units ran
                self._replace(self._pool)
                inner = self._pool.submit(*task)
            pool = self._pool
            processes = _exit_codes(pool)
        self._in_flight.add(inner)

        def died(error: BaseException) -> WorkerDied | None:
            if self._closed or not isinstance(error, BrokenProcessPool | CancelledError):
                return None
            with self._lock:
                self._replace(pool)
            detail = _exit_codes(pool, processes) or "the process pool broke"
            return WorkerDied(detail, isolated=self._in_flight.ran_alone(inner))

        inner.add_done_callback(lambda future: self._in_flight.settle(future, outer, died))
        return outer

    def _replace(self, pool: Any) -> None:
        """(Lock held.) The first to see ``pool`` broken starts a new pool for the next units."""
        if self._pool is pool and not self._closed:
            pool.shutdown(wait=False)
            self._pool = self._new_pool()

    def close(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)


def _exit_codes(pool: Any, before: dict[int, Any] | None = None) -> Any:
    """The pool's worker processes (``before is None``), or the exit codes or signals of those that died."""
    processes = dict(getattr(pool, "_processes", None) or {})  # private, best effort: it only words the status
    if before is None:
        return processes
    for process in {**before, **processes}.values():
        if getattr(process, "exitcode", 0) is None:
            process.join(timeout=2.0)  # the break can be seen before the exit status: wait for it, briefly
    codes = {getattr(process, "exitcode", None) for process in {**before, **processes}.values()} - {None, 0}
    if len(codes) > 1:
        codes.discard(-signal.SIGTERM)  # the pool terminating the other workers after the death
    return ", ".join(f"signal {signal.Signals(-c).name}" if c < 0 else f"exit code {c}" for c in sorted(codes))


class DaskExecutor(StudyExecutor):
    """Units as tasks of a ``dask.distributed`` cluster: a ``LocalCluster`` of ``workers`` single-threaded
    processes, or the scheduler at ``address``."""

    usage = "dask:local:N, dask:ADDRESS (e.g. dask:tcp://host:8786)"

    def __init__(
        self,
        plan: StudyPlan,
        out_dir: str,
        threads: int | None,
        workers: int | None = None,
        address: str | None = None,
    ) -> None:
        super().__init__(plan, out_dir, threads)
        require_extra("dask", "The dask executor")
        import dask
        from distributed import Client, LocalCluster

        self._cluster = None
        if address is None:
            # One task per worker, and a task whose worker dies is failed at once (KilledWorker): the study
            # records it and goes on (its own scheduler; a remote one keeps its own setting).
            with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                self._cluster = LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
                )
            self._client = Client(self._cluster)
        else:
            self._client = Client(address)
        self._executor = self._client.get_executor(pure=False)
        self._slots = workers or max(1, sum(self._client.nthreads().values()))
        self._in_flight = InFlight()

    @classmethod
    def parse(cls, argument: str) -> dict[str, Any]:
        if argument.startswith("local:"):
            return {"workers": _worker_count(argument.removeprefix("local:"), f"dask:{argument}")}
        if not argument:
            raise ValueError(f"executor 'dask' needs 'local:N' or a scheduler address; {accepted_executors()}")
        return {"address": argument}

    @property
    def max_in_flight(self) -> int:
        return 2 * self._slots

    def submit(self, unit: ImageUnit, on_commit: Callable[[str], None] | None = None) -> Future:
        from distributed import KilledWorker

        def died(error: BaseException) -> WorkerDied | None:
            # A dead worker fails every task it held (running or queued): only a unit alone is the culprit.
            if not isinstance(error, KilledWorker):
                return None
            detail = f"KilledWorker: {' '.join(str(error).split())[:200]}"
            return WorkerDied(detail, isolated=self._in_flight.ran_alone(inner))

        outer: Future = Future()
        inner = self._executor.submit(process_unit, self.plan, self.out_dir, unit, self.threads)
        self._in_flight.add(inner)
        inner.add_done_callback(lambda future: self._in_flight.settle(future, outer, died))
        return outer

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def executor_classes() -> dict[str, type[StudyExecutor]]:
    """Executor classes by scheme, from the :data:`ENTRY_POINT_GROUP` entry points (loaded on use).

    :raises TypeError: An entry point names something that is not a :class:`StudyExecutor` subclass.
    """
    from importlib.metadata import entry_points

    classes: dict[str, type[StudyExecutor]] = {}
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        cls = point.load()
        if not (isinstance(cls, type) and issubclass(cls, StudyExecutor)):
            raise TypeError(f"executor entry point {point.name!r} ({point.value}) is not a StudyExecutor subclass")
        classes[point.name] = cls
    return classes


def accepted_executors() -> str:
    """``"accepted: local, processes:N, ..."``: the usage of every registered executor."""
    return "accepted: " + ", ".join(cls.usage for cls in executor_classes().values())


def parse_executor(spec: str) -> tuple[type[StudyExecutor], dict[str, Any]]:
    """The executor class and its keyword arguments for an ``--executor`` value ``SCHEME[:ARGUMENT]``.

    :raises TypeError: ``spec`` is not a string.
    :raises ValueError: Unknown scheme or malformed argument.
    """
    if not isinstance(spec, str):
        raise TypeError(f"executor must be a string; {accepted_executors()}")
    scheme, _, argument = spec.partition(":")
    classes = executor_classes()
    if scheme not in classes:
        raise ValueError(f"executor {spec!r} is not understood; {accepted_executors()}")
    return classes[scheme], classes[scheme].parse(argument)


@contextlib.contextmanager
def open_executor(spec: str, plan: StudyPlan, out_dir: str, threads: int | None):
    """Start the executor of ``spec`` for one study; close it on exit."""
    cls, kwargs = parse_executor(spec)
    with cls(plan, out_dir, threads, **kwargs) as executor:
        yield executor
