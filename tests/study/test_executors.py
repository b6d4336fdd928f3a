"""Executors: plugins found through their entry points, and pinning a worker death on the unit that caused it."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import CancelledError, Future
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from nrtk.impls.perturb_image.photometric.blur import AverageBlurPerturber
from smqtk_core.configuration import to_config_dict
from study_helpers import as_json, fake_config, read_results
from xaitk_saliency.impls.gen_image_classifier_blackbox_sal.slidingwindow import SlidingWindowStack
from xaitk_saliency.impls.saliency_metric.entropy import Entropy

from xaitk_wcam.impls.comparison import SSD, XCorr
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM
from xaitk_wcam.study import (
    SaliencyRobustnessStudy,
    parse_executor,
)
from xaitk_wcam.study.executors import (
    DaskExecutor,
    InFlight,
    LocalExecutor,
    ProcessExecutor,
    ReturnedItems,
    WorkerDied,
    _exit_codes,
    accepted_executors,
)

EXECUTOR_MODULE = """
from xaitk_wcam.study.executors import LocalExecutor

UNITS = []


class CountingExecutor(LocalExecutor):
    usage = "counting:LABEL"

    @classmethod
    def parse(cls, argument):
        return {"label": argument}

    def __init__(self, plan, out_dir, threads, label):
        super().__init__(plan, out_dir, threads)
        self.label = label

    def submit(self, unit, on_commit=None):
        UNITS.append((self.label, unit.image_id))
        return super().submit(unit, on_commit)
"""


def _install_executor(folder: Path, monkeypatch: pytest.MonkeyPatch, scheme: str, source: str, name: str) -> None:
    """Install ``source`` as the module ``<scheme>_executor`` of a distribution (a dist-info folder on sys.path, as pip
    would install it) whose ``xaitk_wcam.executors`` entry point ``scheme`` is its class ``name``."""
    (folder / f"{scheme}_executor.py").write_text(source)
    info = folder / f"{scheme}_executor-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {scheme}-executor\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[xaitk_wcam.executors]\n{scheme} = {scheme}_executor:{name}\n")
    monkeypatch.syspath_prepend(str(folder))


def test_an_installed_executor_plugin_runs_a_study_with_no_edit_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A distribution (here a dist-info folder on sys.path, as pip would install it) registers an executor under
    the ``xaitk_wcam.executors`` entry-point group; ``--executor counting:x`` then runs the study with it."""
    _install_executor(tmp_path, monkeypatch, "counting", EXECUTOR_MODULE, "CountingExecutor")
    assert "counting:LABEL" in accepted_executors()
    cls, kwargs = parse_executor("counting:x")
    assert cls.__name__ == "CountingExecutor" and issubclass(cls, LocalExecutor) and kwargs == {"label": "x"}
    frame = SaliencyRobustnessStudy(fake_config(n=2, size=32)).run(
        tmp_path / "out", executor="counting:x", progress=False, report=False
    )
    import counting_executor

    assert counting_executor.UNITS == [("x", "img0"), ("x", "img1")] and (frame["status"] == "ok").all()
    with pytest.raises(ValueError, match=r"accepted: .*counting:LABEL"):
        parse_executor("nope")


def _died(inflight: InFlight, inner: Future) -> object:
    return lambda error: WorkerDied("exit code 3", isolated=inflight.ran_alone(inner))


def test_a_unit_that_shared_its_time_is_never_alone_even_when_the_other_finished_first() -> None:
    inflight, a, b = InFlight(), Future(), Future()
    inflight.add(a)
    assert inflight.ran_alone(a)
    inflight.add(b)
    outer_b: Future = Future()
    b.set_result(["k"])
    inflight.settle(b, outer_b, _died(inflight, b))
    assert outer_b.result() == ["k"]
    assert not inflight.ran_alone(a)  # b has finished, but a ran beside it: a death of a cannot be pinned on a
    outer_a: Future = Future()
    a.set_exception(RuntimeError("pool broke"))
    inflight.settle(a, outer_a, _died(inflight, a))
    assert isinstance(outer_a.exception(), WorkerDied) and not outer_a.exception().isolated


def test_a_unit_submitted_after_the_others_settled_runs_alone() -> None:
    inflight, a, c = InFlight(), Future(), Future()
    inflight.add(a)
    a.set_result([])
    inflight.settle(a, Future(), _died(inflight, a))  # the outer future is done only after a left the count
    inflight.add(c)
    outer: Future = Future()
    c.cancel()
    inflight.settle(c, outer, _died(inflight, c))
    assert outer.exception().isolated  # a cancelled unit goes through ``died`` too


def test_an_error_that_is_not_a_death_passes_through() -> None:
    inflight, a = InFlight(), Future()
    inflight.add(a)
    a.set_exception(OSError("disk full"))
    outer: Future = Future()
    inflight.settle(a, outer, lambda error: None)
    with pytest.raises(OSError, match="disk full"):
        outer.result()


def test_a_death_is_worded_without_waiting_for_the_workers_still_alive() -> None:
    """The pool's callbacks run before it terminates its living workers: the dead one's exit code is read at once
    (waiting on each process in turn cost 2 s per living worker and failed unit, 9 s of a 4-image study)."""
    context = multiprocessing.get_context("spawn")
    living, dead = context.Process(target=time.sleep, args=(60,)), context.Process(target=os._exit, args=(3,))
    living.start()
    dead.start()
    try:
        pool = SimpleNamespace(_processes={1: living, 2: dead})
        before = _exit_codes(pool)
        dead.join()
        started = time.monotonic()
        assert _exit_codes(pool, before) == "exit code 3"
        assert time.monotonic() - started < 1.0
    finally:
        living.kill()
        living.join()


SLOW = '''
import time
import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage


class SlowClassifier(ClassifyImage):
    """Mean colour -> three probabilities, 20 ms per image: a study that is still running when it is killed."""

    def get_labels(self):
        return ["r", "g", "b"]

    def classify_images(self, img_iter):
        for image in img_iter:
            time.sleep(0.02)
            m = np.asarray(image, dtype=np.float64).reshape(-1, 3).mean(axis=0) / 64
            e = np.exp(m - m.max())
            yield dict(zip(self.get_labels(), e / e.sum()))

    def get_config(self):
        return {}
'''


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize(
    ("executor", "sig"), [("processes:2", "SIGKILL"), ("processes:2", "SIGTERM"), ("dask:local:2", "SIGKILL")]
)
def test_workers_end_when_the_study_process_is_killed(tmp_path, executor, sig) -> None:
    """Issue 20, failure 9: after kill -9 or SIGTERM of a ``processes:2`` study its two workers and the resource
    tracker lived on under PID 1, blocked (Dask's local workers end by Dask's own watch: kept so)."""
    import contextlib
    import signal
    import subprocess
    import time

    import numpy as np
    import psutil  # a dependency of dask.distributed
    from nrtk.impls.perturb_image.photometric.blur import AverageBlurPerturber
    from PIL import Image
    from smqtk_core.configuration import to_config_dict

    from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM
    from xaitk_wcam.sources import FolderImages

    (tmp_path / "slow_classifier.py").write_text(SLOW)
    images = tmp_path / "images"
    images.mkdir()
    for i in range(6):
        pixels = np.random.default_rng(i).integers(0, 256, (16, 16, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(images / f"{i}.png")
    config = {
        "classifier": {"type": "slow_classifier.SlowClassifier", "slow_classifier.SlowClassifier": {}},
        "images": to_config_dict(FolderImages(str(images))),
        "perturbers": [to_config_dict(AverageBlurPerturber(ksize=3))],
        "saliency": {"wcam": to_config_dict(WCAM(levels=1, grid_size=2, nb_design=8, batch_size=8))},
        "noise_floor": False,
    }
    (tmp_path / "study.json").write_text(json.dumps(config))
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path, "SMQTK_PLUGIN_PATH": "slow_classifier"}
    command = "from xaitk_wcam.cli import main; main()"
    out = tmp_path / "out"
    study = subprocess.Popen(
        [sys.executable, "-c", command, "study", str(tmp_path / "study.json"), str(out), "--executor", executor,
         "--quiet"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    children: list = []
    try:
        deadline = time.monotonic() + 240
        while not list((out / "items").glob("*.json")):  # the workers have started and computed an item
            assert study.poll() is None, study.stderr.read().decode()
            assert time.monotonic() < deadline, "the study committed nothing in 240 s"
            time.sleep(0.2)
        children = psutil.Process(study.pid).children(recursive=True)
        workers = [p for p in children if "spawn_main" in " ".join(p.cmdline())]
        assert len(workers) >= 2, [p.cmdline() for p in children]
        study.send_signal(getattr(signal, sig))
        study.wait(timeout=60)
        _, alive = psutil.wait_procs(children, timeout=10)  # psutil counts a zombie as gone
        alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not alive, f"{len(alive)} of {len(children)} outlived the study: {[p.cmdline() for p in alive]}"
    finally:  # end what this test started, by pid
        if study.poll() is None:
            study.kill()
        for p in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()


def test_parse_executor() -> None:
    assert parse_executor("local") == (LocalExecutor, {})
    assert parse_executor("processes:3") == (ProcessExecutor, {"workers": 3})
    assert parse_executor("dask:local:2") == (DaskExecutor, {"workers": 2})
    assert parse_executor("dask:tcp://10.0.0.1:8786") == (DaskExecutor, {"address": "tcp://10.0.0.1:8786"})
    assert parse_executor("dask:tcp://h:8786?max_items=5") == (
        DaskExecutor,
        {"address": "tcp://h:8786", "max_items": 5},
    )
    for bad in ("threads", "processes:0", "processes:x", "dask:", "dask:local:-1", "local:2"):
        with pytest.raises(ValueError, match="executor"):
            parse_executor(bad)


def test_returned_items_hold_at_most_their_cap_and_release_the_waiting_on_close() -> None:
    import threading

    returned = ReturnedItems(2)
    returned.reserve()
    returned.reserve()
    blocked = threading.Thread(target=returned.reserve)
    blocked.start()
    blocked.join(0.3)
    assert blocked.is_alive() and returned.peak == 2  # a third waits for room
    returned.put(None, 0, None)  # type: ignore[arg-type]
    assert returned.take() == (None, 0, None) and returned.take() is None
    returned.release()  # committed: room for the third
    blocked.join(5)
    assert not blocked.is_alive() and returned.peak == 2
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            returned.reserve()
        except BaseException as err:
            errors.append(err)

    waiting = threading.Thread(target=wait)
    waiting.start()
    returned.close()
    waiting.join(5)
    assert not waiting.is_alive() and isinstance(errors[0], CancelledError)
    with pytest.raises(ValueError, match="max_items"):
        ReturnedItems(0)


def _write_pngs(folder: Path, n: int, size: int = 32) -> None:
    from PIL import Image

    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(folder / f"im{i}.png")


def _registered_config(model_dir: Path, images_dir: Path) -> dict[str, Any]:
    """Only registered plugins, so that fresh worker processes resolve it."""
    from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier
    from xaitk_wcam.sources import FolderImages

    return as_json(
        {
            "classifier": to_config_dict(HuggingFaceImageClassifier(str(model_dir), device="cpu", batch_size=16)),
            "images": to_config_dict(FolderImages(str(images_dir))),
            "perturbers": [
                to_config_dict(AverageBlurPerturber(ksize=3)),
                to_config_dict(AverageBlurPerturber(ksize=5)),
            ],
            "saliency": {
                "wcam": to_config_dict(WCAM(levels=2, grid_size=4, nb_design=2, batch_size=16)),
                "sliding": to_config_dict(SlidingWindowStack(window_size=(8, 8), stride=(8, 8))),
            },
            "metrics": [to_config_dict(Entropy()), to_config_dict(SSD()), to_config_dict(XCorr())],
            "noise_floor": False,  # tested on its own (test_noise_floor_rows_and_band)
        }
    )


@pytest.fixture(scope="module")
def local_run(tiny_resnet_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """A registered-plugins config and its local run, to compare the other executors with."""
    root = tmp_path_factory.mktemp("executors")
    _write_pngs(root / "images", 3)
    config = _registered_config(tiny_resnet_dir, root / "images")
    local = SaliencyRobustnessStudy(config).run(root / "local", progress=False, report=False)
    assert (local["status"] == "ok").all()
    return config, root / "local"


@pytest.mark.slow
@pytest.mark.e2e
def test_dask_local_cluster_equals_local(
    local_run: tuple[dict[str, Any], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same rows as ``local``; the workers get no ``MALLOC_TRIM_THRESHOLD_`` (Dask's nannies set 65536 by default,
    which made a WCAM unit about 30 % slower)."""
    from distributed.nanny import Nanny

    spawn_environs: list[dict[str, str]] = []
    nanny_init = Nanny.__init__

    def recording_init(self: Nanny, *args: Any, **kwargs: Any) -> None:
        nanny_init(self, *args, **kwargs)
        spawn_environs.append(dict(self.pre_spawn_env))

    monkeypatch.setattr(Nanny, "__init__", recording_init)
    config, local = local_run
    SaliencyRobustnessStudy(config).run(tmp_path / "dask", executor="dask:local:2", progress=False, report=False)
    pd.testing.assert_frame_equal(read_results(tmp_path / "dask"), read_results(local))
    assert len(spawn_environs) == 2 and all("MALLOC_TRIM_THRESHOLD_" not in env for env in spawn_environs)


@pytest.mark.slow
@pytest.mark.e2e
def test_process_pool_equals_local(local_run: tuple[dict[str, Any], Path], tmp_path: Path) -> None:
    config, local = local_run
    SaliencyRobustnessStudy(config).run(tmp_path / "procs", executor="processes:2", progress=False, report=False)
    pd.testing.assert_frame_equal(read_results(tmp_path / "procs"), read_results(local))


RETURNING_MODULE = '''
import threading
import time

from xaitk_wcam.study.executors import ReturningExecutor
from xaitk_wcam.study.worker import StudyWorker


class ThreadsExecutor(ReturningExecutor):
    """Units computed by threads of this process (one StudyWorker each), their items returned as a remote worker's
    would be; commits are made slow, so that the workers outrun the study's process."""

    usage = "threads:N"

    @classmethod
    def parse(cls, argument):
        return {"workers": int(argument)}

    def __init__(self, plan, out_dir, threads, workers):
        super().__init__(plan, out_dir, threads, max_items=1)
        self.workers = workers
        self._local = threading.local()
        self._start()

    @property
    def max_in_flight(self):
        return self.workers

    def _stream(self, unit, token):
        if not hasattr(self._local, "worker"):
            self._local.worker = StudyWorker(self.plan)
        for p_index, item in self._local.worker.compute_unit(unit):
            yield p_index, item

    def _fetch(self, handle, token):
        return handle
'''


def test_returned_items_are_committed_in_order_by_the_study_process_with_at_most_max_items_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The return path without an engine: two threads compute units while the study's process commits slowly; every
    item is committed once, each unit's in its order, never more than ``max_items`` (1) held, rows equal ``local``."""
    import time

    from xaitk_wcam.study import ResultsStore

    _install_executor(tmp_path, monkeypatch, "threads", RETURNING_MODULE, "ThreadsExecutor")
    config = fake_config(n=3, size=32)
    local = SaliencyRobustnessStudy(config).run(tmp_path / "local", progress=False, report=False)
    commits: list[str] = []
    commit = ResultsStore.commit

    def slow_commit(self: ResultsStore, key: str, *args: Any, **kwargs: Any) -> None:
        time.sleep(0.05)
        commits.append(key)
        commit(self, key, *args, **kwargs)

    monkeypatch.setattr(ResultsStore, "commit", slow_commit)
    held = []
    import threads_executor

    close = threads_executor.ThreadsExecutor.close
    monkeypatch.setattr(
        threads_executor.ThreadsExecutor, "close", lambda self: (held.append(self.returned.peak), close(self))
    )
    frame = SaliencyRobustnessStudy(config).run(
        tmp_path / "threads", executor="threads:2", progress=False, report=False
    )
    pd.testing.assert_frame_equal(frame.drop(columns=["seconds"]), local.drop(columns=["seconds"]))
    assert sorted(commits) == sorted(set(commits)) and len(commits) == 3 * 3  # 3 images x (reference + 2 blurs)
    for image in range(3):
        mine = [key for key in commits if key.startswith(f"{image:06d}-")]
        assert mine == sorted(mine)  # reference first, then each perturbation
    assert held == [1]


@pytest.mark.slow
def test_ray_local_cluster_equals_local(
    local_run: tuple[dict[str, Any], Path], tmp_path: Path, ray_scheme_found: None
) -> None:
    config, local = local_run
    SaliencyRobustnessStudy(config).run(
        tmp_path / "ray", executor="ray:local:2?object_store_mb=200", progress=False, report=False
    )
    pd.testing.assert_frame_equal(read_results(tmp_path / "ray"), read_results(local))


@pytest.mark.slow
def test_ray_refuses_what_it_cannot_run_before_out_dir_is_written(
    tmp_path: Path, tiny_resnet_dir: Path, monkeypatch: pytest.MonkeyPatch, ray_scheme_found: None
) -> None:
    """A local cluster without the GPUs the workers ask for; a Ray already started in this process; a model the
    workers cannot load (StudySetupError, no study.json). Each leaves Ray stopped and this process's environment as
    it was."""
    import ray

    from xaitk_wcam.study import StudySetupError

    _write_pngs(tmp_path / "images", 1)
    config = _registered_config(tiny_resnet_dir, tmp_path / "images")
    study = SaliencyRobustnessStudy(config)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # no GPU for Ray to find, whatever the machine
    environ = dict(os.environ)
    with pytest.raises(ValueError, match=r"ray:local:1.*0 GPU.*num_gpus=1 each"):
        study.run(tmp_path / "gpu", executor="ray:local:1?num_gpus=1&object_store_mb=100", progress=False)
    assert not ray.is_initialized() and dict(os.environ) == environ
    assert not (tmp_path / "gpu" / "study.json").exists()
    missing = json.loads(json.dumps(config))
    params = missing["classifier"][missing["classifier"]["type"]]
    params["model_name_or_path"] = str(tmp_path / "no-model-here")
    with pytest.raises(StudySetupError, match="a worker could not build the study"):
        SaliencyRobustnessStudy(missing).run(
            tmp_path / "setup", executor="ray:local:1?object_store_mb=100", progress=False
        )
    assert not ray.is_initialized() and dict(os.environ) == environ
    assert not (tmp_path / "setup" / "study.json").exists()
    ray.init(address="local", num_cpus=1, object_store_memory=100 * 2**20, include_dashboard=False)
    try:
        with pytest.raises(ValueError, match="Ray is already started in this process"):
            study.run(tmp_path / "twice", executor="ray:local:1", progress=False)
    finally:
        ray.shutdown()
