"""What the stability metrics share (``interfaces/stability.py``): images as unit floats, the prediction-changed
rule, and what every metric declares."""

from __future__ import annotations

import numpy as np
import pytest

from xaitk_wcam.impls.stability import MaxSensitivity, RelativeInputStability
from xaitk_wcam.interfaces.stability import (
    LocalStabilityMetric,
    RelativeStabilityMetric,
    image_as_unit_float,
    prediction_changed,
)
from xaitk_wcam.statistics.change import DISTANCE


def test_images_as_unit_floats():
    out = image_as_unit_float(np.array([[0, 51, 255]], np.uint8), "image")
    assert out.dtype == np.float64 and out.tolist() == [[0.0, 0.2, 1.0]]
    floats = np.array([[0.25, 1.0]], np.float32)
    assert image_as_unit_float(floats, "image").tolist() == [[0.25, 1.0]]
    with pytest.raises(ValueError, match=r"reference must be float in \[0, 1\]"):
        image_as_unit_float(np.array([[1.5]]), "reference")
    with pytest.raises(TypeError, match="uint8 in"):
        image_as_unit_float(np.array([[3]], np.int32), "image")


def test_prediction_changed_is_a_change_of_top_class():
    assert not prediction_changed(np.array([0.1, 0.7, 0.2]), np.array([0.2, 0.5, 0.3]))
    assert prediction_changed(np.array([[0.6, 0.4]]), np.array([0.4, 0.6]))  # any shape, flattened
    with pytest.raises(ValueError, match="same size"):
        prediction_changed(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="NaN or infinite"):
        prediction_changed(np.array([np.nan, 1.0]), np.zeros(2))
    with pytest.raises(TypeError, match="reference_output must be a real numpy array"):
        prediction_changed(np.zeros(2), [0, 1])


def test_every_metric_declares_a_distance_and_its_costs():
    for metric in (RelativeInputStability(), MaxSensitivity(n_samples=3)):
        assert metric.direction == DISTANCE
        assert metric.n_explanations >= 0 and metric.n_forward_passes >= 0
    assert isinstance(RelativeInputStability(), RelativeStabilityMetric)
    assert isinstance(MaxSensitivity(n_samples=3), LocalStabilityMetric)
    assert MaxSensitivity(n_samples=3).n_explanations == 3 + 1  # the samples and the image's own map
