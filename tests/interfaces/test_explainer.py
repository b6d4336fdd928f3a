"""The explainer adapter: every kind of generator behind one interface, and a new kind plugged in by registering
one adapter (the study, untouched, runs it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from smqtk_core.configuration import to_config_dict
from smqtk_core.plugfigurable import Plugfigurable
from study_helpers import FakeClassifier, fake_config
from xaitk_saliency.impls.gen_image_classifier_blackbox_sal.slidingwindow import SlidingWindowStack

from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM
from xaitk_wcam.impls.gen_image_classifier_whitebox_sal import SmoothGrad, VanillaGradients
from xaitk_wcam.interfaces import explainer as explainer_module
from xaitk_wcam.interfaces.explainer import (
    BlackboxExplainerAdapter,
    Explainer,
    WhiteboxExplainer,
    XaitkBlackboxExplainer,
    as_explainer,
    register_explainer,
)
from xaitk_wcam.interfaces.explanation import PIXEL, WAVELET, Explanation, MapExplanation
from xaitk_wcam.study import ResultsStore, SaliencyRobustnessStudy
from xaitk_wcam.study import plugins as study_plugins


def test_each_kind_gets_its_adapter_and_declares_its_maps() -> None:
    wcam = as_explainer(WCAM(levels=2, grid_size=4))
    assert type(wcam) is BlackboxExplainerAdapter  # the most specific registered class of WCAM's MRO
    assert wcam.map_spaces == (WAVELET, PIXEL) and wcam.wavelet_levels == 2 and wcam.seeded and wcam.seed == 0
    sliding = as_explainer(SlidingWindowStack(window_size=(8, 8), stride=(8, 8)))
    assert type(sliding) is XaitkBlackboxExplainer
    assert sliding.map_spaces == (PIXEL,) and sliding.wavelet_levels is None and not sliding.seeded
    gradients = as_explainer(VanillaGradients())
    assert type(gradients) is WhiteboxExplainer and gradients.map_spaces == (PIXEL,) and not gradients.seeded
    assert as_explainer(gradients) is gradients
    with pytest.raises(TypeError, match=r"no saliency generator of a known kind; accepted: .*WhiteboxSaliency"):
        as_explainer(object())


def test_each_draw_on_an_image_has_its_own_seed_and_the_same_pixels_the_same_one() -> None:
    """A study's items are independent draws: the seed follows the method's seed, the pixels and the draw; a method
    configured with ``seed=None`` (RISEStack's default) draws fresh randomness anyway and is left as it is."""
    from xaitk_saliency.impls.gen_image_classifier_blackbox_sal.rise import RISEStack

    unseeded = as_explainer(RISEStack(n=4, s=2, p1=0.5, seed=None))
    image = np.zeros((8, 8, 3), dtype=np.uint8)
    assert unseeded.seeded and unseeded.seed is None and unseeded.drawn_for(image) is unseeded
    smooth = as_explainer(SmoothGrad(samples=4, seed=3))
    first, again, second = smooth.drawn_for(image), smooth.drawn_for(image.copy()), smooth.drawn_for(image, draw=1)
    other = smooth.drawn_for(image + 1)
    assert first.seed == again.seed and len({first.seed, second.seed, other.seed, 3}) == 4
    assert as_explainer(SmoothGrad(samples=4, seed=4)).drawn_for(image).seed != first.seed
    assert as_explainer(VanillaGradients()).drawn_for(image).seed is None  # deterministic: nothing to draw


def test_with_seed_changes_the_seed_only() -> None:
    smooth = as_explainer(SmoothGrad(samples=4, seed=3))
    other = smooth.with_seed(4)
    assert other.generator.get_config() == {**smooth.generator.get_config(), "seed": 4}
    assert type(other) is type(smooth) and smooth.seed == 3
    with pytest.raises(ValueError, match="has no seed"):
        as_explainer(VanillaGradients()).with_seed(1)


def test_refusals_before_any_work() -> None:
    with pytest.raises(TypeError, match="white-box method"):
        as_explainer(VanillaGradients()).check_model(FakeClassifier())
    with pytest.raises(TypeError, match="ClassifyImage"):
        as_explainer(WCAM()).check_model(object())
    wcam = as_explainer(WCAM(batch_size=8))
    gradients = as_explainer(VanillaGradients())
    assert wcam.images_at_once() == 8 and gradients.images_at_once() == 64
    assert gradients.memory_estimate_mb((1024, 1024, 3)) == pytest.approx(64 * 1024 * 1024 * 3 * 12 / 2**20)
    with pytest.raises(MemoryError, match=r"1024 x 1024 x 3 .* batch of 64 for VanillaGradients, over memory_bud"):
        gradients.check_memory((1024, 1024, 3), 10)
    # a generator that counts its own memory (the Sobol methods: batch, design, outputs) gives the estimate
    own = WCAM(batch_size=8).memory_estimate_bytes((1024, 1024, 3)) / 2**20
    assert wcam.memory_estimate_mb((1024, 1024, 3)) == pytest.approx(own) and own > 8 * 1024 * 1024 * 3 * 12 / 2**20
    with pytest.raises(MemoryError, match=r"1024 x 1024 x 3 .* per explanation .* for WCAM, over memory_budget_mb=10"):
        wcam.check_memory((1024, 1024, 3), 10)


def test_blackbox_adapters_explain_the_targets_only_in_their_order() -> None:
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    explanation = as_explainer(WCAM(levels=2, grid_size=4, nb_design=2)).explain(image, FakeClassifier(), [1])
    assert explanation.labels == ["green"]
    assert set(explanation.spaces) == {WAVELET, PIXEL} and explanation.maps_in(PIXEL).shape == (1, 32, 32)
    sliding = as_explainer(SlidingWindowStack(window_size=(8, 8), stride=(8, 8)))
    two = sliding.explain(image, FakeClassifier(), [2, 0])
    assert two.labels == ["blue", "red"] and two.maps.shape == (2, 32, 32)
    np.testing.assert_array_equal(two.maps[0], sliding.explain(image, FakeClassifier(), [2]).maps[0])


def test_targets_are_checked_and_one_map_per_target_is_enforced() -> None:
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    sliding = as_explainer(SlidingWindowStack(window_size=(8, 8), stride=(8, 8)))
    with pytest.raises(TypeError, match="sequence of class indices"):
        sliding.explain(image, FakeClassifier(), 1)
    with pytest.raises(ValueError, match="target 3 is not a class index of the model's 3 labels"):
        sliding.explain(image, FakeClassifier(), [3])
    with pytest.raises(ValueError, match="targets is empty"):
        sliding.explain(image, FakeClassifier(), [])

    class AllClasses(XaitkBlackboxExplainer):  # ignores the targets: a map of every class
        def _explain(self, image: np.ndarray, model: Any, targets: list[int]) -> Explanation:
            return MapExplanation({PIXEL: np.asarray(self.generator.generate(image, model))}, model.get_labels())

    wrong = AllClasses(SlidingWindowStack(window_size=(8, 8), stride=(8, 8)))
    with pytest.raises(ValueError, match=r"returned 3 pixel map\(s\) for 1 target\(s\)"):
        wrong.explain(image, FakeClassifier(), [1])


# -- a new kind of explainer, plugged in by registering one adapter --------------------------------------------
class GenerateChannelSaliency(Plugfigurable):
    """A made-up kind: ``channel_maps(image, classify)`` scores each pixel by how much one colour channel, scaled
    by ``gain``, moves a confidence; it needs a plain function, not a classifier object."""

    def channel_maps(self, image: np.ndarray, classify: Any) -> np.ndarray:
        raise NotImplementedError


class RedChannelSaliency(GenerateChannelSaliency):
    def __init__(self, gain: float = 0.5, seed: int = 0) -> None:
        self.gain, self.seed = gain, seed

    def channel_maps(self, image: np.ndarray, classify: Any) -> np.ndarray:
        darker = image.copy()
        darker[..., 0] = (darker[..., 0] * self.gain).astype(image.dtype)
        drop = classify(image) - classify(darker)
        noise = np.random.default_rng(self.seed).random(image.shape[:2]) * 1e-3
        return np.abs(image[..., 0] / 255.0 * drop) + noise

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "seed": self.seed}


class ChannelExplainer(Explainer):
    """The adapter of the new kind: all a study needs, nothing in study/ changes."""

    @property
    def map_spaces(self) -> tuple[str, ...]:
        return (PIXEL,)

    @property
    def wavelet_levels(self) -> None:
        return None

    def check_model(self, model: Any) -> None:
        if not hasattr(model, "classify_images"):
            raise TypeError("needs a classifier")

    def _explain(self, image: np.ndarray, model: Any, targets: list[int]) -> Explanation:
        labels = [list(model.get_labels())[target] for target in targets]

        def classify(label: Any) -> Any:
            return lambda x: float(next(iter(model.classify_images([x])))[label])

        maps = np.stack([self.generator.channel_maps(image, classify(label)) for label in labels])
        return MapExplanation({PIXEL: maps}, labels)


@pytest.fixture
def channel_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(explainer_module, "EXPLAINERS", explainer_module.EXPLAINERS.copy())
    monkeypatch.setattr(study_plugins, "_CACHE", {})
    register_explainer(GenerateChannelSaliency, ChannelExplainer)


def test_a_new_kind_runs_in_a_study_by_registering_one_adapter(channel_kind: None, tmp_path: Path) -> None:
    config = fake_config(n=2, size=32)
    config["saliency"] = {"red": to_config_dict(RedChannelSaliency(gain=0.25))}
    config["noise_floor"] = True
    study = SaliencyRobustnessStudy(config)
    assert study.plan.method("red").seeded and study.plan.noise_floor_index == 3
    frame = study.run(tmp_path / "out", progress=False)
    assert (frame["status"] == "ok").all() and set(frame["method"]) == {"red"}
    assert frame[frame["perturbation"] != "reference"]["XCorr"].notna().all()
    maps = ResultsStore(tmp_path / "out").load_arrays("000001-0000").maps["red"]
    assert maps[PIXEL].shape == (32, 32) and maps[PIXEL].max() > 1e-3
    # the noise floor used the adapter's with_seed: the second map differs by its noise only
    floor = ResultsStore(tmp_path / "out").load_arrays("000001-0003").maps["red"][PIXEL]
    assert 0 < np.abs(floor - maps[PIXEL]).max() <= 1e-3
    assert (tmp_path / "out" / "report.html").is_file()


def test_register_explainer_refuses_what_is_no_adapter() -> None:
    with pytest.raises(TypeError, match="subclass of Explainer"):
        register_explainer(GenerateChannelSaliency, object)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="interface class"):
        register_explainer("GenerateChannelSaliency", ChannelExplainer)  # type: ignore[arg-type]
