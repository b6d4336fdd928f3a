"""Where a study's work units run: one interface, four implementations.

A work unit is one image and the perturbation items still to do (:class:`~xaitk_wcam.study.items.ImageUnit`).
A :class:`StudyExecutor` runs units and hands back a ``concurrent.futures.Future`` per unit whose result
is the list of item keys the unit computed. The runner has one loop for all of them
(submit while fewer than :attr:`StudyExecutor.max_in_flight` are pending, collect as they finish).

Items reach ``OUT_DIR`` by one of two paths, both through :func:`~xaitk_wcam.study.items.commit_item` (atomic):

- **in the worker** (``local``, ``processes:N``): the worker commits each item itself, so ``OUT_DIR`` must be a
  folder it can write (the study's own machine);
- **returned** (:class:`ReturningExecutor`: ``dask``, ``ray``): the worker returns each item (its rows and arrays)
  as soon as it is computed and only the study's process commits it, in order, so the workers need not see
  ``OUT_DIR`` at all (a Kubernetes or cloud cluster with no shared file system). The study's process holds at
  most :attr:`ReturningExecutor.max_items` returned items not yet committed (:class:`ReturnedItems`): when that
  many wait, it fetches no more and the workers' results wait where they were computed.

Executors:

- ``local`` (:class:`LocalExecutor`, the default): in the calling process, one unit after the other;
- ``processes:N`` (:class:`ProcessExecutor`): a ``concurrent.futures.ProcessPoolExecutor`` of ``N``
  ``spawn``-ed workers, which end when the study's process ends, ``kill -9`` included (:func:`exit_with_parent`);
- ``dask:local:N`` / ``dask:ADDRESS`` (:class:`DaskExecutor`): a ``dask.distributed`` ``LocalCluster`` of
  ``N`` single-threaded worker processes, or an existing scheduler (``tcp://host:8786``); each item is one task;
- ``ray:local:N`` / ``ray:ADDRESS`` (:class:`~xaitk_wcam.study.ray_executor.RayExecutor`, the ``ray`` extra): actors
  of a local Ray cluster, or of an existing one (``auto``, ``host:6379``, ``ray://host:10001``).

Every executor receives the study's :class:`~xaitk_wcam.study.plan.StudyPlan`, resolved once by the caller;
each worker process builds its :class:`~xaitk_wcam.study.worker.StudyWorker` (the model, the metrics) once per study,
through :data:`WORKERS`,
and runs torch with the study's thread count (:func:`set_torch_threads`): torch's CPU kernels sum in an order that
depends on the thread count, so equal ``threads`` is what makes the results of all executors identical.

Executors are plugins: each is a :class:`StudyExecutor` subclass registered under the entry-point group
:data:`ENTRY_POINT_GROUP` by its scheme (this package registers ``local``, ``processes``, ``dask`` and ``ray`` in its
``pyproject.toml``), so another package adds one (``--executor myscheme:ARG``) without an edit here. Options follow
the argument as a query string: ``ray:local:2?num_gpus=0.5&max_items=8`` (:func:`split_options`).
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import multiprocessing.connection
import os
import signal
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from typing import Any, ClassVar

from xaitk_wcam.study.errors import StudySetupError
from xaitk_wcam.study.items import ImageUnit, Item
from xaitk_wcam.study.plan import StudyPlan
from xaitk_wcam.study.store import ResultsStore, item_key
from xaitk_wcam.study.worker import StudyWorker
from xaitk_wcam.utils.checks import check_float, check_int
from xaitk_wcam.utils.extras import require_extra
from xaitk_wcam.utils.warning_display import show_each_warning_once

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

    def ran_alone(self, future: Any) -> bool:
        """Whether ``future`` (any token given to :meth:`add`) has been the only one in flight since it was added."""
        with self._lock:
            return not self._shared.get(future, True)

    def discard(self, future: Any) -> None:
        """``future`` is no longer in flight."""
        with self._lock:
            self._shared.pop(future, None)

    def settle(self, inner: Future, outer: Future, died: Callable[[BaseException], WorkerDied | None]) -> None:
        """Complete ``outer`` with the outcome of the finished ``inner``, a worker death turned into
        :class:`WorkerDied` by ``died``; ``inner`` leaves the count first, so a unit submitted once ``outer`` is
        done runs alone."""
        error = CancelledError("the executor cancelled the unit") if inner.cancelled() else inner.exception()
        if error is not None:
            error = died(error) or error
        with self._lock:
            self._shared.pop(inner, None)
        if outer.cancelled():  # the study stopped waiting for it
            return
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
    """Pool initializer: end with the parent (:func:`exit_with_parent`), show each warning once, then build this
    process's worker once, before its first unit."""
    exit_with_parent()
    show_each_warning_once()
    WORKERS.get(plan, threads)


def process_unit(plan: StudyPlan, out_dir: str, unit: ImageUnit, threads: int | None) -> list[str]:
    """Task run by a pool worker: compute and commit one image's items; return the keys."""
    return WORKERS.get(plan, threads).run_unit(ResultsStore(out_dir), unit)


def compute_item(plan: StudyPlan, unit: ImageUnit, p_index: int, reference: Item | None, threads: int | None) -> Item:
    """Task run by a Dask worker (the return path): item ``p_index`` of ``unit``'s image, returned, not committed.

    :param reference: The image's reference item as computed by an earlier task (Dask keeps it where it was computed
        and hands it to the tasks that follow), or ``None``: the reference item itself, or a unit that carries its
        committed reference (:attr:`~xaitk_wcam.study.items.ImageUnit.reference_item`).
    """
    one = dataclasses.replace(unit, todo=[p_index])
    if reference is not None:
        one.reference_item = (reference.body, reference.arrays)
    ((_, item),) = WORKERS.get(plan, threads).compute_unit(one)
    return item


class StudyExecutor(abc.ABC):
    """Runs the units of one study.

    :param plan: The study plan.
    :param out_dir: The study's output folder (workers commit their items there).
    :param threads: Torch threads per worker.
    """

    #: How ``--executor`` names it (``SCHEME`` or ``SCHEME:ARGUMENT``), for help texts and errors.
    usage: ClassVar[str]

    #: Where its workers return their items for the study's process to commit (:class:`ReturningExecutor`); ``None``
    #: when the workers commit them to ``OUT_DIR`` themselves.
    returned: ReturnedItems | None = None

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
        """Run ``unit``; the future's result is the list of keys it computed (committed by the worker, or returned
        through :attr:`returned` before the future completes).

        :param on_commit: Called with each key the worker committed, where the executor can (in this process).
        :raises WorkerDied: (through the future) The worker died while it ran the unit.
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
    everyone = [p for p in {**before, **processes}.values() if hasattr(p, "sentinel") and hasattr(p, "exitcode")]
    if everyone and all(p.exitcode is None for p in everyone):
        # The break can be seen before the exit status: wait, briefly, for the first process to end (the dead one;
        # the others live on until the pool terminates them, after this callback).
        ended = multiprocessing.connection.wait([p.sentinel for p in everyone], timeout=2.0)
        for process in everyone:
            if process.sentinel in ended:
                process.join(timeout=1.0)  # reaps it: its sentinel closes as it exits, a moment before
    codes = {p.exitcode for p in everyone} - {None, 0}
    if len(codes) > 1:
        codes.discard(-signal.SIGTERM)  # the pool terminating the other workers after the death
    return ", ".join(f"signal {signal.Signals(-c).name}" if c < 0 else f"exit code {c}" for c in sorted(codes))


class ReturnedItems:
    """Items that workers computed and returned, held in the study's process until it commits them.

    At most :attr:`cap` items are held at once. An executor's thread calls :meth:`reserve` before it fetches an
    item from its worker (blocking while :attr:`cap` are held: the back-pressure reaches the workers, whose results
    wait where they were computed) and :meth:`put` once it has it; the study's dispatcher takes them in arrival order
    (:meth:`take`), commits each and calls :meth:`release`. A unit's items arrive in its order, and all of them before
    the unit's future completes.

    :param cap: Items held at most (fetched and not yet committed).
    """

    def __init__(self, cap: int) -> None:
        self.cap = check_int("max_items", cap, 1)
        #: The most items held at once so far.
        self.peak = 0
        self._items: deque[tuple[ImageUnit, int, Item]] = deque()
        self._held = 0
        self._woken = self._closed = False
        self._cond = threading.Condition()

    def reserve(self) -> None:
        """Wait for room for one more item, and take it.

        :raises CancelledError: The executor closed meanwhile.
        """
        with self._cond:
            while self._held >= self.cap and not self._closed:
                self._cond.wait()
            if self._closed:
                raise CancelledError("the executor closed")
            self._held += 1
            self.peak = max(self.peak, self._held)

    def put(self, unit: ImageUnit, p_index: int, item: Item) -> None:
        """Hand over item ``p_index`` of ``unit``, fetched in the room :meth:`reserve` took."""
        with self._cond:
            self._items.append((unit, p_index, item))
            self._cond.notify_all()

    def take(self) -> tuple[ImageUnit, int, Item] | None:
        """The oldest item handed over, or ``None``."""
        with self._cond:
            return self._items.popleft() if self._items else None

    def release(self) -> None:
        """Free the room of one item (committed, or whose fetch failed)."""
        with self._cond:
            self._held -= 1
            self._cond.notify_all()

    def wake(self) -> None:
        """Wake :meth:`wait` (a unit finished)."""
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def wait(self, timeout: float) -> None:
        """Return when an item is waiting, :meth:`wake` was called since the last return, or after ``timeout``."""
        with self._cond:
            if not self._items and not self._woken and not self._closed:
                self._cond.wait(timeout)
            self._woken = False

    def close(self) -> None:
        """Refuse further :meth:`reserve` (the threads waiting in it get ``CancelledError``)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class ReturningExecutor(StudyExecutor):
    """An executor whose workers return items instead of committing them (see the module doc).

    A thread of the study's process drives each unit in flight: it asks the engine for the unit's items
    (:meth:`_stream`), fetches each one when :attr:`returned` has room (:meth:`_fetch`) and hands it to the study's
    dispatcher, which commits it. A subclass sets its slots before calling :meth:`_start` and turns the deaths
    of its workers into :class:`WorkerDied`.

    :param max_items: Returned items held at most by the study's process, not yet committed (default
        :data:`ITEMS_PER_UNIT_IN_FLIGHT` per unit in flight).
    """

    #: Default of ``max_items`` per unit in flight.
    ITEMS_PER_UNIT_IN_FLIGHT: ClassVar[int] = 2

    def __init__(self, plan: StudyPlan, out_dir: str, threads: int | None, max_items: int | None = None) -> None:
        super().__init__(plan, out_dir, threads)
        self._max_items = check_int("max_items", max_items, 1, allow_none=True)
        self._in_flight = InFlight()
        self._closed = False
        self._drivers: ThreadPoolExecutor | None = None

    @property
    def max_items(self) -> int:
        """Returned items the study's process holds at most before it commits them."""
        return self._max_items or self.ITEMS_PER_UNIT_IN_FLIGHT * self.max_in_flight

    def _start(self) -> None:
        """Start the threads that drive units (once :attr:`max_in_flight` is known)."""
        self.returned = ReturnedItems(self.max_items)
        self._drivers = ThreadPoolExecutor(self.max_in_flight, thread_name_prefix=f"xaitk-wcam-{type(self).__name__}")

    def submit(self, unit: ImageUnit, on_commit: Callable[[str], None] | None = None) -> Future:
        """Drive ``unit`` in a thread of this process; its items go to :attr:`returned` (``on_commit`` is not called:
        the study's process commits them)."""
        assert self._drivers is not None, "a ReturningExecutor subclass must call _start()"
        token = object()
        self._in_flight.add(token)
        return self._drivers.submit(self._drive, unit, token)

    def _drive(self, unit: ImageUnit, token: object) -> list[str]:
        assert self.returned is not None
        keys = []
        stream = self._stream(unit, token)
        try:
            for handle in stream:
                self.returned.reserve()
                try:
                    p_index, item = self._fetch(handle, token)
                except BaseException:
                    self.returned.release()
                    raise
                self.returned.put(unit, p_index, item)
                keys.append(item_key(unit.image_index, p_index))
        finally:
            stream.close()  # now, not when the future's traceback lets it go: the engine's clean-up runs
            self._in_flight.discard(token)  # before the future completes: a unit submitted after it runs alone
        return keys

    @abc.abstractmethod
    def _stream(self, unit: ImageUnit, token: object) -> Iterator[Any]:
        """Start ``unit`` on the engine; yield a handle per item, in order (resumed after the item was fetched)."""

    @abc.abstractmethod
    def _fetch(self, handle: Any, token: object) -> tuple[int, Item]:
        """The ``(perturbation index, item)`` of a handle, fetched into this process.

        :raises WorkerDied: The worker died before it returned the item.
        """

    def _ran_alone(self, token: object) -> bool:
        """Whether the unit of ``token`` was the only one in flight since its submission."""
        return self._in_flight.ran_alone(token)

    def close(self) -> None:
        """Stop fetching and driving (the subclass then stops its engine)."""
        self._closed = True
        if self.returned is not None:
            self.returned.close()
        if self._drivers is not None:
            self._drivers.shutdown(wait=False, cancel_futures=True)


def split_options(argument: str, spec: str, accepted: dict[str, Callable[[str, str], Any]]) -> tuple[str, dict]:
    """``"ARGUMENT?name=value&..."`` -> ``(ARGUMENT, {name: parsed value})``.

    :param spec: The whole executor spec, for error messages.
    :param accepted: Option name -> parser ``(name, text) -> value`` (raising ``ValueError`` naming the option).
    :raises ValueError: An option that is not ``name=value``, unknown, given twice, or with a wrong value.
    """
    argument, _, query = argument.partition("?")
    options: dict[str, Any] = {}
    for pair in filter(None, query.split("&")):
        name, sep, text = pair.partition("=")
        if not sep or name not in accepted or name in options:
            why = "is not name=value" if not sep else "is given twice" if name in options else "is not understood"
            raise ValueError(f"executor {spec!r}: option {pair!r} {why}; accepted options: {', '.join(accepted)}")
        try:
            options[name] = accepted[name](name, text)
        except (TypeError, ValueError) as err:
            raise ValueError(f"executor {spec!r}: {err}") from err
    return argument, options


def int_option(name: str, text: str) -> int:
    """An option that is a positive integer."""
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name} must be a positive integer, got {text!r}")
    return int(text)


def float_option(name: str, text: str) -> float:
    """An option that is a number ``>= 0``."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number >= 0, got {text!r}") from None
    return float(check_float(name, value, 0.0, strict=False))  # type: ignore[arg-type]


#: Dask's config key of the ``MALLOC_TRIM_THRESHOLD_`` its nannies give their workers (``None``: not set).
MALLOC_TRIM = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


class DaskExecutor(ReturningExecutor):
    """Items as tasks of a ``dask.distributed`` cluster: a ``LocalCluster`` of ``workers`` single-threaded
    processes, or the scheduler at ``address``. The workers return every item (the return path): they need not see
    ``OUT_DIR``.

    Each item of a unit is one task, submitted when the previous one returned; the tasks after the reference get the
    reference task's result as an argument, which Dask keeps on the worker that computed it (no transfer when the
    next task runs there). A worker that dies fails the task it was running with ``KilledWorker`` (at once on
    ``dask:local:N``; a remote scheduler first retries it on other workers as often as its own
    ``distributed.scheduler.allowed-failures`` says, 3 by default).

    :param max_items: Returned items held at most by the study's process (``?max_items=M``; default 2 per unit in
        flight).
    """

    usage = "dask:local:N, dask:ADDRESS (e.g. dask:tcp://host:8786); option ?max_items=M"

    def __init__(
        self,
        plan: StudyPlan,
        out_dir: str,
        threads: int | None,
        workers: int | None = None,
        address: str | None = None,
        max_items: int | None = None,
    ) -> None:
        super().__init__(plan, out_dir, threads, max_items)
        require_extra("dask", "The dask executor")
        import dask
        from distributed import Client, LocalCluster

        self._cluster = None
        if address is None:
            # One task per worker, and a task whose worker dies is failed at once (KilledWorker): the study
            # records it and goes on (its own scheduler; a remote one keeps its own setting). The workers keep
            # glibc's own malloc thresholds: Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536, which turns off glibc's
            # dynamic mmap threshold, so every large array is a fresh mmap; a WCAM unit then took 14.0 s in a
            # Dask worker against 11.0 s in a plain process (10.6 s without the variable).
            with dask.config.set({"distributed.scheduler.allowed-failures": 0, MALLOC_TRIM: None}):
                self._cluster = LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
                )
            self._client = Client(self._cluster)
            self._client.run(show_each_warning_once)  # the workers are this study's
        else:
            self._client = Client(address)
            trimmed = [value for value in self._client.run(_malloc_trim_threshold).values() if value is not None]
            if trimmed:
                warnings.warn(
                    f"{len(trimmed)} worker(s) of the Dask cluster at {address} run with MALLOC_TRIM_THRESHOLD_="
                    f"{trimmed[0]} (Dask's nanny default), which made WCAM about 30 % slower; start them with "
                    "'distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_: null' in their Dask config",
                    RuntimeWarning,
                    stacklevel=2,
                )
        self._slots = workers or max(1, sum(self._client.nthreads().values()))
        self._start()

    @classmethod
    def parse(cls, argument: str) -> dict[str, Any]:
        spec = f"dask:{argument}"
        argument, options = split_options(argument, spec, {"max_items": int_option})
        if argument.startswith("local:"):
            return {"workers": _worker_count(argument.removeprefix("local:"), spec), **options}
        if not argument:
            raise ValueError(f"executor 'dask' needs 'local:N' or a scheduler address; {accepted_executors()}")
        return {"address": argument, **options}

    @property
    def max_in_flight(self) -> int:
        return 2 * self._slots

    def _stream(self, unit: ImageUnit, token: object) -> Iterator[Any]:
        reference = None
        for p_index in unit.todo:
            if self._closed:
                return
            task = (compute_item, self.plan, unit, p_index, reference, self.threads)
            future = self._client.submit(*task, pure=False, key=_task_key(unit, p_index))
            yield p_index, future
            if p_index == 0:
                reference = future  # kept (and so kept by Dask) until the unit's last item returned

    def _fetch(self, handle: Any, token: object) -> tuple[int, Item]:
        from distributed import KilledWorker

        p_index, future = handle
        try:
            return p_index, future.result()
        except KilledWorker as error:
            # A dead worker fails every task it held (running or queued): only a unit alone is the culprit.
            detail = f"KilledWorker: {' '.join(str(error).split())[:200]}"
            raise WorkerDied(detail, isolated=self._ran_alone(token)) from error

    def close(self) -> None:
        super().close()
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def _malloc_trim_threshold() -> str | None:
    """Run on a Dask worker: its ``MALLOC_TRIM_THRESHOLD_``."""
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def _task_key(unit: ImageUnit, p_index: int) -> str:
    """A unique, readable Dask key of an item's task (the dashboard shows it)."""
    return f"xaitk-wcam-item-{item_key(unit.image_index, p_index)}-{os.urandom(4).hex()}"


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
