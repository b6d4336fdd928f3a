"""Every metric on the maps this package makes, of an image whose sides are not multiples of ``2**levels``.

Issue 29: ``ScaleShare`` refused WCAM's and WAM's ``wavelet_maps`` of ``skimage.data.chelsea()`` (300 x 451: "must
have sides that are multiples of 2**levels"), so every row of that method in a study was an error row; and a
wavelet metric's ``compute`` scored a pixel map, or a wavelet map of other levels, given directly (only
``compute_explanation`` refused). Every metric ``get_impls()`` finds (faithfulness, map metrics, comparisons,
xaitk's too) runs here on the package's own maps in every space it reads, and refuses, naming the space, a map
read from an explanation in a space it does not read or of other levels.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np
import pytest
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from xaitk_saliency.interfaces.saliency_metric import SaliencyMetric

from xaitk_wcam import WAM, WCAM
from xaitk_wcam.interfaces import FaithfulnessMetric, SaliencyComparison
from xaitk_wcam.interfaces.explanation import PIXEL, WAVELET, accepted_spaces

LEVELS = 2
#: 30 x 45: neither side a multiple of 2**LEVELS = 4 (the padded layout is 32 x 48).
IMAGE = np.random.default_rng(0).integers(0, 256, (30, 45, 3), dtype=np.uint8)
#: Small keywords of the metrics that have costly defaults.
SMALL: dict[str, dict[str, Any]] = {
    "Deletion": {"max_steps": 4},
    "Insertion": {"max_steps": 4},
    "MuFidelity": {"n_samples": 8, "grid_size": 4},
    "ReconstructionDepth": {"max_steps": 4},
    "WaveletDeletion": {"max_steps": 4},
    "WaveletInsertion": {"max_steps": 4},
    "WaveletMuFidelity": {"grid_size": 4, "n_samples": 8},
    "TopKIntersection": {"k": 0.25},
}


class MeanColour(ClassifyImage):
    """Softmax of the mean colour of the left half."""

    def get_labels(self) -> list[str]:
        return ["r", "g", "b"]

    def classify_images(self, img_iter: Any) -> Any:
        for image in img_iter:
            score = 6 * np.asarray(image, dtype=np.float64)[:, : image.shape[1] // 2, :3].mean(axis=(0, 1)) / 255
            e = np.exp(score - score.max())
            yield dict(zip(self.get_labels(), e / e.sum(), strict=True))

    def get_config(self) -> dict[str, Any]:
        return {}


def _metric(cls: type, levels: int = LEVELS) -> Any:
    keywords = dict(SMALL.get(cls.__name__, {}))
    if "levels" in inspect.signature(cls.__init__).parameters:
        keywords["levels"] = levels
    return cls(**keywords)


@functools.cache  # smqtk scans the entry points on every get_impls()
def _metrics() -> tuple[type, ...]:
    found = set(FaithfulnessMetric.get_impls()) | set(SaliencyMetric.get_impls()) | set(SaliencyComparison.get_impls())
    return tuple(sorted(found, key=lambda cls: cls.__name__))


@pytest.fixture(scope="module")
def explanations(tiny_resnet_dir: Any) -> dict[str, Any]:
    from xaitk_wcam.classifiers import HuggingFaceImageClassifier

    whitebox = HuggingFaceImageClassifier(str(tiny_resnet_dir), device="cpu")
    wcam = WCAM(levels=LEVELS, grid_size=4, nb_design=2, batch_size=16).explain(IMAGE, MeanColour())
    wam = WAM(levels=LEVELS, n_samples=2).explain(IMAGE, whitebox, [0])
    return {"WCAM": (wcam, MeanColour()), "WAM": (wam, whitebox)}


def _score(metric: Any, sal_map: np.ndarray, blackbox: Any) -> Any:
    if isinstance(metric, FaithfulnessMetric):
        return metric.compute(IMAGE, sal_map, blackbox, 0).scores
    if isinstance(metric, SaliencyComparison):
        return metric.compute(sal_map, sal_map[::-1].copy() if metric.name == "Wasserstein" else sal_map)
    return metric.compute(sal_map)


@pytest.mark.parametrize("cls", _metrics(), ids=lambda cls: cls.__name__)
def test_every_metric_accepts_the_packages_own_maps_of_an_image_of_any_shape(cls: type, explanations: Any) -> None:
    metric = _metric(cls)
    scored = 0
    for name, (explanation, blackbox) in explanations.items():
        assert explanation.maps.shape[1:] == IMAGE.shape[:2]
        for space in (s for s in explanation.spaces if s in accepted_spaces(metric)):
            sal_map = explanation.maps_in(space)[0]
            scores = _score(metric, sal_map, blackbox)
            values = np.atleast_1d(list(scores.values()) if isinstance(scores, dict) else scores)
            assert values.size and not np.isinf(values).any(), f"{cls.__name__} on {name}'s {space} map: {scores}"
            scored += 1
    assert scored >= 2, f"{cls.__name__} scored none of the package's maps"


@pytest.mark.parametrize("cls", _metrics(), ids=lambda cls: cls.__name__)
def test_every_metric_refuses_a_map_read_from_an_explanation_in_a_space_it_does_not_read(
    cls: type, explanations: Any
) -> None:
    metric = _metric(cls)
    explanation, blackbox = explanations["WCAM"]
    for space in (s for s in (PIXEL, WAVELET) if s not in accepted_spaces(metric)):
        with pytest.raises(ValueError, match=f"reads {accepted_spaces(metric)[0]} maps.*{space}"):
            _score(metric, explanation.maps_in(space)[0], blackbox)
        _score(metric, np.asarray(explanation.maps_in(space)[0]), blackbox)  # a plain array: as the caller says
    if accepted_spaces(metric) == (WAVELET,):
        with pytest.raises(ValueError, match=f"levels={LEVELS + 1} but .*levels={LEVELS}"):
            _score(_metric(cls, levels=LEVELS + 1), explanation.wavelet_maps[0], blackbox)


def test_scale_shares_of_a_map_of_any_shape_are_the_explanations_own_scale_profile(explanations: Any) -> None:
    """ScaleShare reads the map back onto its padded layout: on WCAM's maps (constant on grid cells) it gives the
    explanation's own scale profile up to the nearest resampling of the padded rows and columns."""
    from xaitk_wcam.impls.saliency_metric import ScaleShare

    for explanation, _ in explanations.values():
        shares = [ScaleShare(level=k, levels=LEVELS).compute(explanation.wavelet_maps[0]) for k in range(LEVELS + 1)]
        np.testing.assert_allclose(shares, explanation.scale_profile[0], atol=0.03)
        np.testing.assert_allclose(explanation.level_shares(), explanation.scale_profile, atol=1e-12)


def test_comparisons_refuse_two_maps_of_different_spaces(explanations: Any) -> None:
    from xaitk_wcam.impls.comparison import SSD

    explanation, _ = explanations["WCAM"]
    with pytest.raises(ValueError, match=r"one space .* a pixel map and a wavelet map of levels=2"):
        SSD().compute(explanation.spatial_maps[0], explanation.wavelet_maps[0])
    assert SSD().compute(explanation.wavelet_maps[0], explanation.wavelet_maps[0]) == 0.0
