"""Real Dask and Ray clusters for the study tests, whose workers cannot touch the study's ``OUT_DIR``.

**How the workers are kept out of ``OUT_DIR``.** The tests run as whatever user CI gives (often root, which file modes
do not stop), with no second user and no guarantee of mount namespaces. So the workers are given a Python that
refuses to touch one folder: every worker process (Dask's scheduler, nannies and workers; Ray's workers) starts with
:data:`SANDBOX` on its ``PYTHONPATH`` as ``sitecustomize``, which installs an audit hook (PEP 578, ``sys.addaudithook``,
which cannot be removed) that raises ``PermissionError`` on every ``open``, ``mkdir``, ``rename``/``replace``,
``remove``, ``listdir``/``scandir``... of a path under ``XAITK_WCAM_TEST_DENY`` (the test's private folder, where the
driver then creates ``OUT_DIR``), and logs the attempt (process id, event, path) to ``XAITK_WCAM_TEST_DENY_LOG``. All
the store's writes are Python file operations (``open``, ``os.open``, ``os.replace``, ``os.mkdir``), so a worker that
tried to commit an item would fail it, and the log would say so; a probe run on the workers checks that the hook is
active.
The study's own process is exempt: it pops ``XAITK_WCAM_TEST_DRIVER`` from its environment at start-up, so the
processes it starts (a local Ray cluster's workers) are not. The workers also start with a working directory and a
``HOME`` of their own, before the driver creates ``OUT_DIR``, and never receive its path.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

SANDBOX = '''
"""Installed by the study tests (tests/study/engines.py): refuse every file operation under XAITK_WCAM_TEST_DENY."""
import os
import sys

_DENY = os.environ.get("XAITK_WCAM_TEST_DENY")
if _DENY and not os.environ.pop("XAITK_WCAM_TEST_DRIVER", None):
    _ROOTS = tuple({os.path.abspath(_DENY), os.path.realpath(_DENY)})
    _LOG = os.environ.get("XAITK_WCAM_TEST_DENY_LOG")
    _EVENTS = {"open", "os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.listdir", "os.scandir", "os.truncate",
               "os.link", "os.symlink", "os.chmod", "os.chown", "os.utime", "os.chdir", "shutil.rmtree", "shutil.move"}
    _busy = []

    def _denied(arg):
        if isinstance(arg, int) or not isinstance(arg, (str, bytes, os.PathLike)):
            return None
        path = os.path.abspath(os.fsdecode(os.fspath(arg)))
        return path if any(path == root or path.startswith(root + os.sep) for root in _ROOTS) else None

    def _hook(event, args):
        if event not in _EVENTS or _busy:
            return
        for arg in args[:2]:
            path = _denied(arg)
            if path is not None:
                if _LOG:
                    _busy.append(1)
                    try:
                        with open(_LOG, "a") as log:
                            log.write(f"{os.getpid()} {event} {path}\\n")
                    finally:
                        _busy.pop()
                raise PermissionError(13, "this worker may not touch the study's output folder", path)

    sys.addaudithook(_hook)
'''

PLUGIN = '''
"""A classifier for the engine tests (tests/study/engines.py) and the sandbox probe."""
import hashlib
import os
import signal
import time

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage


class KillOnceClassifier(ClassifyImage):
    """Mean colour -> three probabilities, ``delay`` seconds per image. The first time any process of the study
    classifies the image whose SHA-256 is ``target`` while ``marker`` does not exist, it creates ``marker`` and kills
    its own process (SIGKILL)."""

    def __init__(self, marker: str = "", target: str = "", delay: float = 0.0):
        self.marker, self.target, self.delay = marker, target, delay

    def get_labels(self):
        return ["r", "g", "b"]

    def classify_images(self, img_iter):
        for image in img_iter:
            x = np.ascontiguousarray(np.asarray(image))
            armed = self.marker and not os.path.exists(self.marker)
            if armed and hashlib.sha256(x.tobytes()).hexdigest() == self.target:
                open(self.marker, "w").close()
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(self.delay)
            m = x.astype(np.float64).reshape(-1, x.shape[-1]).mean(axis=0)[:3] / 64
            e = np.exp(m - m.max())
            yield dict(zip(self.get_labels(), e / e.sum()))

    def get_config(self):
        return {"marker": self.marker, "target": self.target, "delay": self.delay}


def probe(folder):
    """Try to write into ``folder``; return what happened (the sandbox must refuse it) and the process id."""
    try:
        with open(os.path.join(folder, "sandbox-probe.txt"), "w") as fh:
            fh.write("a worker wrote here")
        return "written", os.getpid()
    except PermissionError as err:
        return f"refused: {err}", os.getpid()
'''

#: The file the probe tries to write.
PROBE = "sandbox-probe.txt"
#: The plugin module's name (``SMQTK_PLUGIN_PATH``) and its classifier's ``type``.
PLUGIN_MODULE = "engine_plugins"
CLASSIFIER = f"{PLUGIN_MODULE}.KillOnceClassifier"


class Sandbox:
    """A test's folders: ``private`` (denied to the workers; the driver creates ``OUT_DIR`` in it), ``code`` (the
    sandbox hook, the plugin module and, when needed, :func:`ray_scheme`, on every process's ``PYTHONPATH``),
    ``outside`` (the workers' homes and
    working directories, the hook's log, kill markers)."""

    def __init__(self, root: Path) -> None:
        self.private, self.code, self.outside = root / "private", root / "code", root / "outside"
        for folder in (self.private, self.code, self.outside):
            folder.mkdir(parents=True, exist_ok=True)
        (self.code / "sitecustomize.py").write_text(SANDBOX)
        (self.code / f"{PLUGIN_MODULE}.py").write_text(PLUGIN)
        ray_scheme(self.code)
        self.log = self.outside / "denied.log"

    def pythonpath(self) -> str:
        """The sandbox code, then the source tree of the xaitk_wcam the tests import, then the inherited path."""
        import xaitk_wcam

        source = str(Path(xaitk_wcam.__file__).resolve().parents[1])
        inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        return os.pathsep.join(dict.fromkeys([str(self.code), source, *inherited]))

    def worker_env(self, name: str) -> tuple[dict[str, str], Path]:
        """Environment and working directory of a worker process started by a test: its own ``HOME`` and cwd, Ray's
        authentication as this process has it (``RAY_AUTH_*``, see ``conftest.py``), no other ``RAY_`` variable."""
        home = self.outside / name
        home.mkdir(exist_ok=True)
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("RAY_") or k.startswith("RAY_AUTH_")}
        env = {**inherited, "PYTHONPATH": self.pythonpath(), "HOME": str(home), "SMQTK_PLUGIN_PATH": PLUGIN_MODULE,
               "XAITK_WCAM_TEST_DENY": str(self.private), "XAITK_WCAM_TEST_DENY_LOG": str(self.log)}  # fmt: skip
        env.pop("XAITK_WCAM_TEST_DRIVER", None)
        return env, home

    def driver_env(self) -> dict[str, str]:
        """Environment of a study process started by a test (exempt from the hook; what it starts is not)."""
        env, _ = self.worker_env("driver")
        return {**env, "HOME": os.environ.get("HOME", str(self.outside)), "XAITK_WCAM_TEST_DRIVER": "1"}

    def denied(self) -> list[str]:
        """Every attempt of a worker to touch ``private`` (``pid event path``), the probes' aside."""
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [line for line in lines if not line.endswith(os.sep + PROBE)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """End a process this test started and every process it started, by their ids."""
    children: list[psutil.Process] = []
    with contextlib.suppress(psutil.NoSuchProcess):
        children = psutil.Process(process.pid).children(recursive=True)
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    _, alive = psutil.wait_procs(children, timeout=timeout)
    for child in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


def _wait_for(condition: Any, what: str, process: subprocess.Popen, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            raise RuntimeError(f"{what}: the process ended with code {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not ready after {timeout:.0f} s")
        time.sleep(0.3)


@contextlib.contextmanager
def dask_cluster(sandbox: Sandbox, workers: int = 2):
    """A Dask scheduler and ``workers`` single-threaded workers (under their nannies), each its own process started
    here with the sandbox; a task whose worker dies fails at once (``allowed-failures: 0``). Yields the address."""
    env, home = sandbox.worker_env("dask")
    env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = "0"
    scheduler_file = sandbox.outside / "dask-scheduler.json"
    scheduler_file.unlink(missing_ok=True)
    python = [sys.executable, "-m"]
    scheduler = subprocess.Popen(
        [*python, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
         "--scheduler-file", str(scheduler_file)],
        cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    started = [scheduler]
    try:
        _wait_for(scheduler_file.exists, "dask scheduler", scheduler)
        address = json.loads(scheduler_file.read_text())["address"]
        worker = subprocess.Popen(
            [*python, "distributed.cli.dask_worker", "--scheduler-file", str(scheduler_file), "--nworkers",
             str(workers), "--nthreads", "1", "--no-dashboard", "--local-directory", str(home), "--memory-limit", "0"],
            cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        started.append(worker)
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for process in reversed(started):
            stop(process)


@contextlib.contextmanager
def ray_cluster(sandbox: Sandbox, cpus: int = 2, gpus: int = 0):
    """A Ray head node started here (``ray start --head --block``) with the sandbox, ``cpus`` CPUs and ``gpus``
    declared GPUs (Ray schedules on declared resources: a GPU-less machine tests the plumbing of ``num_gpus``).
    Yields its address (``host:port``)."""
    env, home = sandbox.worker_env("ray")
    port = free_port()
    # Its own temp folder (short: Ray's socket paths must stay under 108 characters): `ray start` records its address
    # there, not in /tmp/ray, where another Ray user of this machine would find it.
    temp = Path(tempfile.mkdtemp(prefix="xw-ray-"))
    ray = str(Path(sys.executable).with_name("ray"))
    log = (home / "ray-start.log").open("ab")
    head = subprocess.Popen(
        [ray, "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus",
         str(cpus), "--num-gpus", str(gpus), "--include-dashboard", "false", "--object-store-memory",
         str(200 * 2**20), "--disable-usage-stats", "--temp-dir", str(temp)],
        cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        address = f"127.0.0.1:{port}"
        _wait_for(lambda: _ray_up(address), f"ray head (log: {home / 'ray-start.log'})", head)
        yield address
    finally:
        stop(head)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


def _ray_up(address: str) -> bool:
    """Whether a Ray GCS answers at ``address`` (a TCP connection to its port)."""
    host, port = address.rsplit(":", 1)
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex((host, int(port))) == 0


def ray_scheme(folder: Path) -> Path | None:
    """Make ``--executor ray:...`` resolvable in this process and in the processes it starts, until the package is
    installed again with its new entry point: a dist-info folder in ``folder`` declares it (as pip would). Returns
    the folder to put on ``sys.path`` and ``PYTHONPATH``, or ``None`` when the installed package declares it."""
    from xaitk_wcam.study.executors import executor_classes

    if "ray" in executor_classes():
        return None
    info = folder / "xaitk_wcam_ray_scheme-0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: xaitk-wcam-ray-scheme\nVersion: 0\n")
    (info / "entry_points.txt").write_text("[xaitk_wcam.executors]\nray = xaitk_wcam.study.ray_executor:RayExecutor\n")
    return folder
