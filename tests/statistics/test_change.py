"""Comparisons oriented as changes; a comparison class cannot forget its direction."""

from __future__ import annotations

import abc

import numpy as np
import pytest

from xaitk_wcam.interfaces.saliency_comparison import SaliencyComparison
from xaitk_wcam.statistics.change import DIRECTIONS, DISTANCE, SIMILARITY, as_change


def test_as_change_known_values():
    assert as_change(1.0, SIMILARITY) == 0.0
    assert as_change(-1.0, SIMILARITY) == 2.0
    assert as_change(0.25, DISTANCE) == 0.25
    np.testing.assert_allclose(as_change([1.0, 0.5, np.nan], SIMILARITY), [0.0, 0.5, np.nan])
    np.testing.assert_allclose(as_change(np.array([[0.0, 3.0]]), DISTANCE), [[0.0, 3.0]])
    assert as_change(np.inf, DISTANCE) == np.inf
    assert as_change(5.0, SIMILARITY, identical=5.0) == 0.0
    assert as_change(2.0, DISTANCE, identical=1.0) == 1.0
    assert isinstance(as_change(0.5, SIMILARITY), float)


def test_offset_cancels_in_a_difference():
    """Why ``1 - s`` and ``-s`` give the same change beyond the noise floor."""
    perturbed, noise = np.array([0.7, 0.9]), np.array([0.8, 0.85])
    one_minus = as_change(perturbed, SIMILARITY) - as_change(noise, SIMILARITY)
    negated = as_change(perturbed, SIMILARITY, identical=0.0) - as_change(noise, SIMILARITY, identical=0.0)
    np.testing.assert_allclose(one_minus, negated)
    np.testing.assert_allclose(one_minus, [0.1, -0.05])


def test_as_change_refuses_wrong_input():
    with pytest.raises(ValueError, match="direction"):
        as_change(1.0, "higher")
    with pytest.raises(TypeError, match="values"):
        as_change("0.5", SIMILARITY)
    with pytest.raises(TypeError, match="values"):
        as_change([True], SIMILARITY)
    with pytest.raises(ValueError, match="identical"):
        as_change(1.0, SIMILARITY, identical=float("nan"))
    with pytest.raises(TypeError, match="identical"):
        as_change(1.0, SIMILARITY, identical="1")


def test_a_comparison_without_a_direction_is_refused():
    with pytest.raises(TypeError, match="direction must be one of"):

        class Forgetful(SaliencyComparison):
            def _compute(self, sal_map: np.ndarray, ref_sal_map: np.ndarray) -> float:
                return 0.0

            def get_config(self) -> dict:
                return {}

    with pytest.raises(TypeError, match="'closeness'"):

        class Misspelt(SaliencyComparison):
            direction = "closeness"

            def _compute(self, sal_map: np.ndarray, ref_sal_map: np.ndarray) -> float:
                return 0.0

            def get_config(self) -> dict:
                return {}


def test_an_abstract_base_may_leave_the_direction_to_its_subclasses():
    class Base(SaliencyComparison):
        @abc.abstractmethod
        def _compute(self, sal_map: np.ndarray, ref_sal_map: np.ndarray) -> float: ...

    class Concrete(Base):
        direction = DISTANCE

        def _compute(self, sal_map: np.ndarray, ref_sal_map: np.ndarray) -> float:
            return float(np.abs(sal_map - ref_sal_map).sum())

        def get_config(self) -> dict:
            return {}

    assert Concrete.direction in DIRECTIONS
    assert Concrete()(np.ones((2, 2)), np.zeros((2, 2))) == 4.0
