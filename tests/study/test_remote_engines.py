"""Studies on real engines whose workers cannot touch ``OUT_DIR``: a Dask scheduler and workers started as processes of
their own, a Ray head node, a local Ray cluster (see ``engines.py`` for how the workers are kept out).

Every run is compared with the same config run by ``local`` (same thread count): the rows are identical; a worker
killed in the middle of an image loses nothing and commits nothing twice.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import pytest
from engines import CLASSIFIER, PLUGIN_MODULE, Sandbox, dask_cluster, ray_cluster, stop
from nrtk.impls.perturb_image.photometric.blur import AverageBlurPerturber
from smqtk_core.configuration import to_config_dict
from study_helpers import read_results
from xaitk_saliency.impls.saliency_metric.entropy import Entropy

from xaitk_wcam.impls.comparison import XCorr
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM
from xaitk_wcam.sources import FolderImages
from xaitk_wcam.study import ResultsStore, SaliencyRobustnessStudy
from xaitk_wcam.utils.checks import check_image

pytestmark = pytest.mark.slow

#: Images, perturbations, and the (image, perturbation) whose classification kills its worker once.
N_IMAGES, KSIZES, KILLED = 3, (3, 5), (1, 2)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    return Sandbox(tmp_path_factory.mktemp("engines"))


@pytest.fixture(scope="module")
def study(sandbox: Sandbox) -> dict[str, Any]:
    """The config (whose classifier kills its worker once, on perturbation 2 of image 1: item 2 of 4 of a unit) and
    its ``local`` run, made with the kill marker in place (so nothing is killed: the very same config)."""
    from PIL import Image

    images = sandbox.outside / "images"
    images.mkdir()
    rng = np.random.default_rng(3)
    for i in range(N_IMAGES):
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(images / f"im{i}.png")
    image = next(r.image for r in FolderImages(str(images)).records() if r.image_id == f"im{KILLED[0]}.png")
    perturbed, _ = AverageBlurPerturber(ksize=KSIZES[KILLED[1] - 1])(image=np.copy(image))
    target = hashlib.sha256(np.ascontiguousarray(check_image(np.asarray(perturbed))).tobytes()).hexdigest()
    marker = sandbox.outside / "killed-once"
    config = json.loads(
        json.dumps(
            {
                "classifier": {"type": CLASSIFIER, CLASSIFIER: {"marker": str(marker), "target": target}},
                "images": to_config_dict(FolderImages(str(images))),
                "perturbers": [to_config_dict(AverageBlurPerturber(ksize=k)) for k in KSIZES],
                "saliency": {"wcam": to_config_dict(WCAM(levels=1, grid_size=2, nb_design=2, batch_size=8))},
                "metrics": [to_config_dict(Entropy()), to_config_dict(XCorr())],
            }
        )
    )
    path = sandbox.outside / "study.json"
    path.write_text(json.dumps(config))
    marker.touch()
    with pytest.MonkeyPatch.context() as mp:
        _as_driver(mp, sandbox)
        SaliencyRobustnessStudy(config).run(sandbox.outside / "local", progress=False, report=False)
    local = read_results(sandbox.outside / "local")
    assert (local["status"] == "ok").all() and len(local) == N_IMAGES * (len(KSIZES) + 2)
    return {"config": config, "path": path, "local": local, "marker": marker}


def _as_driver(mp: pytest.MonkeyPatch, sandbox: Sandbox) -> None:
    """This process finds the plugin module (and the ``ray`` scheme); the processes it starts get the sandbox."""
    from xaitk_wcam.study import plugins

    mp.syspath_prepend(str(sandbox.code))
    env, _ = sandbox.worker_env("local-ray")
    for name in ("PYTHONPATH", "SMQTK_PLUGIN_PATH", "XAITK_WCAM_TEST_DENY", "XAITK_WCAM_TEST_DENY_LOG"):
        mp.setenv(name, env[name])
    plugins._CACHE.clear()


@pytest.fixture(scope="module")
def local_ray_probed(sandbox: Sandbox) -> None:
    """The workers of a local Ray cluster started by this process (as ``ray:local:N`` does) have the sandbox."""
    import ray

    environ = dict(os.environ)
    with pytest.MonkeyPatch.context() as mp:
        _as_driver(mp, sandbox)
        ray.init(address="local", num_cpus=1, object_store_memory=100 * 2**20, include_dashboard=False)
        try:
            result, _ = ray.get(ray.remote(_probe(mp, sandbox)).remote(str(sandbox.private)))
        finally:
            ray.shutdown()
    os.environ.clear()  # ray.init sets variables of its own (RAY_AUTH_MODE...)
    os.environ.update(environ)
    assert result.startswith("refused"), result


@pytest.fixture
def driver(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    _as_driver(monkeypatch, sandbox)
    yield sandbox
    from xaitk_wcam.study import plugins

    plugins._CACHE.clear()


@pytest.fixture(scope="module")
def dask_address(sandbox: Sandbox) -> Any:
    with dask_cluster(sandbox, workers=2) as address:
        from distributed import Client

        with Client(address) as client, pytest.MonkeyPatch.context() as mp:  # the sandbox is active in every worker
            probes = client.run(_probe(mp, sandbox), str(sandbox.private))
        assert len(probes) == 2 and all(result.startswith("refused") for result, _ in probes.values()), probes
        yield address


@pytest.fixture(scope="module")
def ray_address(sandbox: Sandbox) -> Any:
    """A Ray head node with two CPUs and one declared GPU (its workers have the sandbox)."""
    with ray_cluster(sandbox, cpus=2, gpus=1) as address:
        import ray

        environ = dict(os.environ)
        try:
            with pytest.MonkeyPatch.context() as mp:
                _as_driver(mp, sandbox)
                deadline = time.monotonic() + 90
                while True:  # the head's port answers before its node is up
                    try:
                        ray.init(address=address, logging_level="WARNING")
                        break
                    except ConnectionError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(2)
                result, _ = ray.get(ray.remote(_probe(mp, sandbox)).remote(str(sandbox.private)))
        finally:
            ray.shutdown()
            os.environ.clear()
            os.environ.update(environ)
        assert result.startswith("refused"), result
        yield address


def _probe(mp: pytest.MonkeyPatch, sandbox: Sandbox) -> Any:
    """The plugin module's ``probe`` (pickled by reference: the workers import it from the sandbox code)."""
    import importlib

    mp.syspath_prepend(str(sandbox.code))
    return importlib.import_module(PLUGIN_MODULE).probe


def _new_out(sandbox: Sandbox, name: str) -> Path:
    """A fresh ``OUT_DIR`` path in the private folder (created by the study's process, after the workers started)."""
    out = sandbox.private / name
    assert not out.exists()
    return out


def _counting_commits(monkeypatch: pytest.MonkeyPatch) -> collections.Counter:
    """Count the commits of every key in this process (the only one that commits under a returning executor)."""
    counts: collections.Counter = collections.Counter()
    commit = ResultsStore.commit

    def counted(self: ResultsStore, key: str, *args: Any, **kwargs: Any) -> None:
        counts[key] += 1
        commit(self, key, *args, **kwargs)

    monkeypatch.setattr(ResultsStore, "commit", counted)
    return counts


def _cli(sandbox: Sandbox, study: dict[str, Any], out: Path, *args: str) -> subprocess.Popen:
    command = [sys.executable, "-c", "from xaitk_wcam.cli import main; main()", "study", str(study["path"]), str(out),
               "--quiet", "--no-report", *args]  # fmt: skip
    return subprocess.Popen(command, env=sandbox.driver_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _committed(out: Path) -> int:
    return len(list((out / "items").glob("*.json"))) if (out / "items").is_dir() else 0


def _finish(process: subprocess.Popen, timeout: float = 400) -> str:
    """What the finished ``process`` printed on stderr (it must succeed)."""
    _, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err.decode()[-3000:]
    return err.decode()


def _outlived(processes: list[psutil.Process], timeout: float) -> list[str]:
    """The names of ``processes`` still running after ``timeout`` seconds."""
    _, alive = psutil.wait_procs(processes, timeout=max(timeout, 0.1))
    return [p.name() for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.fixture(scope="session")
def must_exit() -> Iterator[list[tuple[list[psutil.Process], float]]]:
    """Processes a test expects to exit by a deadline (``time.monotonic()``), awaited when the session's tests are
    done (a leak fails the last test of the worker that ran this module; awaited at the module's end, the deadline
    left the worker idle for up to a minute); whatever outlives its deadline is killed."""
    waiting: list[tuple[list[psutil.Process], float]] = []
    yield waiting
    survivors = [name for processes, deadline in waiting for name in _outlived(processes, deadline - time.monotonic())]
    for processes, _ in waiting:
        for process in processes:
            if process.is_running():
                process.kill()
    assert not survivors, f"processes outlived their deadline: {survivors}"


def test_cli_ray_local_killed_then_resumed_equals_local_and_leaves_no_ray_process(
    sandbox: Sandbox, study: dict[str, Any], request: pytest.FixtureRequest, must_exit: list
) -> None:
    """``xaitk-wcam study ... --executor ray:local:2``: killed (SIGKILL) once it committed an item, it leaves no Ray
    process behind: the workers, the raylet and the GCS end at once; Ray's two agents see the raylet gone at once too,
    but then wait 60 s for the dead GCS (Ray's ``publish_error_to_driver`` timeout) before they exit, so they are
    checked at the session's end (:func:`must_exit`). ``--resume`` then finishes the study, equal to ``local`` (a
    slower classifier, same outputs)."""
    request.getfixturevalue("local_ray_probed")
    study["marker"].touch()
    config = json.loads(json.dumps(study["config"]))
    config["classifier"][CLASSIFIER]["delay"] = 0.05
    slow = {**study, "path": sandbox.outside / "slow-study.json"}
    slow["path"].write_text(json.dumps(config))
    out = _new_out(sandbox, "ray-cli")
    process = _cli(sandbox, slow, out, "--executor", "ray:local:2?object_store_mb=200")
    children: list[psutil.Process] = []
    agents: list[psutil.Process] = []

    try:
        deadline = time.monotonic() + 240
        while not _committed(out):
            assert process.poll() is None, process.stderr.read().decode()[-3000:]  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "nothing committed in 240 s"
            time.sleep(0.05)
        children = psutil.Process(process.pid).children(recursive=True)
        assert any("default_worker" in " ".join(p.cmdline()) for p in children if p.is_running()), children
        agents[:] = [p for p in children if p.is_running() and "agent" in " ".join(p.cmdline()).lower()]
        process.send_signal(signal.SIGKILL)
        must_exit.append((agents, time.monotonic() + 150))
        process.wait(timeout=60)
        assert not _outlived([p for p in children if p not in agents], 30), "Ray processes outlived the study"
        assert 0 < _committed(out) < N_IMAGES * (len(KSIZES) + 2)
        _finish(_cli(sandbox, slow, out, "--executor", "ray:local:2?object_store_mb=200", "--resume"))
        pd.testing.assert_frame_equal(read_results(out), study["local"])
        assert sandbox.denied() == []
    finally:
        stop(process)
        for child in children:
            if child.is_running() and child not in agents:
                child.kill()


def test_cli_on_a_remote_dask_scheduler_equals_local_and_workers_never_touch_out_dir(
    sandbox: Sandbox, study: dict[str, Any], dask_address: str
) -> None:
    """... and the study warns that the workers run with Dask's default ``MALLOC_TRIM_THRESHOLD_`` (slower)."""
    out = _new_out(sandbox, "dask-cli")
    err = _finish(_cli(sandbox, study, out, "--executor", f"dask:{dask_address}"))
    pd.testing.assert_frame_equal(read_results(out), study["local"])
    assert sandbox.denied() == []
    assert "2 worker(s) of the Dask cluster" in err and "MALLOC_TRIM_THRESHOLD_=65536" in err, err[-2000:]


@pytest.mark.parametrize("executor", ["ray:local:2", "dask:ADDRESS"])
def test_a_worker_killed_mid_unit_loses_nothing_and_commits_nothing_twice(
    driver: Sandbox, study: dict[str, Any], executor: str, request: pytest.FixtureRequest, monkeypatch
) -> None:
    """Item 2 of image 1 kills its worker (SIGKILL) once: items 0 and 1 of that image were returned and committed
    (the study's process reads its reference back from the store for the rerun), the unit reruns from item 2."""
    if executor == "dask:ADDRESS":
        executor = f"dask:{request.getfixturevalue('dask_address')}"
    else:
        request.getfixturevalue("local_ray_probed")
        executor += "?object_store_mb=200"
    study["marker"].unlink(missing_ok=True)
    counts = _counting_commits(monkeypatch)
    out = _new_out(driver, f"killed-{executor.split(':')[0]}")
    frame = SaliencyRobustnessStudy(study["config"]).run(
        out, executor=executor, progress=False, report=False, max_worker_deaths=2
    )
    assert study["marker"].exists()  # the worker was killed
    pd.testing.assert_frame_equal(read_results(out), study["local"])
    assert (frame["status"] == "ok").all()
    n_items = N_IMAGES * (len(KSIZES) + 2)
    assert len(counts) == n_items and set(counts.values()) == {1}, counts
    assert driver.denied() == []


def test_ray_cluster_with_gpus_per_worker_equals_local(
    driver: Sandbox, study: dict[str, Any], ray_address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ray:ADDRESS?num_gpus=0.5``: each of two actors holds half of the head's (declared) GPU, Ray hands it its
    ``CUDA_VISIBLE_DEVICES``, and the study (a CPU model) runs the same. The study's own executor is inspected (a
    second one would build two more actors, the model in each)."""
    from xaitk_wcam.study.ray_executor import RayExecutor

    opened: list[RayExecutor] = []
    init = RayExecutor.__init__

    def recorded(self: RayExecutor, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(RayExecutor, "__init__", recorded)
    study["marker"].touch()
    out = _new_out(driver, "ray-gpus")
    SaliencyRobustnessStudy(study["config"]).run(out, executor=f"ray:{ray_address}?num_gpus=0.5", progress=False,
                                                 report=False)  # fmt: skip
    pd.testing.assert_frame_equal(read_results(out), study["local"])
    assert driver.denied() == []
    (executor,) = opened
    assert [(w["gpu_ids"], w["cuda_visible_devices"]) for w in executor.worker_info] == [(["0"], "0")] * 2
    assert executor.workers == 2 and executor.max_in_flight == 2 and executor.max_items == 4
