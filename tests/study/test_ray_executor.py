"""The ray executor's spec and options (its runs: tests/study/test_executors.py and test_remote_engines.py, which
compare every executor with ``local`` on the same study)."""

from __future__ import annotations

import pytest

from xaitk_wcam.study.ray_executor import RayExecutor


def test_parse_ray_executor_and_its_options() -> None:
    """Every option is checked when the spec is read, before anything starts, with its name in the message."""
    assert RayExecutor.parse("local:2") == {"workers": 2}
    assert RayExecutor.parse("local:2?num_gpus=0.5&max_items=3&object_store_mb=200") == {
        "workers": 2, "num_gpus": 0.5, "max_items": 3, "object_store_mb": 200
    }  # fmt: skip
    assert RayExecutor.parse("auto") == {"address": "auto"}
    assert RayExecutor.parse("ray://head:10001?workers=8&num_gpus=1") == {
        "address": "ray://head:10001", "workers": 8, "num_gpus": 1.0
    }  # fmt: skip
    bad = {
        "": "needs 'local:N' or a cluster address",
        "local": "needs 'local:N'",
        "local:0": "N must be a positive integer",
        "local:2?num_gpus=-1": "num_gpus must be a finite number",
        "local:2?num_gpus=x": "num_gpus must be a number",
        "local:2?max_items=0": "max_items must be a positive integer",
        "local:2?gpus=1": r"option 'gpus=1' is not understood; accepted options: num_gpus, workers",
        "local:2?num_gpus": "is not name=value",
        "local:2?num_gpus=1&num_gpus=1": "is given twice",
        "local:2?workers=3": "ray:local:N gives the workers",
        "auto?object_store_mb=100": "sizes a local cluster",
    }
    for argument, message in bad.items():
        with pytest.raises(ValueError, match=message) as raised:
            RayExecutor.parse(argument)
        assert "ray:" in str(raised.value)  # the spec it refused
