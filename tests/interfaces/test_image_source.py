"""The image-source interface (``interfaces/image_source.py``): plugins, conversion to ``H x W x C uint8``, records."""

from __future__ import annotations

import numpy as np
import pytest

from xaitk_wcam.interfaces.image_source import ImageSource, as_hwc_uint8, iter_records
from xaitk_wcam.sources import FolderImages, HFDatasetImages, MaiteDatasetImages, SkimageImages


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


def test_records_keep_going_after_a_failed_image_and_stop_after_a_failed_listing():
    def items():
        yield "a", np.zeros((2, 2, 3), np.uint8), "cat"
        yield "b", OSError("truncated"), None
        yield 3, lambda: np.ones((2, 2, 3), np.uint8), None
        raise RuntimeError("disk gone")

    records = list(iter_records(items(), lambda image, image_id: image() if callable(image) else image))
    assert [r.image_id for r in records] == ["a", "b", "3", "#3"]
    assert records[0].error is None and records[0].label == "cat"
    assert records[1].image is None and records[1].error.startswith("OSError") and "truncated" in records[1].error
    assert records[2].error is None and records[2].image.max() == 1
    assert records[3].error.startswith("the source stopped listing images") and "disk gone" in records[3].error


class _ListSource(ImageSource):
    def __init__(self, images, **kwargs):
        super().__init__(**kwargs)
        self.images = images

    def _iter_images(self):
        yield from ((f"img{i}", image, None) for i, image in enumerate(self.images))

    def _count(self):
        return len(self.images)

    def get_config(self):
        return super().get_config()


def test_a_source_applies_limit_and_max_pixels_and_skips_what_it_cannot_read():
    images = [np.zeros((4, 4), np.uint8), np.zeros((5, 5, 3), np.uint8), np.full((2, 2, 3), 2.0)]
    source = _ListSource(images, max_pixels=16)
    assert len(source) == 3 and len(_ListSource(images, limit=2)) == 2
    records = list(source.records())
    assert records[0].image.shape == (4, 4, 1) and records[0].error is None
    assert "exceed max_pixels=16" in records[1].error and r"[0, 1]" in records[2].error
    with pytest.warns(RuntimeWarning) as caught:
        assert [image_id for image_id, _, _ in source] == ["img0"]
    assert [str(w.message).split(":")[0] for w in caught] == ["skipped image 'img1'", "skipped image 'img2'"]
    assert source.get_config() == {"limit": None, "max_pixels": 16}
    with pytest.raises(ValueError, match="limit"):
        _ListSource(images, limit=0)
