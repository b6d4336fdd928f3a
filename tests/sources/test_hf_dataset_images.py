"""HFDatasetImages (``sources/hf_dataset_images.py``): a local imagefolder and a dataset saved to disk."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from source_helpers import _check_records, _rgb

from xaitk_wcam.sources import HFDatasetImages


@pytest.fixture()
def imagefolder(tmp_path):
    root = tmp_path / "ds"
    images = {}
    for label in ("cat", "dog"):
        (root / label).mkdir(parents=True)
        for k in range(2):
            img = _rgb(8, 8)
            Image.fromarray(img).save(root / label / f"{label}{k}.png")
            images[(label, k)] = img
    return root, images, tmp_path / "hf_cache"


def test_hf_dataset_imagefolder(imagefolder):
    root, images, cache = imagefolder
    source = HFDatasetImages(str(root), split="train", label_column="label", cache_dir=str(cache))
    records = list(source)
    _check_records(records)
    assert [r[0] for r in records] == ["train/0", "train/1", "train/2", "train/3"]
    assert sorted(r[2] for r in records) == ["cat", "cat", "dog", "dog"]
    for _, image, label in records:  # every image matches one of its class's files
        assert any(np.array_equal(image, img) for (lab, _k), img in images.items() if lab == label)
    unlabeled = list(HFDatasetImages(str(root), cache_dir=str(cache), limit=3))
    assert len(unlabeled) == 3 and all(r[2] is None for r in unlabeled)
    config = source.get_config()
    assert HFDatasetImages.from_config(config).get_config() == config


def test_hf_dataset_saved_to_disk(tmp_path):
    import datasets

    arrays = [_rgb(6, 5) for _ in range(3)]
    ds = datasets.Dataset.from_dict(
        {"img": [Image.fromarray(a) for a in arrays], "y": [0, 1, 0]},
        features=datasets.Features({"img": datasets.Image(), "y": datasets.ClassLabel(names=["a", "b"])}),
    )
    datasets.DatasetDict({"test": ds}).save_to_disk(tmp_path / "saved")
    records = list(HFDatasetImages(str(tmp_path / "saved"), split="test", image_column="img", label_column="y"))
    assert [r[2] for r in records] == ["a", "b", "a"]
    for (_, image, _), ref in zip(records, arrays, strict=True):
        np.testing.assert_array_equal(image, ref)
    with pytest.raises(ValueError, match="split"):
        HFDatasetImages(str(tmp_path / "saved"), split="train", image_column="img")


def test_hf_dataset_wrong_input(imagefolder, tmp_path):
    root, _, cache = imagefolder
    with pytest.raises(FileNotFoundError, match="does not exist"):
        HFDatasetImages(str(tmp_path / "nope"))
    with pytest.raises(ValueError, match="no column 'pixels'"):
        HFDatasetImages(str(root), image_column="pixels", cache_dir=str(cache))
    with pytest.raises(ValueError, match="label_column"):
        HFDatasetImages(str(root), label_column="species", cache_dir=str(cache))
