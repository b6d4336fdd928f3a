"""Study fixtures: the fake classifier's class-level hooks are reset around every test."""

from __future__ import annotations

from typing import Any

import pytest
from study_helpers import FakeClassifier


@pytest.fixture(autouse=True)
def _reset_fake() -> Any:
    FakeClassifier.calls = 0
    FakeClassifier.kill_after = None
    yield
    FakeClassifier.kill_after = None
