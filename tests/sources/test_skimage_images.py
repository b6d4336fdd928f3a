"""SkimageImages (``sources/skimage_images.py``): ``skimage.data`` images by name."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data
from source_helpers import _check_records

from xaitk_wcam.sources import SkimageImages


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
