"""Where the work items of a study run: in-process, in a process pool, or on a Dask cluster.

Every executor is a ``concurrent.futures.Executor``; the spec string picks one:

- ``local`` (default): in the calling process, one image after the other;
- ``processes:N``: ``concurrent.futures.ProcessPoolExecutor`` with ``N`` worker processes (``spawn``
  start method, safe with torch's thread pools); each worker builds the classifier once, in the pool's
  initializer, and sets torch's intra-op threads (1 by default, see
  :meth:`~xaitk_wcam.study.runner.SaliencyRobustnessStudy.run`) so that workers do not compete;
- ``dask:local:N``: a ``dask.distributed.LocalCluster`` of ``N`` single-threaded worker processes;
- ``dask:ADDRESS``: an existing ``dask.distributed`` scheduler (``tcp://host:8786``); its workers must see
  ``OUT_DIR`` at the same path (a shared filesystem), since each commits its items there.

On Dask, "once per worker" is kept by a per-process cache of built contexts keyed by the config hash.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from xaitk_wcam.study.store import ResultsStore
from xaitk_wcam.study.work import ImageUnit, StudyContext, run_unit


class StudySetupError(RuntimeError):
    """A worker could not build the study's classifier or plan: the study cannot run."""


@dataclass(frozen=True)
class ExecutorSpec:
    """A parsed ``--executor`` value.

    :param kind: ``"local"``, ``"processes"`` or ``"dask"``.
    :param workers: Number of workers (``processes:N``, ``dask:local:N``), else ``None``.
    :param address: Scheduler address (``dask:ADDRESS``), else ``None``.
    """

    kind: str
    workers: int | None = None
    address: str | None = None

    @property
    def parallel(self) -> bool:
        """Whether items run outside the calling process."""
        return self.kind != "local"


def parse_executor(spec: str) -> ExecutorSpec:
    """Parse ``local``, ``processes:N``, ``dask:local:N`` or ``dask:ADDRESS``.

    :raises ValueError: Any other value, or ``N < 1``.
    """
    accepted = "accepted: 'local', 'processes:N', 'dask:local:N', 'dask:ADDRESS' (e.g. dask:tcp://host:8786)"
    if not isinstance(spec, str):
        raise TypeError(f"executor must be a string; {accepted}")
    if spec == "local":
        return ExecutorSpec("local")

    def count(text: str) -> int:
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"executor {spec!r}: N must be a positive integer; {accepted}")
        return int(text)

    if spec.startswith("processes:"):
        return ExecutorSpec("processes", workers=count(spec.split(":", 1)[1]))
    if spec.startswith("dask:local:"):
        return ExecutorSpec("dask", workers=count(spec.split(":", 2)[2]))
    if spec.startswith("dask:") and len(spec) > len("dask:"):
        return ExecutorSpec("dask", address=spec.split(":", 1)[1])
    raise ValueError(f"executor {spec!r} is not understood; {accepted}")


def available_cores() -> int:
    """CPU cores this process may use (its affinity mask where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# -- per-process contexts ------------------------------------------------------------------------------
_CONTEXTS: dict[str, StudyContext] = {}
_LOCK = threading.Lock()


def set_torch_threads(threads: int | None) -> int | None:
    """Set torch's intra-op threads in this process; return the previous count.

    Nothing happens (and ``None`` is returned) when ``threads`` is ``None`` or torch is absent.
    """
    if threads is None:
        return None
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return None
    previous = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    return previous


def register_context(ctx: StudyContext) -> None:
    """Make ``ctx`` the context of its config hash in this process (the local executor's own)."""
    with _LOCK:
        _CONTEXTS[ctx.digest] = ctx


def get_context(resolved: dict[str, Any], digest: str, threads: int | None = None) -> StudyContext:
    """This process's context for a config, built on first use (the classifier is loaded once)."""
    with _LOCK:
        ctx = _CONTEXTS.get(digest)
        if ctx is None:
            try:
                ctx = StudyContext(resolved, digest)
            except Exception as err:
                raise StudySetupError(f"a worker could not build the study: {type(err).__name__}: {err}") from err
            _CONTEXTS[digest] = ctx
        # after the build: importing some plugin packages (found by discovery) resets torch's thread count
        set_torch_threads(threads)
        return ctx


def init_worker(resolved: dict[str, Any], digest: str, threads: int | None) -> None:
    """``ProcessPoolExecutor`` initializer: build the worker's context once."""
    get_context(resolved, digest, threads)


def process_unit(
    resolved: dict[str, Any], digest: str, out_dir: str, unit: ImageUnit, threads: int | None = None
) -> list[str]:
    """Task run by a pool or Dask worker: compute and commit one image's items; return the keys."""
    ctx = get_context(resolved, digest, threads)
    return run_unit(ctx, ResultsStore(out_dir), unit)


class InlineExecutor(Executor):
    """A ``concurrent.futures.Executor`` that runs each task at ``submit`` in the calling thread."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` now; return its completed future.

        ``BaseException``s that are not ``Exception``s (``KeyboardInterrupt``, ``SystemExit``) propagate at
        once, as they would in plain code.
        """
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as err:
            future.set_exception(err)
        return future


@contextlib.contextmanager
def open_executor(
    spec: ExecutorSpec, resolved: dict[str, Any], digest: str, threads: int | None = None
) -> Iterator[Executor]:
    """Start the executor of ``spec`` and shut it down (and any cluster it started) on exit.

    :param spec: Parsed executor spec.
    :param resolved: Resolved config (the pool initializer builds its context from it).
    :param digest: Config hash.
    :param threads: Torch threads per worker.
    """
    if spec.kind == "local":
        yield InlineExecutor()
        return
    if spec.kind == "processes":
        import multiprocessing

        pool = ProcessPoolExecutor(
            max_workers=spec.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            initargs=(resolved, digest, threads),
        )
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    from distributed import Client, LocalCluster

    if spec.address is None:
        cluster = LocalCluster(n_workers=spec.workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        cluster = None
        client = Client(spec.address)
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
