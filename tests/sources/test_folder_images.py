"""Every PIL mode the folder source reads, from files in that mode (issue 20, failure 5: images read as others).

A 32-bit integer TIFF (mode ``I``) was cast to uint16 (70000 became 17) and a float TIFF (mode ``F``) in
``[0, 1]`` became black through ``convert("RGB")``. Each mode now follows its own depth and range (the rule is
:data:`xaitk_wcam.utils.images.PIL_MODES`), or the image is refused with an error that names the mode.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from source_helpers import _check_records, _rgb

from xaitk_wcam.interfaces.image_source import as_hwc_uint8
from xaitk_wcam.sources import FolderImages

H, W = 3, 4
GREY = np.array([[0, 1, 2, 3], [64, 127, 128, 129], [200, 253, 254, 255]], dtype=np.uint8)
RGB = np.stack([GREY, GREY[::-1], 255 - GREY], axis=-1)
WIDE = np.array([[0, 1, 128, 256], [257, 1000, 32767, 32896], [40000, 65000, 65534, 65535]])
FLOATS = np.array([[0, 1e-3, 0.1, 0.25], [1 / 3, 0.5, 0.5 + 1e-6, 2 / 3], [0.75, 0.9, 0.999, 1]])


def _raw(mode: str, array: np.ndarray) -> Image.Image:
    return Image.frombytes(mode, (W, H), np.ascontiguousarray(array).tobytes())


def _palette(mode: str) -> Image.Image:
    index = (GREY % 4).astype(np.uint8)
    im = _raw("P", index) if mode == "P" else _raw("PA", np.stack([index, 255 - GREY], axis=-1))
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
    return im


def _sixteen_bit() -> np.ndarray:
    return np.round(WIDE / 257).astype(np.uint8)  # the full 16-bit range onto the full 8-bit range


#: mode -> (file format, image in that mode, expected H x W [x 3] uint8); every mode a file can hold.
FILE_CASES = {
    "1": ("PNG", Image.fromarray(GREY > 127), np.where(GREY > 127, 255, 0).astype(np.uint8)),
    "L": ("PNG", _raw("L", GREY), GREY),
    "LA": ("PNG", _raw("LA", np.stack([GREY, 255 - GREY], axis=-1)), GREY),
    "P": ("PNG", _palette("P"), None),
    "PA": ("TIFF", _palette("PA"), None),
    "RGB": ("PNG", _raw("RGB", RGB), RGB),
    "RGBA": ("PNG", _raw("RGBA", np.concatenate([RGB, GREY[..., None]], axis=-1)), RGB),
    "CMYK": ("TIFF", _raw("CMYK", np.concatenate([RGB, np.zeros((H, W, 1), np.uint8)], axis=-1)), 255 - RGB),
    "YCbCr": ("TIFF", _raw("YCbCr", np.stack([GREY, np.full_like(GREY, 128), np.full_like(GREY, 128)], -1)), None),
    "LAB": ("TIFF", _raw("LAB", np.stack([GREY, np.full_like(GREY, 128), np.full_like(GREY, 128)], -1)), None),
    "I;16": ("PNG", _raw("I;16", WIDE.astype("<u2")), _sixteen_bit()),
    "I;16B": ("TIFF", _raw("I;16B", WIDE.astype(">u2")), _sixteen_bit()),
    "I": ("TIFF", _raw("I", WIDE.astype(np.int32)), _sixteen_bit()),
    "F": ("TIFF", _raw("F", FLOATS.astype(np.float32)), np.round(FLOATS.astype(np.float32) * 255).astype(np.uint8)),
}

#: Modes that exist only in memory (no file format keeps them): read through ``as_hwc_uint8`` (HF datasets).
MEMORY_CASES = {
    "I;16L": (_raw("I;16L", WIDE.astype("<u2")), _sixteen_bit()),
    "I;16N": (_raw("I;16N", WIDE.astype("=u2")), _sixteen_bit()),
    "RGBX": (_raw("RGBX", np.concatenate([RGB, GREY[..., None]], axis=-1)), RGB),
    "RGBa": (_raw("RGBa", np.concatenate([RGB, np.full((H, W, 1), 255, np.uint8)], axis=-1)), RGB),
    "HSV": (
        _raw("HSV", np.stack([np.zeros_like(GREY), np.zeros_like(GREY), GREY], -1)),
        np.repeat(GREY[..., None], 3, -1),
    ),
}


def _expected(im: Image.Image, expected: np.ndarray | None) -> np.ndarray:
    out = np.asarray(im.convert("RGB")) if expected is None else expected  # colour models: PIL's own conversion
    return out[..., None] if out.ndim == 2 else out


def test_every_mode_the_folder_source_accepts_is_read_at_its_own_depth(tmp_path: Path) -> None:
    names = {}
    for i, (mode, (fmt, im, _)) in enumerate(FILE_CASES.items()):
        names[mode] = f"{i:02d}_{mode.replace(';', '_')}.{fmt.lower()}"
        im.save(tmp_path / names[mode], fmt)
        with Image.open(tmp_path / names[mode]) as back:
            assert back.mode == mode, f"{names[mode]} reads back as {back.mode}, not {mode}"
    records = {r.image_id: r for r in FolderImages(str(tmp_path)).records()}
    for mode, (_, im, expected) in FILE_CASES.items():
        record = records[names[mode]]
        assert record.error is None, f"mode {mode}: {record.error}"
        np.testing.assert_array_equal(record.image, _expected(im, expected), err_msg=f"mode {mode}")
    assert records[names["F"]].image.max() == 255 and records[names["F"]].image[1, 1, 0] == 128  # not black
    assert records[names["I"]].image.max() == 255  # not wrapped
    for mode, (im, expected) in MEMORY_CASES.items():
        np.testing.assert_array_equal(as_hwc_uint8(im), _expected(im, expected), err_msg=f"mode {mode}")
    from xaitk_wcam.utils.images import PIL_MODES

    assert set(FILE_CASES) | set(MEMORY_CASES) == set(PIL_MODES)  # the tables above cover every accepted mode


@pytest.mark.parametrize(
    ("mode", "values", "message"),
    [
        ("I", np.array([0, 70000]), r"mode I .*70000"),  # 70000 was read as 17
        ("I", np.array([-5, 100]), r"mode I .*-5"),
        ("F", np.array([0.0, 2.0]), r"mode F .*\[0, 1\]"),  # values a float image cannot hold
        ("F", np.array([-0.5, 0.5]), r"mode F .*\[0, 1\]"),
        ("F", np.array([np.nan, 0.5]), r"mode F .*NaN"),
    ],
)
def test_values_outside_a_modes_range_are_refused_naming_the_mode(
    tmp_path: Path, mode: str, values: np.ndarray, message: str
) -> None:
    array = np.resize(values, (H, W)).astype(np.int32 if mode == "I" else np.float32)
    _raw(mode, array).save(tmp_path / "bad.tif", "TIFF")
    _raw("L", GREY).save(tmp_path / "good.png", "PNG")
    records = {r.image_id: r for r in FolderImages(str(tmp_path)).records()}
    assert records["good.png"].error is None
    assert records["bad.tif"].image is None
    assert records["bad.tif"].error is not None
    import re

    assert re.search(message, records["bad.tif"].error), records["bad.tif"].error


def test_a_mode_no_rule_covers_is_refused_naming_it() -> None:
    im = _raw("La", np.stack([GREY, np.full_like(GREY, 255)], axis=-1))
    with pytest.raises(ValueError, match="mode La"):
        as_hwc_uint8(im)


@pytest.mark.parametrize("high", [255, 256, 1000, 65535])
def test_sixteen_bit_images_are_scaled_by_their_dtype_never_by_their_values(tmp_path: Path, high: int) -> None:
    """``skimage.util.img_as_ubyte`` left a uint16 image of maximum 255 unscaled (255 -> 255) and divided one of
    maximum 256 by 256 (256 -> 1): one sensor's images came out at two brightnesses depending on the scene."""
    values = np.array([[0, 1, 128, 129], [200, 255, high // 2, high]], dtype=np.uint16)
    expected = np.round(values / 257).astype(np.uint8)  # the dtype's full range, whatever the values
    np.testing.assert_array_equal(as_hwc_uint8(values)[..., 0], expected)
    Image.fromarray(values).save(tmp_path / "grey16.png")  # a 16-bit PNG, through the folder source
    with Image.open(tmp_path / "grey16.png") as back:
        assert back.mode.startswith("I")
    (record,) = FolderImages(str(tmp_path)).records()
    np.testing.assert_array_equal(record.image[..., 0], expected)
    from xaitk_wcam.utils.images import integer_to_uint8

    # 255 and 256 are one level apart in 16 bits: both 1 of 255, not 255 and 1
    assert integer_to_uint8(np.full((2, 2), 255, np.uint16), "x").max() == 1
    assert integer_to_uint8(np.full((2, 2), 256, np.uint16), "x").max() == 1


def test_wide_integer_arrays_are_refused_not_turned_black() -> None:
    """``skimage.util.img_as_ubyte`` scales an int32 array by 2**31: 65535 became 0."""
    with pytest.raises(ValueError, match="int32"):
        as_hwc_uint8(WIDE.astype(np.int32))
    with pytest.raises(ValueError, match="int16"):
        as_hwc_uint8(np.full((2, 2), -3, np.int16))
    np.testing.assert_array_equal(as_hwc_uint8(WIDE.astype(np.uint16))[..., 0], _sixteen_bit())


# ---------------------------------------------------------------------------- the folder source
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


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_exif_orientation_is_applied_so_images_are_read_upright(tmp_path: Path, fmt: str) -> None:
    """A phone's JPEG taken sideways stores its pixels rotated with EXIF orientation 6; it was read unrotated."""
    from PIL import ImageOps

    stored = np.zeros((24, 40, 3), np.uint8)
    stored[:8, :8] = 255  # a white corner, top-left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # display = stored rotated 90 degrees clockwise
    Image.fromarray(stored).save(tmp_path / f"sideways.{fmt.lower()}", fmt, exif=exif, quality=95)
    Image.fromarray(stored).save(tmp_path / f"upright.{fmt.lower()}", fmt, quality=95)
    records = {r.image_id: r.image for r in FolderImages(str(tmp_path)).records()}
    sideways, upright = records[f"sideways.{fmt.lower()}"], records[f"upright.{fmt.lower()}"]
    assert sideways.shape == (40, 24, 3) and upright.shape == (24, 40, 3)
    assert sideways[:8, -8:].mean() > 200 and sideways[:8, :8].mean() < 50  # the corner is now top-right
    np.testing.assert_array_equal(sideways, np.rot90(upright, k=-1))  # clockwise, as a viewer shows it
    with Image.open(tmp_path / f"sideways.{fmt.lower()}") as im:  # every source reads PIL images so
        np.testing.assert_array_equal(as_hwc_uint8(im), sideways)
        np.testing.assert_array_equal(np.asarray(ImageOps.exif_transpose(im).convert("RGB")), sideways)
        assert im.size == (40, 24)  # the caller's image is not transposed in place
