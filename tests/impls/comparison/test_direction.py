"""Every registered comparison states its direction, and the direction agrees with what the comparison does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from xaitk_wcam.interfaces.saliency_comparison import SaliencyComparison
from xaitk_wcam.statistics.change import DIRECTIONS, DISTANCE, IDENTICAL, SIMILARITY, as_change

#: Constructor keywords of comparisons that need some (by class name); others are built with no argument.
KWARGS: dict[str, dict[str, Any]] = {"TopKIntersection": {"k": 0.25}, "Wasserstein": {"grid_size": 8}}

IMPLS = sorted(SaliencyComparison.get_impls(), key=lambda c: c.__name__)


def test_the_package_comparisons_are_registered():
    names = {c.__name__ for c in IMPLS}
    assert {"SSD", "XCorr", "SpearmanRank", "TopKIntersection", "Wasserstein"} <= names


@pytest.mark.parametrize("cls", IMPLS, ids=lambda c: c.__name__)
def test_direction_agrees_with_behaviour(cls: type) -> None:
    assert cls.direction in DIRECTIONS
    comparison = cls(**KWARGS.get(cls.__name__, {}))
    rng = np.random.default_rng(7)
    a = rng.random((16, 16))
    unrelated = [rng.random((16, 16)) for _ in range(3)]
    same = comparison(a, a)
    others = [comparison(b, a) for b in unrelated]
    if cls.direction == SIMILARITY:
        assert all(same > other for other in others)
    else:
        assert all(same < other for other in others)
    # the package's convention: 0 change for a map compared with itself, positive for unrelated maps
    assert same == pytest.approx(IDENTICAL[cls.direction], abs=1e-9)
    assert as_change(same, cls.direction) == pytest.approx(0.0, abs=1e-9)
    assert all(as_change(other, cls.direction) > 0 for other in others)


def test_the_package_directions():
    from xaitk_wcam.impls.comparison import SSD, SpearmanRank, TopKIntersection, Wasserstein, XCorr

    assert {c.direction for c in (XCorr, SpearmanRank, TopKIntersection)} == {SIMILARITY}
    assert {c.direction for c in (SSD, Wasserstein)} == {DISTANCE}
