"""ScaleShapesImages: the ScaleShapes test and cue-conflict images (Geirhos et al. 2019) as an image source."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xaitk_wcam.datasets import CLASS_NAMES, scale_shapes
from xaitk_wcam.interfaces.image_source import ImageSource
from xaitk_wcam.models.scale_shapes import SCALE_SHAPES_KINDS, scale_shapes_folder
from xaitk_wcam.sources import ScaleShapesImages


def test_images_ids_and_labels_are_the_datasets():
    source = ScaleShapesImages(n=5, seed=3, split="cue_conflict")
    records = list(source)
    samples = scale_shapes(5, 64, 3, "cue_conflict")
    assert len(source) == 5
    assert [r[0] for r in records] == [f"cue_conflict/{i}" for i in range(5)]
    for (_, image, label), sample in zip(records, samples, strict=True):
        np.testing.assert_array_equal(image, sample.image)
        assert image.shape == (64, 64, 3) and image.dtype == np.uint8
        assert label == CLASS_NAMES[sample.shape_label] != CLASS_NAMES[sample.texture_label]  # the shape's class


def test_mixed_splits_follow_each_other_with_their_ids():
    source = ScaleShapesImages(n=3, split=["test", "cue_conflict"], seed=1, limit=5)
    ids = [r[0] for r in source]
    assert ids == ["test/0", "test/1", "test/2", "cue_conflict/0", "cue_conflict/1"]
    assert len(ScaleShapesImages(n=3, split=["test", "cue_conflict"])) == 6
    np.testing.assert_array_equal(
        next(iter(ScaleShapesImages(n=3, split=["cue_conflict", "test"])))[1],
        scale_shapes(3, split="cue_conflict")[0].image,
    )


def test_labels_are_the_shipped_classifiers_labels():
    """``target: ground_truth`` reads the label as one of the model's classes."""
    labels = {label for _, _, label in ScaleShapesImages(n=4, split="test")}
    for kind in SCALE_SHAPES_KINDS:
        config = json.loads((scale_shapes_folder(kind) / "config.json").read_text())
        assert labels == set(config["id2label"].values()) == set(CLASS_NAMES)


def test_config_round_trip_and_plugin():
    assert ScaleShapesImages in ImageSource.get_impls()
    source = ScaleShapesImages(n=np.int64(2), size=72, seed=7, split=("test", "cue_conflict"))
    config = source.get_config()
    assert config == {
        "n": 2,
        "size": 72,
        "seed": 7,
        "split": ["test", "cue_conflict"],
        "limit": None,
        "max_pixels": 64_000_000,
    }
    assert json.loads(json.dumps(config)) == config
    again = ScaleShapesImages.from_config(config)
    assert again.get_config() == config
    assert [r[0] for r in again] == [r[0] for r in source]
    assert ScaleShapesImages(split="train").get_config()["split"] == "train"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 0}, ValueError, "^n must"),
        ({"n": 2.0}, TypeError, "^n must"),
        ({"size": 60}, ValueError, "size"),
        ({"size": 40}, ValueError, "^size must"),
        ({"seed": -1}, ValueError, "^seed must"),
        ({"split": "validation"}, ValueError, "^split must be one of"),
        ({"split": ["test", "nope"]}, ValueError, "^split must be one of .*'nope'"),
        ({"split": []}, ValueError, "^split must name at least one"),
        ({"split": ["test", "test"]}, ValueError, "^split must not name a split twice"),
        ({"split": 3}, TypeError, "^split must be a split name"),
        ({"limit": 0}, ValueError, "^limit must"),
    ],
)
def test_wrong_parameters_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        ScaleShapesImages(**kwargs)


def test_parameters_are_keyword_only():
    with pytest.raises(TypeError):
        ScaleShapesImages(4)  # type: ignore[misc]
