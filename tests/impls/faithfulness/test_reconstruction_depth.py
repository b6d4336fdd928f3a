"""ReconstructionDepth: wavelet-domain insertion with a known answer."""

import json

import numpy as np
import pytest
from fakes import CellEnergyClassifier, noise_image
from smqtk_core.configuration import from_config_dict, to_config_dict

from xaitk_wcam.impls.faithfulness.reconstruction_depth import ReconstructionDepth
from xaitk_wcam.interfaces.faithfulness import FaithfulnessMetric


def test_depth_is_small_for_the_true_map_and_full_for_its_opposite():
    image = noise_image((64, 64, 3))
    rows, cols = slice(8, 16), slice(8, 16)  # one level-1 cell of an 8 x 8 grid
    blackbox = CellEnergyClassifier(image, rows, cols)  # "cell" wins once the cell's energy is > 1/2 back
    true_map = np.zeros((64, 64))
    true_map[rows, cols] = 1.0
    # the approximation band next: the cell's details alone rebuild a black image whose negative half is clipped
    # away (ties among the other positions are broken in a fixed random order, no longer by magnitude, which
    # brought the approximation band in first)
    true_map[:8, :8] = 0.5
    metric = ReconstructionDepth(max_steps=16)
    result = metric.compute(image, true_map, blackbox, class_index=0)
    assert result.scores["reconstruction_depth"] == pytest.approx(1 / 16)
    np.testing.assert_allclose(result.curve_x, np.arange(1, 17) / 16)
    assert result.curve_y[0] > 0.99

    opposite = np.ones((64, 64))
    opposite[rows, cols] = 0.0  # the cell last, the approximation band first
    opposite[:8, :8] = 2.0
    opposite = metric.compute(image, opposite, blackbox, class_index=0)
    assert opposite.scores["reconstruction_depth"] == 1.0
    assert opposite.curve_y[-2] < 0.01


def test_wrong_map_shape_and_options():
    image = noise_image((32, 32, 3))
    blackbox = CellEnergyClassifier(image, slice(0, 4), slice(0, 4))
    with pytest.raises(ValueError, match="wavelet-layout map"):
        ReconstructionDepth().compute(image, np.zeros((16, 16)), blackbox, 0)
    with pytest.raises(ValueError, match="max_steps"):
        ReconstructionDepth(max_steps=0)
    with pytest.raises(ValueError, match="wavelet"):
        ReconstructionDepth(wavelet="nope")


def test_config_round_trip_and_discovery():
    metric = ReconstructionDepth(wavelet="db2", levels=2, max_steps=5, batch_size=3)
    config = json.loads(json.dumps(to_config_dict(metric)))
    clone = from_config_dict(config, FaithfulnessMetric.get_impls())
    assert isinstance(clone, ReconstructionDepth) and clone.get_config() == metric.get_config()
