"""Importance sampling of the Sobol design (``sobol/importance.py``): the allocation of a budget, the weights of the
base points, inclusion probabilities and systematic sampling."""

import numpy as np
import pytest

from xaitk_wcam.sobol.importance import (
    DENSE_ROWS_PER_DESIGN,
    Allocation,
    inclusion_probabilities,
    sensitivity_weights,
    systematic_sample,
)


def test_systematic_sampling_draws_each_point_with_its_probability():
    pi = inclusion_probabilities(np.array([0.7, 0.1, 0.1, 0.05, 0.05, 0.0]), 3)
    assert pi.sum() == pytest.approx(3) and pi.max() <= 1 and pi.min() > 0
    counts = np.zeros(6)
    draws = 4000
    for u in (np.arange(draws) + 0.5) / draws:
        sample = systematic_sample(pi, u)
        assert len(sample) == 3 and len(set(sample)) == 3
        counts[sample] += 1
    np.testing.assert_allclose(counts / draws, pi, atol=1e-3)


def test_allocation_by_hand():
    # nb_design 8, 4 dense and 252 sparse cells: 8 * 258 = 2064 evaluations; 7 sparse rows, 32 dense rows, the rest
    allocation = Allocation.for_budget(8, 4, 252)
    assert (allocation.sparse_rows, allocation.dense_rows) == (7, DENSE_ROWS_PER_DESIGN * 8)
    assert allocation.pool == 2064 - 7 * 252 - 32 * 4 == 172
    assert Allocation.for_budget(8, 0, 10).dense_rows == 0 and Allocation.for_budget(8, 3, 0).sparse_rows == 0
    tight = Allocation.for_budget(1, 9, 0)  # 11 evaluations: the dense rows halve until the pool holds them
    assert tight.pool >= tight.dense_rows and tight.n_evaluations(9, 0) == 11


def test_sensitivity_weights_favour_base_points_near_the_boundary():
    weights = sensitivity_weights(np.array([[0.5, 0.5], [0.99, 0.01], [0.9, 0.1], [1.0, 0.0]]))
    assert weights.sum() == pytest.approx(1.0) and weights[3] == 0.0
    assert weights[0] > weights[2] > weights[1] > 0
    scores = sensitivity_weights(np.array([[-3.0], [0.0], [3.0]]))  # not probabilities: rescaled to [0, 1] first
    np.testing.assert_allclose(scores, [0.0, 1.0, 0.0])
    np.testing.assert_allclose(sensitivity_weights(np.ones((4, 2))), 0.25)  # nothing varies: uniform


def test_inclusion_probabilities_cap_at_one_and_keep_their_sum():
    pi = inclusion_probabilities(np.array([0.97, 0.01, 0.01, 0.01]), 2, defensive=0.0)
    assert pi[0] == 1.0 and pi.sum() == pytest.approx(2.0)
    np.testing.assert_allclose(pi[1:], 1 / 3)  # the excess is shared in proportion
    np.testing.assert_allclose(inclusion_probabilities(np.full(4, 0.25), 4), 1.0)
    with pytest.raises(ValueError, match=r"n must be in \[1, 4\]"):
        inclusion_probabilities(np.full(4, 0.25), 5)
