"""Reading images into the package's working range, and perturbed images back to the input's dtype and range.

**Reading** (:func:`pil_image_array`, used by the folder source and by ``as_hwc_uint8`` for PIL images): the
working range is ``uint8``. Each PIL mode is read at its own depth by the rule :data:`PIL_MODES` states: an
integer image by its dtype's full range (16-bit: ``round(v / 257)``, which maps 0 to 0 and 65535 to 255), a float
image from ``[0, 1]``. The scale depends on the dtype only, never on the image's values
(``skimage.util.img_as_ubyte`` leaves a uint16 image whose maximum is below 256 unscaled and divides one whose
maximum is 256 by 256: one sensor's images came out at two brightnesses depending on the scene). Values never
wrap and are never clamped: an image whose values lie outside its mode's range is refused with an error naming
the mode and the values, and so is a mode no rule covers. Never rescaled by the image's own minimum and maximum
either: that would change brightness and contrast from image to image.

**Perturbed images** are sent to a blackbox in the dtype and value range of the image they come from:
values are clipped, never min-max rescaled per image (rescaling changes brightness and contrast).
The range is the dtype's range for integer images and ``[min(0, image.min()), max(1, image.max())]``
for float images, so ``[0, 1]`` images stay in ``[0, 1]`` and ``[0, 255]`` float images in ``[0, 255]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

#: The EXIF tag of the orientation (``PIL.ExifTags.Base.Orientation``); 1 is upright.
_EXIF_ORIENTATION = 0x0112

_SIXTEEN_BIT = "16-bit grey: its full range onto 8 bits, round(v / 257), whatever the image's values"

#: PIL mode -> how it becomes ``H x W`` (grey) or ``H x W x 3`` ``uint8``; any other mode is refused.
PIL_MODES: dict[str, str] = {
    "1": "bilevel: 0 and 255",
    "L": "8-bit grey, unchanged",
    "LA": "8-bit grey, alpha dropped",
    "P": "palette: its colours (PIL's convert('RGB')), transparency dropped",
    "PA": "palette: its colours (PIL's convert('RGB')), alpha dropped",
    "RGB": "8-bit colour, unchanged",
    "RGBA": "8-bit colour, alpha dropped",
    "RGBX": "8-bit colour, padding dropped",
    "RGBa": "8-bit colour with premultiplied alpha: un-premultiplied by PIL's convert('RGB')",
    "CMYK": "converted to RGB by PIL",
    "YCbCr": "converted to RGB by PIL",
    "LAB": "converted to RGB by PIL (CIE L*a*b*, D65)",
    "HSV": "converted to RGB by PIL",
    "I;16": _SIXTEEN_BIT,
    "I;16L": _SIXTEEN_BIT,
    "I;16B": _SIXTEEN_BIT,
    "I;16N": _SIXTEEN_BIT,
    "I": "32-bit integer grey holding 16-bit data (PIL reads some 16-bit files so): values must lie in "
    "[0, 65535], then as 16-bit grey; other values are refused (no 32-bit range is an image convention)",
    "F": "32-bit float grey: values must lie in [0, 1] (no NaN), then round(v * 255)",
}


def integer_to_uint8(array: np.ndarray, where: str) -> np.ndarray:
    """``uint8``, ``uint16`` or boolean pixels as ``uint8``, scaled by the dtype's full range, never by the values.

    ``uint16``: ``round(v / 257)`` (65535 -> 255: the exact linear map of the two full ranges); booleans: 0 and 255;
    ``uint8`` is returned as is.

    :raises ValueError: Another integer dtype: no range is conventional for it (a 32-bit image may hold 16-bit data,
        and a signed one negative values).
    """
    if array.dtype == np.uint8:
        return array
    if array.dtype == bool:
        return np.where(array, np.uint8(255), np.uint8(0))
    if array.dtype.kind == "u" and array.dtype.itemsize == 2:
        return ((array.astype(np.uint32) + 128) // 257).astype(np.uint8)  # round(v / 257); v / 257 is never a tie
    raise ValueError(
        f"{where}: {array.dtype} image; integer images must be uint8, uint16 (by its full range) or bool: cast it "
        "(astype(np.uint8) when its values are 0-255, astype(np.uint16) when they are 16-bit)"
    )


def float_to_uint8(array: np.ndarray, where: str) -> np.ndarray:
    """Float pixels in ``[0, 1]`` as ``uint8`` (``round(v * 255)``).

    :raises ValueError: A NaN, or a value outside ``[0, 1]`` (named, with the range found).
    """
    if array.size and np.isnan(array).any():
        raise ValueError(f"{where}: floating images must lie in [0, 1]; this one holds NaN")
    if array.size and (array.min() < 0.0 or array.max() > 1.0):
        raise ValueError(f"{where}: floating images must lie in [0, 1]; got [{array.min()}, {array.max()}]")
    return np.round(array * 255.0).astype(np.uint8)


def pil_image_array(image: Any, image_id: str = "image") -> np.ndarray:
    """A PIL image as ``H x W`` (grey) or ``H x W x 3`` ``uint8``, by its mode's rule in :data:`PIL_MODES`, upright.

    An EXIF orientation (a phone's JPEG taken sideways: orientation 6 stores the pixels rotated) is applied
    (``PIL.ImageOps.exif_transpose``), so the array is the image a viewer shows and the one a person labelled;
    the shape is then ``W x H`` for orientations 5 to 8. Every source reads PIL images through this function
    (folders, HF datasets, ``as_hwc_uint8``), so they all agree.

    :param image: A ``PIL.Image.Image`` (its pixels are read here).
    :param image_id: Used in error messages.
    :raises ValueError: A mode no rule covers, or values outside the mode's range (the message names the mode).
    """
    if image.getexif().get(_EXIF_ORIENTATION, 1) != 1:  # as a viewer shows it (a copy; the caller's image is kept)
        from PIL import ImageOps

        image = ImageOps.exif_transpose(image)
    mode = image.mode
    where = f"{image_id}: mode {mode}"
    if mode not in PIL_MODES:
        raise ValueError(f"{where} is not read (accepted PIL modes: {', '.join(PIL_MODES)}); convert it first")
    if mode in ("L", "RGB"):
        return np.asarray(image)
    if mode in ("1", "LA"):
        return np.asarray(image.convert("L"))
    if mode.startswith("I;16"):
        return integer_to_uint8(np.asarray(image).astype(np.uint16), where)
    if mode == "I":
        values = np.asarray(image)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise ValueError(
                f"{where} (32-bit integer) with values in [{values.min()}, {values.max()}]: mode I is read as 16-bit "
                "data and needs values in [0, 65535]; scale the image to 8 or 16 bits first"
            )
        return integer_to_uint8(values.astype(np.uint16), where)
    if mode == "F":
        return float_to_uint8(np.asarray(image), f"{where} (32-bit float)")
    return np.asarray(image.convert("RGB"))


def value_range(image: np.ndarray) -> tuple[float, float]:
    """The range perturbed versions of ``image`` are clipped to (see the module docstring)."""
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        return float(info.min), float(info.max)
    return min(0.0, float(image.min())), max(1.0, float(image.max()))


def split_alpha(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``H x W x C`` image -> (colour channels ``H x W x C'``, alpha ``H x W x 1`` or None).

    A 2-channel image is gray + alpha and a 4-channel image RGBA; alpha is not image content, so
    explanations leave it untouched.
    """
    if image.ndim == 3 and image.shape[2] in (2, 4):
        return image[..., :-1], image[..., -1:]
    return (image if image.ndim == 3 else image[..., None]), None


def to_input_dtype(images: torch.Tensor, like: np.ndarray, low: float, high: float) -> np.ndarray:
    """Clip float ``N x H x W x C`` images to ``[low, high]`` and cast to ``like.dtype`` (rounding integers).

    Works in place on ``images``.
    """
    out = np.empty(images.shape, dtype=like.dtype)
    write_input_dtype(images, torch.from_numpy(out), low, high)
    return out


def write_input_dtype(images: torch.Tensor, out: torch.Tensor, low: float, high: float) -> None:
    """Clip float images to ``[low, high]`` and write them into ``out`` in its dtype (rounding half up to
    integers). Works in place on ``images``; either may be a strided view (a crop, some channels).
    """
    images.clamp_(low, high)
    if not out.is_floating_point():
        images.add_(0.5)  # round half up: the cast truncates toward zero
        if low < 0:
            images.floor_()
    out.copy_(images)
