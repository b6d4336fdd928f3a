"""Pinning a worker death on a unit: only a unit that ran alone from submission to end is the culprit."""

from __future__ import annotations

from concurrent.futures import Future

import pytest

from xaitk_wcam.study.executors import InFlight, WorkerDied


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
