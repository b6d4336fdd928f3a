"""Sobol design and total-order estimators against closed-form answers."""

import numpy as np
import pytest

from xaitk_wcam.sobol import ESTIMATORS, SobolDesign, check_nb_design

# Ishigami function (a=7, b=0.1) on [-pi, pi]^3: total indices from Sobol' & Levitan (1999).
ISHIGAMI_TOTAL = np.array([0.5576, 0.4424, 0.2437])


def ishigami(x: np.ndarray) -> np.ndarray:
    u = -np.pi + 2 * np.pi * x
    return np.sin(u[:, 0]) + 7 * np.sin(u[:, 1]) ** 2 + 0.1 * u[:, 2] ** 4 * np.sin(u[:, 0])


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimators_recover_ishigami_total_indices(name):
    design = SobolDesign(3, 2**13, seed=0)
    outputs = ishigami(design.rows(0, len(design)).astype(np.float64))
    total = ESTIMATORS[name](outputs, design.nb_design)[:, 0]
    np.testing.assert_allclose(total, ISHIGAMI_TOTAL, atol=0.01)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimators_linear_and_product_models_vectorised_over_outputs(name):
    # Column 0: 3 x0 + x1 (no interaction): ST = a_i^2 / sum a^2 = (0.9, 0.1, 0).
    # Column 1: x0 * x1 on U(0,1)^2: V = 7/144, V_0 = V_1 = 3/144, V_01 = 1/144 -> ST = 4/7 each.
    design = SobolDesign(3, 2**12, seed=1)
    x = design.rows(0, len(design)).astype(np.float64)
    outputs = np.stack([3 * x[:, 0] + x[:, 1], x[:, 0] * x[:, 1]], axis=1)
    total = ESTIMATORS[name](outputs, design.nb_design)
    np.testing.assert_allclose(total[:, 0], [0.9, 0.1, 0.0], atol=0.02)
    np.testing.assert_allclose(total[:, 1], [4 / 7, 4 / 7, 0.0], atol=0.03)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_constant_output_gives_zero_not_nan(name):
    total = ESTIMATORS[name](np.ones((4 * 5, 2)), 4)
    assert total.shape == (3, 2)
    assert np.all(total == 0)


def test_design_rows_follow_a_b_c_order_and_are_streamable():
    design = SobolDesign(4, 8, seed=3)
    rows = design.rows(0, len(design))
    assert rows.shape == (8 * 6, 4) and len(design) == 48
    np.testing.assert_array_equal(rows[:8], design.a)
    np.testing.assert_array_equal(rows[8:16], design.b)
    for i in range(4):
        block = rows[16 + 8 * i : 16 + 8 * (i + 1)]
        expected = design.a.copy()
        expected[:, i] = design.b[:, i]
        np.testing.assert_array_equal(block, expected)
    # Any slicing gives the same rows as the whole.
    np.testing.assert_array_equal(np.concatenate([design.rows(s, s + 5) for s in range(0, 48, 5)]), rows)
    assert np.all((rows >= 0) & (rows <= 1))


def test_design_is_seeded():
    np.testing.assert_array_equal(SobolDesign(5, 16, seed=7).a, SobolDesign(5, 16, seed=7).a)
    assert not np.array_equal(SobolDesign(5, 16, seed=7).a, SobolDesign(5, 16, seed=8).a)


@pytest.mark.parametrize("bad", [0, 3, 6, -4])
def test_nb_design_must_be_power_of_two(bad):
    with pytest.raises(ValueError, match="nb_design"):
        check_nb_design(bad)


def test_nb_design_type():
    with pytest.raises(TypeError, match="nb_design"):
        check_nb_design(8.0)
