"""ScaleShapesScenes (``sources/scale_shapes_scenes.py``): the detection scenes as a deterministic image source."""

from __future__ import annotations

import numpy as np
import pytest

from xaitk_wcam.datasets import scale_shapes_scenes
from xaitk_wcam.interfaces.image_source import ImageSource
from xaitk_wcam.sources import ScaleShapesScenes


def test_the_source_yields_the_data_sets_scenes_with_split_ids_and_no_label():
    source = ScaleShapesScenes(n=3, size=64, seed=2, split="train", max_objects=2)
    records = list(source)
    scenes = scale_shapes_scenes(3, 64, 2, "train", max_objects=2)
    assert len(source) == 3 and [r[0] for r in records] == ["train/0", "train/1", "train/2"]
    assert all(label is None for _, _, label in records)
    for (_, image, _), scene in zip(records, scenes, strict=True):
        assert image.shape == (64, 64, 3) and image.dtype == np.uint8
        np.testing.assert_array_equal(image, scene.image)
    assert [r[0] for r in ScaleShapesScenes(n=3, size=64, limit=2)] == ["test/0", "test/1"]


def test_config_round_trip_and_plugin():
    source = ScaleShapesScenes(n=2, size=64, seed=1, max_objects=1, limit=1)
    config = source.get_config()
    assert config == {"n": 2, "size": 64, "seed": 1, "split": "test", "max_objects": 1, "limit": 1,
                      "max_pixels": 64_000_000}  # fmt: skip
    again = ScaleShapesScenes.from_config(config)
    np.testing.assert_array_equal(next(iter(again))[1], next(iter(source))[1])
    assert ScaleShapesScenes in ImageSource.get_impls()


def test_wrong_parameters_fail_when_the_source_is_built():
    with pytest.raises(ValueError, match="n"):
        ScaleShapesScenes(n=0)
    with pytest.raises(ValueError, match="split"):
        ScaleShapesScenes(split="valid")
