"""Study fixtures: the fake classifier's class-level hooks are reset around every test."""

from __future__ import annotations

import os
from typing import Any

import pytest
from study_helpers import FakeClassifier

# Ray (2.5x) turns token authentication on for every local cluster ray.init starts and keeps it for the life of the
# process; a process that ran one then cannot use the workers of another cluster (a head node a test starts) whatever
# its token. The tests' clusters live on this machine and end with the tests: they run without it (before any import
# of ray; set RAY_AUTH_MODE=token to test with it, one cluster per process).
os.environ.setdefault("RAY_AUTH_MODE", "disabled")


@pytest.fixture(autouse=True)
def _reset_fake() -> Any:
    FakeClassifier.calls = 0
    FakeClassifier.kill_after = None
    yield
    FakeClassifier.kill_after = None


@pytest.fixture(scope="session")
def ray_scheme_found(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``--executor ray:...`` resolvable here and in the processes started here (see ``engines.ray_scheme``)."""
    from engines import ray_scheme

    with pytest.MonkeyPatch.context() as mp:
        folder = ray_scheme(tmp_path_factory.mktemp("ray-scheme"))
        if folder is not None:
            mp.syspath_prepend(str(folder))
            mp.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])))
        yield
