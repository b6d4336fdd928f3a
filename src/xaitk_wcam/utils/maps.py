"""Nearest-neighbour upsampling of maps and masks (the one used by every method and metric), and max-normalisation.

A cell of an ``h x w`` grid covers the pixels whose source index ``floor(dst * n_in / n_out)`` (exact
integer arithmetic) is that cell: equal to ``torch.nn.functional.interpolate(mode="nearest")``, which the
``saliency-maps-metrics`` reference uses.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

Grid = TypeVar("Grid")


def nearest_source_index(n_out: int, n_in: int) -> np.ndarray:
    """Source index of each of ``n_out`` output cells when ``n_in`` cells are upsampled (nearest)."""
    return (np.arange(n_out, dtype=np.int64) * n_in) // n_out


def upsample_nearest(grid: Grid, out_shape: tuple[int, int]) -> Grid:
    """``... x h x w`` array or ``n x h x w`` tensor -> ``... x H x W`` by nearest-neighbour upsampling.

    Tensors go through ``torch.nn.functional.interpolate`` (three times faster than indexing, same values).
    """
    if type(grid).__module__.startswith("torch"):
        import torch.nn.functional as F

        return F.interpolate(grid[:, None], size=tuple(out_shape), mode="nearest")[:, 0]
    rows = nearest_source_index(out_shape[0], grid.shape[-2])
    cols = nearest_source_index(out_shape[1], grid.shape[-1])
    return grid[..., rows[:, None], cols[None, :]]


def normalise_max(maps: np.ndarray) -> np.ndarray:
    """Clip each map at 0 and divide it by its maximum (all-zero maps stay zero): float32 in ``[0, 1]``.

    Works in place when ``maps`` is already float32 and non-negative (large class stacks).
    """
    maps = maps.astype(np.float32, copy=False)
    np.clip(maps, 0.0, None, out=maps)
    peak = maps.reshape(len(maps), -1).max(axis=1, initial=0.0)
    np.divide(maps, np.where(peak > 0, peak, 1.0)[:, None, None], out=maps)
    return maps
