"""What every wavelet-space metric shares (``impls/faithfulness/_wavelet.py``): config, geometry checks, batches."""

from __future__ import annotations

import numpy as np
import pytest
from faithfulness_helpers import FnBlackbox, channel0_mean

from xaitk_wcam.impls.faithfulness import WaveletDeletion
from xaitk_wcam.impls.faithfulness._wavelet import WaveletMetric


def test_the_metrics_read_wavelet_maps_of_their_own_levels_and_wavelet():
    metric = WaveletDeletion(wavelet="db2", levels=2, batch_size=5)
    assert isinstance(metric, WaveletMetric) and metric.map_spaces == ("wavelet",)
    assert {"wavelet": "db2", "levels": 2, "batch_size": 5}.items() <= metric.get_config().items()
    metric.check_geometry("wavelet", {"levels": 2, "wavelet": "db2"})
    metric.check_geometry("wavelet", {})  # nothing known: nothing refused
    with pytest.raises(ValueError, match="levels=2 but the wavelet map has levels=3"):
        metric.check_geometry("wavelet", {"levels": 3})
    with pytest.raises(ValueError, match="wavelet='db2' but the wavelet map was made with 'haar'"):
        metric.check_geometry("wavelet", {"wavelet": "haar"})
    with pytest.raises(ValueError):
        metric.check_geometry("pixel", {})


def test_wrong_parameters():
    with pytest.raises(ValueError, match="wavelet"):
        WaveletDeletion(wavelet="nope")
    with pytest.raises(ValueError, match="levels"):
        WaveletDeletion(levels=0)
    with pytest.raises(ValueError, match="batch_size"):
        WaveletDeletion(batch_size=0)


def test_rebuilt_images_are_classified_batch_by_batch():
    image = np.random.default_rng(0).random((8, 8, 3))
    blackbox = FnBlackbox(channel0_mean)
    metric = WaveletDeletion(levels=1, batch_size=3)
    coefficients = metric._coefficients(image)
    approximation = np.zeros((8, 8), bool)
    approximation[:4, :4] = True  # the approximation band of an 8 x 8 layout at 1 level
    keep = np.stack([np.ones(64, bool)] + [approximation.ravel()] * 3 + [np.zeros(64, bool)] * 3)
    confidences = metric._classify(coefficients, keep, blackbox)
    assert confidences.shape == (7, 2) and [shape[0] for shape, _ in blackbox.batches] == [3, 3, 1]
    # all coefficients, or the approximation alone (2 x 2 block means: the same mean), then none (black)
    np.testing.assert_allclose(confidences[:4, 0], image[..., 0].mean(), atol=1e-12)
    np.testing.assert_allclose(confidences[4:, 0], 0.0, atol=1e-12)


def test_a_map_must_have_the_images_shape_and_the_image_room_for_the_levels():
    metric = WaveletDeletion(levels=3)
    with pytest.raises(ValueError, match=r"wavelet-layout map of the image's shape \(16, 16\)"):
        metric._check_inputs(np.zeros((16, 16, 3)), np.zeros((8, 8)))
    with pytest.raises(ValueError):
        WaveletDeletion(wavelet="db4", levels=3)._check_inputs(np.zeros((8, 8, 3)), np.zeros((8, 8)))
    metric._check_inputs(np.zeros((16, 16, 3)), np.zeros((16, 16)))
