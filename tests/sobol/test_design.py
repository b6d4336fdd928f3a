"""The Sobol design generated in blocks: bit-identical to the one-shot sequence, bounded in memory (issue 20)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from scipy.stats import qmc

from xaitk_wcam.sobol.design import SobolDesign, check_nb_design, sobol_points


@pytest.mark.parametrize(("nb_dim", "nb_design"), [(1, 1), (4, 8), (16, 2**12), (3, 2**13)])
def test_the_design_in_blocks_equals_the_one_shot_sequence(nb_dim, nb_design):
    sample = qmc.Sobol(d=2 * nb_dim, scramble=True, seed=5).random_base2(m=nb_design.bit_length() - 1)
    design = SobolDesign(nb_dim, nb_design, seed=5)
    np.testing.assert_array_equal(design.a, sample[:, :nb_dim].astype(np.float32))
    np.testing.assert_array_equal(design.b, sample[:, nb_dim:].astype(np.float32))
    start = min(3, nb_design - 1)
    a, b = sobol_points(nb_dim, start, nb_design, seed=5)
    np.testing.assert_array_equal(a, design.a[start:])
    np.testing.assert_array_equal(b, design.b[start:])


def test_building_the_design_allocates_little_more_than_the_design():
    """Issue 20, failure 8: the ``N x 2d`` float64 sample was materialised beside the float32 design (3x)."""
    tracemalloc.start()
    design = SobolDesign(16, 2**15, seed=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    kept = design.a.nbytes + design.b.nbytes
    assert peak <= 1.25 * kept, (peak, kept)
    tracemalloc.start()
    a, b = sobol_points(16, 0, 2**15, seed=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak <= 1.25 * (a.nbytes + b.nbytes)


def test_nb_design_is_capped():
    check_nb_design(2**20)
    with pytest.raises(ValueError, match="1,048,576"):
        check_nb_design(2**21)
