"""Image sources: skimage.data, folders, HuggingFace datasets (local imagefolder), MAITE datasets."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PIL import Image
from skimage import data

from xaitk_wcam.interfaces.image_source import ImageSource, as_hwc_uint8
from xaitk_wcam.sources import FolderImages, HFDatasetImages, MaiteDatasetImages, SkimageImages

RNG = np.random.default_rng(0)


def _rgb(h: int = 12, w: int = 10) -> np.ndarray:
    return RNG.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def _check_records(records) -> None:
    for image_id, image, _ in records:
        assert isinstance(image_id, str)
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[-1] in (1, 3)


# ---------------------------------------------------------------------------- skimage
def test_skimage_images():
    source = SkimageImages(["chelsea", "camera", "coffee"])
    records = list(source)
    _check_records(records)
    assert [r[0] for r in records] == ["chelsea", "camera", "coffee"]
    np.testing.assert_array_equal(records[0][1], data.chelsea())
    np.testing.assert_array_equal(records[1][1][..., 0], data.camera())
    assert all(r[2] is None for r in records)
    assert [r[0] for r in SkimageImages(["chelsea", "camera", "coffee"], limit=2)] == ["chelsea", "camera"]
    again = SkimageImages.from_config(SkimageImages(["coffee"], limit=1).get_config())
    assert again.get_config() == {"names": ["coffee"], "limit": 1, "max_pixels": 64_000_000}


def test_skimage_wrong_input():
    with pytest.raises(ValueError, match=r"unknown skimage\.data image"):
        SkimageImages(["chelsea", "not_an_image"])
    with pytest.raises(ValueError, match="unknown"):
        SkimageImages(["download_all"])  # a helper, not an image
    with pytest.raises(ValueError, match="non-empty list"):
        SkimageImages("chelsea")
    with pytest.raises(ValueError, match="limit"):
        SkimageImages(["chelsea"], limit=0)


# ---------------------------------------------------------------------------- folder
@pytest.fixture()
def image_folder(tmp_path):
    rgb = _rgb()
    Image.fromarray(rgb).save(tmp_path / "b_rgb.png")
    Image.fromarray(rgb[..., 0]).save(tmp_path / "a_gray.PNG")
    rgba = np.concatenate([rgb, np.full((*rgb.shape[:2], 1), 9, np.uint8)], axis=-1)
    Image.fromarray(rgba).save(tmp_path / "c_rgba.png")
    Image.fromarray(rgb).convert("P").save(tmp_path / "d_palette.gif")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "sub").mkdir()
    Image.fromarray(rgb).save(tmp_path / "sub" / "e_nested.png")
    return tmp_path, rgb


def test_folder_images(image_folder):
    folder, rgb = image_folder
    source = FolderImages(folder)
    records = list(source)
    _check_records(records)
    assert [r[0] for r in records] == ["a_gray.PNG", "b_rgb.png", "c_rgba.png", "d_palette.gif"]
    assert len(source) == 4
    np.testing.assert_array_equal(records[0][1][..., 0], rgb[..., 0])
    np.testing.assert_array_equal(records[1][1], rgb)
    np.testing.assert_array_equal(records[2][1], rgb)  # alpha dropped
    assert records[3][1].shape == rgb.shape
    nested = [r[0] for r in FolderImages(folder, recursive=True)]
    assert nested[-1] == "sub/e_nested.png" and len(nested) == 5
    assert [r[0] for r in FolderImages(folder, limit=1)] == ["a_gray.PNG"]
    config = FolderImages(folder, limit=2, recursive=True).get_config()
    assert FolderImages.from_config(config).get_config() == config


def test_folder_wrong_input(tmp_path, image_folder):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        FolderImages(tmp_path / "missing")
    with pytest.raises(NotADirectoryError, match="is a file"):
        FolderImages(image_folder[0] / "b_rgb.png")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no image file"):
        FolderImages(tmp_path / "empty")


# ---------------------------------------------------------------------------- HF datasets
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


# ---------------------------------------------------------------------------- MAITE datasets
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


# ---------------------------------------------------------------------------- interface
def test_plugins_and_conversion():
    impls = ImageSource.get_impls()
    assert {SkimageImages, FolderImages, HFDatasetImages, MaiteDatasetImages} <= impls
    assert as_hwc_uint8(np.ones((4, 5), bool)).max() == 255
    assert as_hwc_uint8(np.full((4, 5, 3), 0.5)).max() == 128
    assert as_hwc_uint8(np.full((4, 5), 65535, np.uint16)).max() == 255
    with pytest.raises(ValueError, match="\\[0, 1\\]"):
        as_hwc_uint8(np.full((4, 5, 3), 2.0))
    with pytest.raises(ValueError, match="shape"):
        as_hwc_uint8(np.zeros((4, 5, 6), np.uint8))
