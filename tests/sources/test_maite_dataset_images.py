"""MaiteDatasetImages (``sources/maite_dataset_images.py``): a MAITE image-classification dataset as a source."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from source_helpers import _check_records, _rgb

from xaitk_wcam.sources import MaiteDatasetImages


class TinyMaiteDataset:
    """A MAITE image-classification dataset: float C x H x W images in [0, 1], one-hot targets."""

    def __init__(self) -> None:
        self.images = [_rgb(6, 7).transpose(2, 0, 1).astype(np.float32) / 255 for _ in range(3)]
        self.targets = np.eye(2, dtype=np.float32)[[1, 0, 1]]
        self.metadata = {"id": "tiny", "index2label": {0: "zero", 1: "one"}}

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return self.images[i], self.targets[i], {"id": f"img{i}"}


def test_maite_dataset_images():
    from maite.protocols import image_classification as ic

    dataset = TinyMaiteDataset()
    assert isinstance(dataset, ic.Dataset)
    source = MaiteDatasetImages(dataset)
    records = list(source)
    _check_records(records)
    assert [r[0] for r in records] == ["img0", "img1", "img2"]
    assert [r[2] for r in records] == ["one", "zero", "one"]
    np.testing.assert_array_equal(records[0][1], np.round(dataset.images[0].transpose(1, 2, 0) * 255))
    assert len(MaiteDatasetImages(dataset, limit=2)) == 2


def test_maite_dataset_config(tmp_path, monkeypatch):
    import inspect

    module = tmp_path / "my_maite_data.py"
    module.write_text(
        "import numpy as np\nRNG = np.random.default_rng(0)\n"
        "def _rgb(h, w):\n    return RNG.integers(0, 256, size=(h, w, 3), dtype=np.uint8)\n"
        + inspect.getsource(TinyMaiteDataset)
        + "DATASET = TinyMaiteDataset()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    source = MaiteDatasetImages("my_maite_data:DATASET", limit=2)
    again = MaiteDatasetImages.from_config(source.get_config())
    assert again.get_config() == {"dataset": "my_maite_data:DATASET", "limit": 2, "max_pixels": 64_000_000}
    assert [r[0] for r in again] == ["img0", "img1"]
    from_object = MaiteDatasetImages(TinyMaiteDataset())
    assert from_object.get_config() == {"dataset": None, "limit": None, "max_pixels": 64_000_000}
    with pytest.raises(ValueError, match="dataset"):
        MaiteDatasetImages.from_config(from_object.get_config())
    with pytest.raises(ValueError, match="__getitem__"):
        MaiteDatasetImages(object())
    sys.modules.pop("my_maite_data", None)
