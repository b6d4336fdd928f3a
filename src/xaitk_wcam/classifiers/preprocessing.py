"""Batched, differentiable torch re-implementation of HuggingFace image-processor preprocessing.

HuggingFace image processors (PIL backend) preprocess image by image: resize with PIL, centre crop,
rescale, normalise. :class:`TorchImagePreprocessor` does the same steps on a whole ``N x C x H x W``
batch with torch operations, reading the parameters from the processor's configuration.

Two input kinds, two resize paths:

* ``uint8`` batches (what xaitk perturbers and the WCAM explainer pass) are resized with torch's
  ``uint8`` antialiased kernels on the CPU, which reproduce PIL's fixed-point filters; the result stays
  ``uint8`` (as PIL's does) and only then moves to the model's device. Across the images tested, all
  but a few pixels in ten thousand equal PIL's output exactly; the rest differ by one grey level.
* floating batches with values in ``[0, 1]`` are treated as already rescaled (``uint8 / 255``). They are
  resized with ``F.interpolate(..., antialias=True)`` in floating point on any device, with no
  rounding, so that the whole chain (resize, crop, rescale, normalise) is differentiable. It is
  therefore not bit-identical to PIL, which rounds and clips each resampling pass to ``uint8``.

Supported processor settings: ``size`` as ``{"height", "width"}`` (direct resize) or
``{"shortest_edge"}`` (aspect-preserving resize; ConvNeXt-style processors additionally resize to
``shortest_edge / crop_pct`` and centre-crop, as ``microsoft/resnet-50`` does), ``do_center_crop`` with
``crop_size``, ``do_rescale`` / ``rescale_factor``, ``do_normalize`` / ``image_mean`` / ``image_std``, and
PIL resampling NEAREST, BILINEAR and BICUBIC (LANCZOS, BOX and HAMMING are approximated by BICUBIC).
Anything else raises ``ValueError`` at load time.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from xaitk_wcam.classifiers._inputs import check_pixel_values

__all__ = ["PreprocessingSpec", "TorchImagePreprocessor", "check_against_processor"]

# PIL.Image.Resampling values -> torch interpolate modes.
_RESAMPLE = {0: "nearest-exact", 2: "bilinear", 3: "bicubic"}
_APPROXIMATED = {1: "LANCZOS", 4: "BOX", 5: "HAMMING"}


def _hw(size: Mapping[str, Any] | None, what: str) -> tuple[int, int]:
    if not size or size.get("height") is None or size.get("width") is None:
        raise ValueError(f"{what}: expected a dict with 'height' and 'width'; got {size!r}")
    return int(size["height"]), int(size["width"])


def _per_channel(value: Any, n: int, what: str) -> tuple[float, ...]:
    values = np.atleast_1d(np.asarray(value, dtype=np.float64)).tolist()
    if len(values) == 1:
        values = values * n
    if len(values) != n:
        raise ValueError(f"{what}: expected 1 or {n} values; got {value!r}")
    return tuple(float(v) for v in values)


@dataclass(frozen=True)
class PreprocessingSpec:
    """The preprocessing steps of one HuggingFace image processor, as plain values.

    :param resize: ``"none"``, ``"fixed"`` (to ``size`` = (height, width)), ``"shortest_edge"``
        (shortest edge to ``size[0]``, aspect kept, long edge truncated as HF does) or ``"crop_pct"``
        (shortest edge to ``int(size[0] / crop_pct)`` then a ``size[0] x size[0]`` centre crop).
    :param size: Target size, see ``resize``.
    :param crop_pct: Crop fraction of the ``"crop_pct"`` mode.
    :param resample: torch interpolation mode (``"nearest-exact"``, ``"bilinear"``, ``"bicubic"``).
    :param center_crop: Optional final ``(height, width)`` centre crop (zero-padded when larger).
    :param uint8_scale: Factor applied to ``uint8`` inputs (``rescale_factor`` or 1 without rescaling).
    :param mean: Per-channel normalisation mean (zeros without normalisation).
    :param std: Per-channel normalisation std (ones without normalisation).
    :param num_channels: Channels the model expects.
    """

    resize: str
    size: tuple[int, ...]
    crop_pct: float | None
    resample: str
    center_crop: tuple[int, int] | None
    uint8_scale: float
    mean: tuple[float, ...]
    std: tuple[float, ...]
    num_channels: int = 3

    @classmethod
    def from_processor(cls, processor: Any, num_channels: int = 3) -> PreprocessingSpec:
        """Read the steps from a HuggingFace image processor object.

        :param processor: An ``AutoImageProcessor`` result (PIL or torchvision backend).
        :param num_channels: Channels the model expects (``config.num_channels``).
        :raises ValueError: For settings this module does not reproduce (padding, unknown size keys).
        """
        cfg = processor.to_dict()
        ptype = str(cfg.get("image_processor_type", type(processor).__name__))

        def flag(name: str, default: bool) -> bool:
            value = getattr(processor, name, cfg.get(name))
            return default if value is None else bool(value)

        if flag("do_pad", False):
            raise ValueError(f"image processor {ptype}: do_pad=True is not supported; expected do_pad=False")

        resize, size, crop_pct = "none", (), None
        if flag("do_resize", True):
            size_cfg = dict(cfg.get("size") or {})
            keys = {k for k, v in size_cfg.items() if v is not None}
            if keys == {"height", "width"}:
                resize, size = "fixed", _hw(size_cfg, f"image processor {ptype} size")
            elif keys == {"shortest_edge"}:
                edge = int(size_cfg["shortest_edge"])
                if ptype.startswith("ConvNext"):
                    pct = float(cfg.get("crop_pct") or getattr(processor, "crop_pct", None) or 224 / 256)
                    if edge < 384:
                        resize, size, crop_pct = "crop_pct", (edge,), pct
                    else:
                        resize, size = "fixed", (edge, edge)
                else:
                    resize, size = "shortest_edge", (edge,)
            else:
                raise ValueError(
                    f"image processor {ptype}: size={size_cfg!r} is not supported; expected "
                    "{'height': h, 'width': w} or {'shortest_edge': s}"
                )

        raw_resample = cfg.get("resample", 2)
        raw_resample = 2 if raw_resample is None else int(raw_resample)
        if raw_resample in _APPROXIMATED:
            warnings.warn(
                f"image processor {ptype}: PIL {_APPROXIMATED[raw_resample]} resampling is approximated by "
                "bicubic antialiased interpolation",
                stacklevel=2,
            )
        resample = _RESAMPLE.get(raw_resample, "bicubic")

        center_crop = None
        if flag("do_center_crop", False):
            crop = getattr(processor, "crop_size", None) or cfg.get("crop_size")
            crop = dict(crop) if not isinstance(crop, Mapping) and hasattr(crop, "keys") else crop
            if not isinstance(crop, Mapping):
                crop = {"height": getattr(crop, "height", None), "width": getattr(crop, "width", None)}
            center_crop = _hw(crop, f"image processor {ptype} crop_size")

        uint8_scale = float(cfg.get("rescale_factor", 1 / 255)) if flag("do_rescale", True) else 1.0
        if flag("do_normalize", True):
            mean = _per_channel(cfg.get("image_mean"), num_channels, f"image processor {ptype} image_mean")
            std = _per_channel(cfg.get("image_std"), num_channels, f"image processor {ptype} image_std")
        else:
            mean, std = (0.0,) * num_channels, (1.0,) * num_channels
        return cls(resize, size, crop_pct, resample, center_crop, uint8_scale, mean, std, num_channels)

    def resize_size(self, height: int, width: int) -> tuple[int, int]:
        """Size after the resize step for an input of ``height x width`` (HF's integer arithmetic)."""
        if self.resize == "fixed":
            return self.size[0], self.size[1]
        if self.resize in ("shortest_edge", "crop_pct"):
            edge = self.size[0] if self.resize == "shortest_edge" else int(self.size[0] / self.crop_pct)
            if width <= height:
                return int(edge * height / width), edge
            return edge, int(edge * width / height)
        return height, width


def _center_crop(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """HF's centre crop (offset ``(size - crop) // 2``), zero-padding first when the crop is larger."""
    h, w = x.shape[-2:]
    if height > h or width > w:
        new_h, new_w = max(height, h), max(width, w)
        top, left = -(-(new_h - h) // 2), -(-(new_w - w) // 2)
        x = F.pad(x, (left, new_w - w - left, top, new_h - h - top))
        h, w = new_h, new_w
    top, left = (h - height) // 2, (w - width) // 2
    return x[..., top : top + height, left : left + width]


class TorchImagePreprocessor:
    """Apply a :class:`PreprocessingSpec` to an ``N x C x H x W`` batch in torch.

    :param spec: The preprocessing steps.
    """

    def __init__(self, spec: PreprocessingSpec) -> None:
        self.spec = spec
        mean = torch.tensor(spec.mean, dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(spec.std, dtype=torch.float32).view(1, -1, 1, 1)
        # (x * scale - mean) / std == x * (scale / std) - mean / std, one fused multiply-add.
        self._scale_uint8 = spec.uint8_scale / std
        self._scale_float = 255.0 * spec.uint8_scale / std
        self._shift = -mean / std

    @property
    def uint8_affine(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(scale, shift)``, per channel: the model's input is ``uint8 pixels * scale + shift``."""
        return self._scale_uint8.flatten(), self._shift.flatten()

    def _channels(self, x: torch.Tensor) -> torch.Tensor:
        c, want = x.shape[1], self.spec.num_channels
        if c == want:
            return x
        if c in (1, 2):  # grayscale, grayscale + alpha
            return x[:, :1].expand(-1, want, -1, -1)
        if c == 4 and want == 3:
            return x[:, :3]
        raise ValueError(
            f"images: got {c} channels; expected {want} (or 1 for grayscale, 2 for grayscale + alpha"
            f"{', 4 for RGBA' if want == 3 else ''})"
        )

    def _resize(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        mode = self.spec.resample
        kwargs: dict[str, Any] = {} if mode == "nearest-exact" else {"antialias": True, "align_corners": False}
        if x.dtype == torch.uint8:
            if x.device.type == "cpu":
                # torch's uint8 antialiased kernels follow PIL's fixed-point implementation.
                return F.interpolate(x.contiguous(memory_format=torch.channels_last), size=size, mode=mode, **kwargs)
            y = F.interpolate(x.float(), size=size, mode=mode, **kwargs)
            return y.round_().clamp_(0, 255).to(torch.uint8)
        y = F.interpolate(x, size=size, mode=mode, **kwargs)
        return y.clamp(0.0, 1.0) if mode == "bicubic" else y

    def output_size(self) -> tuple[int, int] | None:
        """``(H', W')`` of every preprocessed image when it does not depend on the input size, else ``None``."""
        spec = self.spec
        if spec.center_crop is not None:
            return spec.center_crop
        if spec.resize == "crop_pct":
            return spec.size[0], spec.size[0]
        if spec.resize == "fixed":
            return spec.size[0], spec.size[1]
        return None

    def resized(self, images: torch.Tensor, device: torch.device | str | None = None) -> torch.Tensor:
        """The channel, resize and crop steps, without rescaling: the input's dtype and units.

        :param images: As for :meth:`__call__`.
        :param device: As for :meth:`__call__`.
        :return: ``N x C' x H' x W'`` tensor, ``uint8`` (channels-last in memory when resized on the CPU) or
            floating in ``[0, 1]``.
        """
        if images.ndim != 4:
            raise ValueError(f"images: expected an N x C x H x W tensor; got shape {tuple(images.shape)}")
        check_pixel_values(images)
        is_uint8 = images.dtype == torch.uint8
        x = self._channels(images)
        if device is not None and not is_uint8:
            x = x.to(device, non_blocking=True)  # floats are resized where the model runs
        spec = self.spec
        if spec.resize != "none":
            size = spec.resize_size(x.shape[-2], x.shape[-1])
            if size != tuple(x.shape[-2:]):
                x = self._resize(x, size)
            if spec.resize == "crop_pct":
                x = _center_crop(x, spec.size[0], spec.size[0])
        if spec.center_crop is not None:
            x = _center_crop(x, *spec.center_crop)
        if device is not None:
            x = x.to(device, non_blocking=True)
        return x

    def __call__(self, images: torch.Tensor, device: torch.device | str | None = None) -> torch.Tensor:
        """Preprocess a batch.

        :param images: ``N x C x H x W`` tensor, ``uint8`` in ``[0, 255]`` or floating in ``[0, 1]``;
            ``C`` is the model's channel count, 1 (grayscale, repeated), 2 (grayscale + alpha, alpha
            dropped) or 4 (RGBA, alpha dropped).
            Floating inputs keep their autograd graph.
        :param device: Device of the result (``uint8`` inputs are resized on the CPU, then moved).
        :return: ``N x C' x H' x W'`` float32 tensor, normalised as the processor does. Its memory layout is
            the input's (an ``N x H x W x C`` array seen as ``N x C x H x W`` stays channels-last, which
            convolutions run faster on); no copy is made to change it.
        """
        is_uint8 = images.dtype == torch.uint8
        x = self.resized(images, device)
        scale = (self._scale_uint8 if is_uint8 else self._scale_float).to(x.device)
        shift = self._shift.to(x.device)
        x = x.to(torch.float32) if is_uint8 or x.dtype != torch.float32 else x
        return torch.addcmul(shift, x, scale)


def check_against_processor(processor: Any, preprocessor: TorchImagePreprocessor) -> float:
    """Compare the torch preprocessing with the HuggingFace processor on a synthetic uint8 image.

    :param processor: The HuggingFace image processor.
    :param preprocessor: Its torch counterpart.
    :return: The maximum absolute difference of the preprocessed values.
    :raises ValueError: If the output shapes differ (a processor setting this module does not reproduce).
    """
    yy, xx = np.mgrid[0:45, 0:61]
    image = np.stack(
        [(yy * 5) % 256, (xx * 4) % 256, (128 + 100 * np.sin(yy / 7.0) * np.cos(xx / 5.0))], axis=-1
    ).astype(np.uint8)
    if preprocessor.spec.num_channels == 1:
        image = image[..., :1]
    ref = np.asarray(processor(images=[image], return_tensors="np")["pixel_values"], dtype=np.float32)
    ours = preprocessor(torch.from_numpy(image).permute(2, 0, 1)[None]).numpy()
    if ref.shape != ours.shape:
        raise ValueError(
            f"image processor {type(processor).__name__}: torch preprocessing gives shape {ours.shape}, the "
            f"processor gives {ref.shape}; this processor configuration is not supported"
        )
    return float(np.abs(ref - ours).max())
