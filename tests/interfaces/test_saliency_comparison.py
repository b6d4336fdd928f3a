"""The ``SaliencyComparison`` template (``interfaces/saliency_comparison.py``): every registered comparison states its
direction and the direction agrees with what it does; inputs are checked and never modified; configs round-trip."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from xaitk_wcam.impls.comparison import SSD, SpearmanRank, TopKIntersection, Wasserstein, XCorr
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


ALL = (SSD(), XCorr(), SpearmanRank(), TopKIntersection(5), Wasserstein(grid_size=8))


@pytest.fixture
def maps():
    rng = np.random.default_rng(0)
    return rng.random((12, 10)), rng.random((12, 10))


def test_wrong_inputs(maps):
    a, _ = maps
    for comparison in ALL:
        with pytest.raises(ValueError, match="same shape"):
            comparison(a, a[:, :5])
        with pytest.raises(ValueError, match="NaN"):
            comparison(a, np.full_like(a, np.nan))
        with pytest.raises(ValueError, match="sal_map"):
            comparison(a[None], a[None])
        with pytest.raises(TypeError, match="ref_sal_map"):
            comparison(a, a.tolist())
    with pytest.raises(ValueError, match="grid_size"):
        Wasserstein(grid_size=0)


def test_inputs_not_modified_config_and_plugins(maps):
    a, b = maps
    a_copy, b_copy = a.copy(), b.copy()
    impls = SaliencyComparison.get_impls()
    for comparison in ALL:
        value = comparison(a, b)
        clone = type(comparison).from_config(json.loads(json.dumps(comparison.get_config())))
        assert clone.get_config() == comparison.get_config()
        assert clone.compute(a, b) == pytest.approx(value)
        assert type(comparison) in impls
        assert comparison.name == type(comparison).__name__
    np.testing.assert_array_equal(a, a_copy)
    np.testing.assert_array_equal(b, b_copy)
    assert TopKIntersection(0.3).get_config() == {"k": 0.3}
