"""The ``ray`` executor: a study's units on the actors of a Ray cluster (the ``ray`` extra).

``--executor ray:local:N`` starts a local Ray cluster of ``N`` CPUs and runs ``N`` single-threaded actors on it;
``--executor ray:ADDRESS`` joins an existing cluster (``auto``, ``host:6379``, or ``ray://host:10001`` through the
Ray Client) and runs one actor per CPU it has (``?workers=N`` to choose). Options, after ``?`` and joined by ``&``:

- ``num_gpus=G``: GPUs (or a fraction of one) reserved by each actor; Ray sets its ``CUDA_VISIBLE_DEVICES``. The
  config's model picks its device itself (for example ``"device": "cuda"``): ``num_gpus`` only reserves it;
- ``workers=N``: actors on an existing cluster (an autoscaling cluster adds the nodes they need);
- ``max_items=M``: items returned and not yet committed that the study's process holds at most (default 2 per
  actor);
- ``object_store_mb=S``: the object store of the local cluster (Ray's default: 30 % of the memory).

Each actor (:class:`StudyActor`) receives the plan once, builds its
:class:`~xaitk_wcam.study.worker.StudyWorker` (the model) once, and runs one unit at a time: a streaming generator that
returns each item as soon as it is computed (:meth:`StudyActor.compute_unit`, at most
:data:`AHEAD` items ahead of what the study's process fetched). The study's process commits the items, so the
actors need not see ``OUT_DIR``. An actor that dies (its process killed, out of memory, its node lost) fails its unit
with :class:`~xaitk_wcam.study.executors.WorkerDied`, pinned on the item it was computing (the actor ran that unit
alone), except when its node was preempted (then the unit reruns alone first); a new actor takes its place.
"""

from __future__ import annotations

import logging
import os
import queue
import warnings
from collections.abc import Iterator
from typing import Any

from xaitk_wcam.study.errors import StudySetupError
from xaitk_wcam.study.executors import (
    WORKERS,
    ReturningExecutor,
    WorkerDied,
    _worker_count,
    accepted_executors,
    float_option,
    int_option,
    split_options,
)
from xaitk_wcam.study.items import ImageUnit, Item
from xaitk_wcam.study.plan import StudyPlan
from xaitk_wcam.utils.extras import require_extra
from xaitk_wcam.utils.warning_display import show_each_warning_once

#: Items an actor computes ahead of what the study's process has fetched (Ray's generator back-pressure).
AHEAD = 2


class StudyActor:
    """A Ray actor of a study (one CPU; single-threaded torch by default): builds its
    :class:`~xaitk_wcam.study.worker.StudyWorker` once, when it starts, and streams the items of the units it is given.

    :param plan: The study plan.
    :param threads: Torch threads.
    """

    def __init__(self, plan: StudyPlan, threads: int | None) -> None:
        show_each_warning_once()  # the actor's process is this study's
        self.error: str | None = None
        try:
            self.worker = WORKERS.get(plan, threads)
        except StudySetupError as err:  # reported by ready(), so that the study stops with this message
            self.error = str(err)

    def ready(self) -> dict[str, Any]:
        """Where the actor runs: ``pid``, ``node``, ``gpu_ids`` (Ray's), ``cuda_visible_devices``, and ``error``
        (why it could not build the study, or ``None``)."""
        import ray

        context = ray.get_runtime_context()
        return {
            "pid": os.getpid(),
            "node": context.get_node_id(),
            "gpu_ids": [str(gpu) for gpu in ray.get_gpu_ids()],
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "error": self.error,
        }

    def compute_unit(self, unit: ImageUnit) -> Iterator[tuple[int, Item]]:
        """Each ``(perturbation index, item)`` of ``unit``, as soon as it is computed.

        :raises StudySetupError: The actor could not build the study.
        """
        if self.error is not None:
            raise StudySetupError(self.error)
        yield from self.worker.compute_unit(unit)


class RayExecutor(ReturningExecutor):
    """Units on the actors of a local or existing Ray cluster (see the module doc).

    :param workers: Actors (``ray:local:N``: also the local cluster's CPUs); default for an existing cluster: its
        CPUs.
    :param address: An existing cluster (``auto``, ``host:port``, ``ray://host:10001``), or ``None`` for a local one.
    :param num_gpus: GPUs reserved by each actor (``>= 0``, fractions allowed).
    :param max_items: Returned items held at most by the study's process (default 2 per actor).
    :param object_store_mb: Object store of the local cluster, in MB (default: Ray's).
    :raises ValueError: A local cluster without the GPUs the actors ask for; Ray already started in this process with
        ``ray:local:N``.
    :raises StudySetupError: An actor could not build the study (before ``OUT_DIR`` is written).
    """

    usage = "ray:local:N, ray:ADDRESS (auto, host:port, ray://host:10001); options ?num_gpus=G&workers=N&max_items=M"

    def __init__(
        self,
        plan: StudyPlan,
        out_dir: str,
        threads: int | None,
        workers: int | None = None,
        address: str | None = None,
        num_gpus: float = 0.0,
        max_items: int | None = None,
        object_store_mb: int | None = None,
    ) -> None:
        super().__init__(plan, out_dir, threads, max_items)
        require_extra("ray", "The ray executor")
        import ray

        self._ray = ray
        self.num_gpus = num_gpus
        self._owns_ray = not ray.is_initialized()
        self._environ = dict(os.environ)  # ray.init sets variables of its own (RAY_AUTH_MODE...): restored on close
        if not self._owns_ray and address is None:
            raise ValueError(
                "executor 'ray:local:N': Ray is already started in this process; use ray:ADDRESS to run on its "
                "cluster, or call ray.shutdown() first"
            )
        try:
            if self._owns_ray and address is None:
                memory = None if object_store_mb is None else object_store_mb * 2**20
                ray.init(address="local", num_cpus=workers, object_store_memory=memory, include_dashboard=False,
                         logging_level=logging.WARNING)  # fmt: skip
            elif self._owns_ray:
                ray.init(address=address, logging_level=logging.WARNING)
            resources = ray.cluster_resources()
            if workers is None:
                workers = max(1, int(resources.get("CPU", 1)))
            asked, held = workers * num_gpus, resources.get("GPU", 0.0)
            if asked > held:
                where = f"ray:{address}" if address else f"ray:local:{workers}"
                message = (f"executor {where!r}: the cluster has {held:g} GPU(s), the {workers} workers ask for "
                           f"{asked:g} (num_gpus={num_gpus:g} each)")  # fmt: skip
                if address is None:
                    raise ValueError(message)
                warnings.warn(f"{message}: waiting for the cluster to provide them", RuntimeWarning, stacklevel=2)
            self.workers = workers
            self._remote = ray.remote(num_cpus=1, num_gpus=num_gpus, max_restarts=0, max_concurrency=1)(StudyActor)
            self._plan_ref = ray.put(plan)  # in the object store once, for every actor
            self._free: queue.SimpleQueue[Any] = queue.SimpleQueue()
            self._dead: set[object] = set()  # units whose actor died
            actors = [self._new_actor() for _ in range(workers)]
            #: Where each actor runs (:meth:`StudyActor.ready`), in the order they started.
            self.worker_info: list[dict[str, Any]] = ray.get([actor.ready.remote() for actor in actors])
            errors = [info["error"] for info in self.worker_info if info["error"]]
            if errors:
                raise StudySetupError(errors[0])
            for actor in actors:
                self._free.put(actor)
            self._start()
        except BaseException:
            self._shutdown()
            raise

    def _new_actor(self) -> Any:
        return self._remote.remote(self._plan_ref, self.threads)

    @classmethod
    def parse(cls, argument: str) -> dict[str, Any]:
        spec = f"ray:{argument}"
        accepted = {"num_gpus": float_option, "workers": int_option, "max_items": int_option,
                    "object_store_mb": int_option}  # fmt: skip
        argument, options = split_options(argument, spec, accepted)
        if argument.startswith("local:"):
            if "workers" in options:
                raise ValueError(f"executor {spec!r}: ray:local:N gives the workers; 'workers' is for ray:ADDRESS")
            return {"workers": _worker_count(argument.removeprefix("local:"), spec), **options}
        if not argument or argument == "local":
            raise ValueError(f"executor {spec!r} needs 'local:N' or a cluster address; {accepted_executors()}")
        if "object_store_mb" in options:
            raise ValueError(f"executor {spec!r}: 'object_store_mb' sizes a local cluster (ray:local:N) only")
        return {"address": argument, **options}

    @property
    def max_in_flight(self) -> int:
        """One unit per actor: a dead actor's unit is the one it ran."""
        return self.workers

    def _stream(self, unit: ImageUnit, token: object) -> Iterator[Any]:
        actor = self._free.get()  # one is free: at most one unit per actor is in flight
        try:
            method = actor.compute_unit.options(num_returns="streaming", _generator_backpressure_num_objects=AHEAD)
            refs = method.remote(unit)
            while not self._closed:
                try:
                    ref = next(refs)
                except StopIteration:
                    break
                except Exception as error:
                    raise self._lost(token, error) from error
                yield ref
        finally:
            if token in self._dead:
                self._dead.discard(token)
                actor = self._replace(actor)
            if actor is not None:
                self._free.put(actor)

    def _fetch(self, handle: Any, token: object) -> tuple[int, Item]:
        try:
            return self._ray.get(handle)
        except Exception as error:
            raise self._lost(token, error) from error

    def _lost(self, token: object, error: Exception) -> Exception:
        """``error`` as :class:`WorkerDied` when the actor running the unit of ``token`` is lost (it is then replaced
        when the unit ends), else as it is."""
        death = self._death(error)
        if death is None:
            return error
        self._dead.add(token)
        return death

    def _death(self, error: BaseException) -> WorkerDied | None:
        """``error`` as :class:`WorkerDied` when it says the actor (or the node, or the object) was lost."""
        from ray.exceptions import ObjectLostError, RayActorError, WorkerCrashedError

        if not isinstance(error, RayActorError | WorkerCrashedError | ObjectLostError):
            return None
        text = " ".join(str(error).split())
        for marker in ("Worker exit detail:", "The actor is dead because"):
            if marker in text:
                text = text[text.index(marker) :]
                break
        preempted = bool(getattr(error, "preempted", False))
        return WorkerDied(f"{type(error).__name__}: {text[:200]}", isolated=not preempted)

    def _replace(self, actor: Any) -> Any:
        """A new actor for a dead one (the old one is killed, in case it is only unreachable)."""
        if self._closed:
            return None
        try:
            self._ray.kill(actor, no_restart=True)
        except Exception:  # already gone
            pass
        return self._new_actor()

    def close(self) -> None:
        super().close()
        self._shutdown()

    def _shutdown(self) -> None:
        """End the actors (they end with this driver anyway) and the local cluster or the connection we started."""
        if self._owns_ray and self._ray.is_initialized():
            self._ray.shutdown()
        if self._owns_ray:
            for name in set(os.environ) - set(self._environ):
                del os.environ[name]
            os.environ.update(self._environ)
