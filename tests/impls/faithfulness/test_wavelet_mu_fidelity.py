"""WaveletMuFidelity: hand-computed correlations on the block image, subsets, geometry, config."""

import json

import numpy as np
import pytest
from smqtk_core.configuration import from_config_dict, to_config_dict
from wavelet_helpers import IMAGE, blackbox

from xaitk_wcam.impls.faithfulness import MuFidelity, WaveletMuFidelity
from xaitk_wcam.interfaces.explanation import WAVELET
from xaitk_wcam.interfaces.faithfulness import FaithfulnessMetric


def metric(**kwargs):
    # a 2 x 2 grid over the 4 x 4 layout at one level: cell 0 is the approximation band, cells 1-3 the details
    return WaveletMuFidelity(levels=1, grid_size=2, subset_percent=0.5, n_samples=12, **kwargs)


def test_correlation_by_hand():
    mu = metric()
    removed = mu.subsets(4)  # 12 x 4, two cells each
    drop = np.where(removed[:, 0], 0.5, 0.0)  # only the approximation band moves the mean, by all of it
    assert 0 < removed[:, 0].sum() < 12  # both cases occur, so the correlation is defined

    on_band = np.zeros((4, 4))
    on_band[:2, :2] = 1.0  # mass 4 when the band is removed, 0 otherwise: correlation 1
    assert mu.compute(IMAGE, on_band, blackbox(), 0).scores["wavelet_mufidelity"] == pytest.approx(1.0)
    assert mu.compute(IMAGE, 1.0 - on_band, blackbox(), 0).scores["wavelet_mufidelity"] == pytest.approx(-1.0)

    graded = np.kron(np.array([[3.0, 1.0], [2.0, 0.5]]), np.ones((2, 2)))  # cell masses 12, 4, 8, 2
    mass = removed @ np.array([12.0, 4.0, 8.0, 2.0])
    expected = np.corrcoef(drop, mass)[0, 1]
    assert mu.compute(IMAGE, graded, blackbox(), 0).scores["wavelet_mufidelity"] == pytest.approx(expected)


def test_subsets_are_the_pixel_metrics_and_follow_the_seed():
    np.testing.assert_array_equal(
        metric(seed=4).subsets(4), MuFidelity(grid_size=2, subset_percent=0.5, n_samples=12, seed=4).subsets(4)
    )
    assert not np.array_equal(metric(seed=4).subsets(4), metric(seed=5).subsets(4))


def test_forward_passes_and_wrong_input():
    box = blackbox()
    metric().compute(IMAGE, np.ones((4, 4)) + np.eye(4), box, 0)
    assert sum(shape[0] for shape, _ in box.batches) == 13  # n_samples + the image
    with pytest.raises(ValueError, match="grid_size=8 exceeds the padded layout's side 4"):
        WaveletMuFidelity(levels=1, grid_size=8).compute(IMAGE, np.ones((4, 4)), box, 0)
    with pytest.raises(ValueError, match="subset_percent"):
        WaveletMuFidelity(grid_size=2, subset_percent=0.1)
    with pytest.raises(ValueError, match="n_samples"):
        WaveletMuFidelity(n_samples=1)
    with pytest.raises(ValueError, match="levels=1 but the wavelet map has levels=3"):
        metric().check_geometry(WAVELET, {"levels": 3})


def test_config_round_trip_and_discovery():
    mu = WaveletMuFidelity(wavelet="db2", levels=2, grid_size=7, subset_percent=0.3, n_samples=9, seed=2)
    config = json.loads(json.dumps(to_config_dict(mu)))
    assert "fill" not in config[config["type"]]
    clone = from_config_dict(config, FaithfulnessMetric.get_impls())
    assert isinstance(clone, WaveletMuFidelity) and clone.get_config() == mu.get_config()
    assert mu.map_spaces == (WAVELET,) and mu.score_names == ("wavelet_mufidelity",)
