"""ScaleShapes data set, its ground truth and the training script's determinism (the shipped models:
``tests/models/test_scale_shapes_models.py``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import pywt
import torch

from xaitk_wcam.datasets import (
    SCENE_CLASSES,
    TEXTURES,
    scale_shapes,
    scale_shapes_scenes,
    shape_levels,
    stack_images,
    texture_level,
)
from xaitk_wcam.datasets.scale_shapes import _draw_parameters, _shape_coverage

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def test_split():
    return scale_shapes(64, seed=3, split="test")


def test_deterministic_and_splits_disjoint():
    a = stack_images(scale_shapes(16, seed=5, split="train"))
    b = stack_images(scale_shapes(16, seed=5, split="train"))
    c = stack_images(scale_shapes(16, seed=6, split="train"))
    d = stack_images(scale_shapes(16, seed=5, split="test"))
    assert a.dtype == np.uint8 and a.shape == (16, 64, 64, 3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not any(np.array_equal(x, y) for x in a for y in d)


def test_labels_boxes_and_levels(test_split):
    labels = np.array([s.label for s in test_split])
    np.testing.assert_array_equal(np.bincount(labels), [16, 16, 16, 16])
    for s in test_split:
        assert s.label == s.shape_label == s.texture_label
        sx0, sy0, sx1, sy1 = s.shape_box
        tx0, ty0, tx1, ty1 = s.texture_box
        assert 0 <= sx0 < sx1 <= 64 and 0 <= sy0 < sy1 <= 64 and 20 <= sx1 - sx0 <= 32
        assert 0 <= tx0 < tx1 <= 64 and 0 <= ty0 < ty1 <= 64 and 12 <= tx1 - tx0 <= 20
        assert tx0 % 4 == ty0 % 4 == tx1 % 4 == ty1 % 4 == 0
        assert tx0 >= sx1 + 2 or sx0 >= tx1 + 2 or ty0 >= sy1 + 2 or sy0 >= ty1 + 2  # apart
        assert s.shape_levels == (0, 1)
        assert s.texture_level == {2: 3, 4: 2}[TEXTURES[s.texture_label][1]]


def test_cue_conflict_split():
    samples = scale_shapes(40, seed=0, split="cue_conflict")
    for s in samples:
        assert s.label == s.shape_label != s.texture_label
    assert len({(s.shape_label, s.texture_label) for s in samples}) > 6


def test_texture_lives_at_its_level(test_split):
    """Inside the texture box, the Haar details of the texture level dwarf those of every other level."""
    for s in test_split[:16]:
        rms = _detail_rms_in_box(s.image, s.texture_box)
        own = rms[s.texture_level - 1]
        others = [r for level, r in enumerate(rms, start=1) if level != s.texture_level]
        assert own > 5 * max(others), (s.texture_level, rms)


def _detail_rms_in_box(image, box):
    """RMS of the Haar detail coefficients (levels 1, 2, 3: coarse to fine) lying inside ``box``."""
    details = pywt.wavedec2(image.astype(np.float64).mean(axis=-1), "haar", level=3)[1:]
    x0, y0, x1, y1 = box
    rms = []
    for level, bands in enumerate(details, start=1):
        f = 2 ** (3 - level + 1)
        inner = (slice(-(-y0 // f), y1 // f), slice(-(-x0 // f), x1 // f))  # coefficients inside the box
        coefficients = np.concatenate([band[inner].ravel() for band in bands])
        rms.append(np.sqrt(np.mean(coefficients**2)) if coefficients.size else 0.0)
    return rms


def test_shape_energy_mostly_at_shape_levels():
    """The documented rule: a shape of side 20-32 px keeps most of its Haar energy in levels 0 and 1."""
    params = _draw_parameters(np.random.default_rng(0), 200, 64, conflict=False)
    coeffs = pywt.wavedec2(_shape_coverage(params, 64), "haar", level=3, axes=(-2, -1))
    energy = np.stack(
        [(coeffs[0] ** 2).sum(axis=(1, 2))] + [sum((b**2).sum(axis=(1, 2)) for b in level) for level in coeffs[1:]],
        axis=1,
    )
    share = energy[:, :2].sum(axis=1) / energy.sum(axis=1)
    assert share.min() > 0.6 and share.mean() > 0.8


def test_level_rules():
    assert texture_level(2, 3) == 3 and texture_level(4, 3) == 2 and texture_level(8, 3) == 1
    assert shape_levels(24, 3) == (0, 1) and shape_levels(12, 3) == (0, 1, 2) and shape_levels(64, 3) == (0,)
    with pytest.raises(ValueError, match="period"):
        texture_level(3, 3)
    with pytest.raises(ValueError, match="period"):
        texture_level(16, 3)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 2, "split": "val"}, ValueError, "split"),
        ({"n": 2, "size": 60}, ValueError, "size"),
        ({"n": 2, "size": 32}, ValueError, "size"),
        ({"n": 2, "size": 64, "levels": 4}, ValueError, "levels"),
        ({"n": 2, "levels": 1}, ValueError, "levels"),
        ({"n": -1}, ValueError, "n"),
        ({"n": 2.0}, TypeError, "n"),
        ({"n": 2, "seed": -3}, ValueError, "seed"),
    ],
)
def test_wrong_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        scale_shapes(**kwargs)


def test_other_sizes():
    samples = scale_shapes(4, size=96, seed=0, levels=3)
    assert samples[0].image.shape == (96, 96, 3)
    assert all(s.shape_box[2] <= 96 for s in samples)


# ---------------------------------------------------------------- training script


@pytest.fixture(scope="module")
def trainer():
    spec = importlib.util.spec_from_file_location("train_scale_shapes", ROOT / "benchmarks" / "train_scale_shapes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_blur_removes_fine_textures(trainer):
    y, x = np.mgrid[0:64, 0:64]
    stripes = torch.tensor(np.stack([(y % 2), (x // 2) % 2]), dtype=torch.float32)[:, None]  # periods 2 and 4
    blurred = trainer.gaussian_blur(stripes, torch.tensor([1.0, 1.0]))
    centre = (slice(None), 0, slice(8, -8), slice(8, -8))
    amplitude = (blurred[centre].amax(dim=(1, 2)) - blurred[centre].amin(dim=(1, 2))) / 1.0
    assert amplitude[0] < 0.02  # period 2: about 1 % left (the sampled, truncated kernel)
    assert amplitude[1] < 0.35  # period 4: attenuated to exp(-2 pi^2 sigma^2 / 16) ~ 0.29


def test_training_is_deterministic(trainer):
    args = trainer.argparse.Namespace(seed=4, epochs=1, batch_size=32, lr=3e-3, weight_decay=5e-4)
    samples = scale_shapes(64, seed=4, split="train")
    images, labels = stack_images(samples), np.array([s.label for s in samples])
    first = trainer.train("robust", images, labels, args).state_dict()
    second = trainer.train("robust", images, labels, args).state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert sum(p.numel() for p in trainer.build_model(0).parameters()) == pytest.approx(0.5e6, rel=0.1)


# ---------------------------------------------------------------- scenes for detectors


def test_scenes_deterministic_boxes_apart_and_labelled():
    a = scale_shapes_scenes(40, seed=5, split="test")
    b = scale_shapes_scenes(40, seed=5, split="test")
    np.testing.assert_array_equal(stack_images(a), stack_images(b))
    assert not np.array_equal(stack_images(a), stack_images(scale_shapes_scenes(40, seed=5, split="train")))
    assert {len(s.labels) for s in a} == {1, 2, 3}
    for s in a:
        assert s.image.shape == (96, 96, 3) and s.boxes.shape == (len(s.labels), 4)
        side = s.boxes[:, 2] - s.boxes[:, 0]
        np.testing.assert_array_equal(side, s.boxes[:, 3] - s.boxes[:, 1])
        assert (s.boxes >= 0).all() and (s.boxes <= 96).all()
        texture = s.is_texture
        assert ((side >= 20) & (side <= 28))[~texture].all() and np.isin(side[texture], (12, 16, 20)).all()
        assert (s.boxes[texture] % 4 == 0).all()
        for i in range(len(s.boxes)):
            for j in range(i):
                (x0, y0, x1, y1), (u0, v0, u1, v1) = s.boxes[i], s.boxes[j]
                assert u0 >= x1 + 2 or x0 >= u1 + 2 or v0 >= y1 + 2 or y0 >= v1 + 2  # 2 px apart
        for label, levels in zip(s.labels, s.cue_levels, strict=True):
            period = TEXTURES[label - 4][1] if label >= 4 else None
            assert levels == ((0, 1) if period is None else ({2: 3, 4: 2}[period],))
    assert SCENE_CLASSES[4:] == ("horizontal stripes 2px", "vertical stripes 4px", "checkers 2px", "checkers 4px")


def test_scene_textures_live_at_their_level_only():
    """A texture patch's Haar details inside its box are at its level; elsewhere it adds nothing."""
    scenes = [s for s in scale_shapes_scenes(30, seed=2, split="test") if s.is_texture.any()][:10]
    for s in scenes:
        for box, levels, texture in zip(s.boxes, s.cue_levels, s.is_texture, strict=True):
            if texture:
                rms = _detail_rms_in_box(s.image, box)
                own = rms[levels[0] - 1]
                assert own > 5 * max(r for level, r in enumerate(rms, start=1) if level != levels[0]), (levels, rms)


def test_scenes_wrong_input():
    with pytest.raises(ValueError, match="split"):
        scale_shapes_scenes(2, split="cue_conflict")
    with pytest.raises(ValueError, match="max_objects"):
        scale_shapes_scenes(2, max_objects=0)
    with pytest.raises(ValueError, match="size"):
        scale_shapes_scenes(2, size=100)
