"""Executors: plugins found through their entry points, and pinning a worker death on the unit that caused it."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import pytest
from study_helpers import fake_config

from xaitk_wcam.study import SaliencyRobustnessStudy, parse_executor
from xaitk_wcam.study.executors import InFlight, LocalExecutor, WorkerDied, accepted_executors

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


def test_an_installed_executor_plugin_runs_a_study_with_no_edit_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A distribution (here a dist-info folder on sys.path, as pip would install it) registers an executor under
    the ``xaitk_wcam.executors`` entry-point group; ``--executor counting:x`` then runs the study with it."""
    (tmp_path / "counting_executor.py").write_text(EXECUTOR_MODULE)
    info = tmp_path / "counting_executor-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: counting-executor\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[xaitk_wcam.executors]\ncounting = counting_executor:CountingExecutor\n")
    monkeypatch.syspath_prepend(str(tmp_path))
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
