"""WaveletDeletion, WaveletInsertion and WaveletFaithfulness: hand-computed curves, geometry checks, config."""

import json

import numpy as np
import pytest
from smqtk_core.configuration import from_config_dict, to_config_dict
from wavelet_helpers import IMAGE, approximation_first_map, blackbox

from xaitk_wcam.impls.faithfulness import WaveletDeletion, WaveletFaithfulness, WaveletInsertion
from xaitk_wcam.interfaces.explanation import PIXEL, WAVELET, MapExplanation
from xaitk_wcam.interfaces.faithfulness import FaithfulnessMetric


def test_deletion_curve_by_hand():
    # one position per step: removing the blocks 0.8, 0.6, 0.4, 0.2 lowers the mean by a quarter of each
    result = WaveletDeletion(levels=1, max_steps=16).compute(IMAGE, approximation_first_map(), blackbox(), 0)
    expected = np.array([0.5, 0.3, 0.15, 0.05] + [0.0] * 13)
    np.testing.assert_allclose(result.curve_y, expected, atol=1e-12)
    np.testing.assert_allclose(result.curve_x, np.arange(17) / 16)
    assert result.scores["wavelet_dauc"] == pytest.approx((0.8 + 0.45 + 0.2 + 0.05) / 32)


def test_insertion_curve_by_hand():
    result = WaveletInsertion(levels=1, max_steps=16).compute(IMAGE, approximation_first_map(), blackbox(), 0)
    np.testing.assert_allclose(result.curve_y, [0.0, 0.2, 0.35, 0.45] + [0.5] * 13, atol=1e-12)
    assert result.scores["wavelet_iauc"] == pytest.approx((0.1 + 0.275 + 0.4 + 0.475 + 12 * 0.5) / 16)
    # coarser steps: 4 positions per step, the whole approximation band at once
    coarse = WaveletInsertion(levels=1, max_steps=4).compute(IMAGE, approximation_first_map(), blackbox(), 0)
    np.testing.assert_allclose(coarse.curve_y, [0.0, 0.5, 0.5, 0.5, 0.5], atol=1e-12)


def test_faith_by_hand():
    metric = WaveletFaithfulness(levels=1)
    good = metric.compute(IMAGE, approximation_first_map(), blackbox(), 0)
    assert good.scores["wavelet_faithfulness"] == pytest.approx(0.5)  # the top half holds the whole band
    bad = metric.compute(IMAGE, 1.0 - approximation_first_map(), blackbox(), 0)
    assert bad.scores["wavelet_faithfulness"] == pytest.approx(0.0, abs=1e-12)  # details only: nothing changes
    quarter = WaveletFaithfulness(levels=1, fraction=0.125).compute(IMAGE, approximation_first_map(), blackbox(), 1)
    assert quarter.scores["wavelet_faithfulness"] == pytest.approx(-0.35)  # class "b" = 1 - mean rises by 0.35


def test_uint8_colour_image_ends_on_the_image_itself():
    image = np.random.default_rng(0).integers(0, 256, (32, 24, 3), dtype=np.uint8)
    seen = []
    box = blackbox()
    box.fn = lambda batch: (seen.append(batch.copy()), np.tile([0.5, 0.5], (len(batch), 1)))[1]
    WaveletDeletion(max_steps=8).compute(image, np.random.default_rng(1).random((32, 24)), box, 0)
    first = np.concatenate(seen)[0]
    np.testing.assert_array_equal(first, image)  # step 0 keeps every coefficient: the image, exactly
    assert box.batches[0][1] == np.uint8 and np.concatenate(seen)[-1].max() == 0  # all removed: black


def test_maps_of_other_spaces_or_levels_are_refused():
    metric = WaveletDeletion(levels=1, max_steps=4)
    pixel = MapExplanation({PIXEL: approximation_first_map()[None]}, ["a"])
    with pytest.raises(ValueError, match="reads wavelet maps; this explanation has pixel maps"):
        metric.compute_explanation(IMAGE, pixel, blackbox(), 0)
    other_levels = MapExplanation({WAVELET: approximation_first_map()[None]}, ["a"], levels=2)
    with pytest.raises(ValueError, match="levels=1 but the wavelet map has levels=2"):
        metric.compute_explanation(IMAGE, other_levels, blackbox(), 0)
    with pytest.raises(ValueError, match="wavelet='haar' but the wavelet map was made with 'db2'"):
        metric.check_geometry(WAVELET, {"levels": 1, "wavelet": "db2"})
    same = MapExplanation({WAVELET: approximation_first_map()[None]}, ["a"], levels=1)
    direct = metric.compute(IMAGE, approximation_first_map(), blackbox(), 0)
    assert metric.compute_explanation(IMAGE, same, blackbox(), 0).scores == direct.scores
    with pytest.raises(ValueError, match="wavelet-layout map of the image's shape"):
        metric.compute(IMAGE, np.ones((2, 2)), blackbox(), 0)
    with pytest.raises(ValueError, match=r"too small for the haar wavelet .* at levels=3"):
        WaveletDeletion(levels=3).compute(IMAGE, approximation_first_map(), blackbox(), 0)


@pytest.mark.parametrize(
    "metric",
    [
        WaveletDeletion(wavelet="db2", levels=2, max_steps=5, batch_size=3),
        WaveletInsertion(levels=4, max_steps=7),
        WaveletFaithfulness(wavelet="sym3", fraction=0.25),
    ],
)
def test_config_round_trip_and_discovery(metric):
    config = json.loads(json.dumps(to_config_dict(metric)))
    clone = from_config_dict(config, FaithfulnessMetric.get_impls())
    assert type(clone) is type(metric) and clone.get_config() == metric.get_config()
    assert metric.map_spaces == (WAVELET,) and {"wavelet", "levels"} <= set(metric.get_config())


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: WaveletDeletion(max_steps=0), "max_steps"),
        (lambda: WaveletInsertion(wavelet="bior2.2"), "wavelet"),
        (lambda: WaveletInsertion(levels=0), "levels"),
        (lambda: WaveletFaithfulness(fraction=1.0), "fraction"),
        (lambda: WaveletFaithfulness(batch_size=0), "batch_size"),
    ],
)
def test_wrong_keywords(build, words):
    with pytest.raises(ValueError, match=words):
        build()


def _energy_case():
    """A 64 x 64 photograph and a model whose confidence is the share of the image's energy kept: inserting the
    coefficients by magnitude (the oracle) restores it fastest, deleting them so destroys it fastest."""
    from skimage import data, transform

    image = transform.resize(data.camera(), (64, 64), anti_aliasing=True)

    def kept_energy(batch: np.ndarray) -> np.ndarray:
        error = ((batch - image) ** 2).reshape(len(batch), -1).sum(axis=1) / (image**2).sum()
        a = np.clip(1.0 - error, 0.0, 1.0)
        return np.stack([a, 1.0 - a], axis=1)

    from faithfulness_helpers import FnBlackbox

    from xaitk_wcam.wavelets.coefficients import CoefficientImages

    oracle = CoefficientImages(image, wavelet="haar", levels=3).layout.abs().sum(dim=0).numpy()
    return image, FnBlackbox(kept_energy), oracle


@pytest.mark.parametrize(
    ("metric", "score", "higher_is_better"),
    [
        (WaveletInsertion(), "wavelet_iauc", True),
        (WaveletDeletion(), "wavelet_dauc", False),
        (WaveletFaithfulness(), "wavelet_faithfulness", True),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, (str, bool)) else str(v),
)
def test_an_empty_map_never_scores_like_the_magnitude_oracle(metric, score, higher_is_better):
    """Issue 29: ties were broken by coefficient magnitude, so an all-zero map scored 0.937 on Wavelet Insertion
    (0.063 for a random map) and the best Wavelet Deletion, without a warning."""
    image, box, oracle = _energy_case()
    with pytest.warns(RuntimeWarning, match="wavelet map is constant"):
        empty = metric.compute(image, np.zeros((64, 64)), box, 0).scores[score]
    with pytest.warns(RuntimeWarning, match="wavelet map is constant"):  # any constant: the same fixed order
        assert metric.compute(image, np.full((64, 64), 7.0), box, 0).scores[score] == empty
    best = metric.compute(image, oracle, box, 0).scores[score]
    rng = np.random.default_rng(0)
    random = [metric.compute(image, rng.random((64, 64)), box, 0).scores[score] for _ in range(4)]
    assert (best - empty if higher_is_better else empty - best) > 0.3  # measured: 0.46 to 0.51
    assert min(random) - 0.1 < empty < max(random) + 0.1  # it scores as a random order does


def test_every_wavelet_metric_warns_on_a_constant_map():
    """As the pixel metrics warn: a constant map orders nothing (MuFidelity's correlation is then undefined)."""
    from xaitk_wcam.interfaces.explanation import accepted_spaces

    image, box, _ = _energy_case()
    wavelet_metrics = [c for c in FaithfulnessMetric.get_impls() if accepted_spaces(c) == (WAVELET,)]
    assert len(wavelet_metrics) >= 5
    for cls in wavelet_metrics:
        with pytest.warns(RuntimeWarning, match="constant|undefined|nan"):
            cls().compute(image, np.zeros((64, 64)), box, 0)
