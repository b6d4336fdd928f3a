"""Map geometry of the pixel faithfulness metrics: superpixel features, their order and the steps and random
subsets that remove them (pure numpy).

* superpixel pooling: importance summed over ``s x s`` image blocks (the last row/column of blocks is
  partial when the image side is not a multiple of ``s``); maps are upsampled to the image nearest-neighbour
  (``floor(dst * n_in / n_out)``, equal to ``torch.nn.functional.interpolate(mode="nearest")``, which the
  ``saliency-maps-metrics`` reference uses);
* feature ordering: most important first; ties are broken by the row-major (flat) index of the
  feature, lower index first (``numpy.argsort(-values, kind="stable")``).
"""

from __future__ import annotations

import warnings

import numpy as np

from xaitk_wcam.utils.maps import nearest_source_index, upsample_nearest


def block_starts(n: int, size: int) -> np.ndarray:
    """Start index of each block of ``size`` cells along an axis of ``n`` cells (last block may be short)."""
    return np.arange(0, n, size, dtype=np.int64)


def superpixel_sum(values: np.ndarray, size: int) -> np.ndarray:
    """Sum of an ``H x W`` array over ``size x size`` blocks: ``ceil(H/size) x ceil(W/size)``."""
    rows = np.add.reduceat(values, block_starts(values.shape[0], size), axis=0)
    return np.add.reduceat(rows, block_starts(values.shape[1], size), axis=1)


def feature_map(
    sal_map: np.ndarray,
    image_hw: tuple[int, int],
    superpixel_size: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Features scored by a map, and the feature each image pixel belongs to.

    :param sal_map: ``H' x W'`` float map (``H' <= H``, ``W' <= W``).
    :param image_hw: ``(H, W)`` of the image.
    :param superpixel_size: ``None``: one feature per map cell (pixels take the cell of their nearest
        source); ``s``: the map is nearest-upsampled to the image and summed over ``s x s`` blocks,
        one feature per block.
    :return: ``values`` (``F``, row-major over the feature grid) and ``labels`` (``H x W`` int64 in
        ``[0, F)``).
    """
    h, w = image_hw
    if superpixel_size is None:
        rows = nearest_source_index(h, sal_map.shape[0])
        cols = nearest_source_index(w, sal_map.shape[1])
        labels = rows[:, None] * sal_map.shape[1] + cols[None, :]
        return sal_map.ravel(), labels
    pooled = superpixel_sum(upsample_nearest(sal_map, image_hw), superpixel_size)
    rows = np.arange(h, dtype=np.int64) // superpixel_size
    cols = np.arange(w, dtype=np.int64) // superpixel_size
    labels = rows[:, None] * pooled.shape[1] + cols[None, :]
    return pooled.ravel(), labels


def feature_ranks(values: np.ndarray, stacklevel: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Order features from most to least important.

    Ties are broken by flat index (lower first). A constant ``values`` has no ordering: a
    ``RuntimeWarning`` says that the row-major tie-break decides it.

    :param values: ``F`` finite importances.
    :return: ``order`` (feature indices, most important first) and ``rank`` (rank of each feature).
    """
    if values.size > 1 and values.min() == values.max():
        warnings.warn(
            "the saliency map is constant: no ordering; features are taken in row-major order (tie-break)",
            RuntimeWarning,
            stacklevel=stacklevel,
        )
    order = np.argsort(-values, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return order, rank


def step_counts(n_features: int, max_steps: int | None) -> np.ndarray:
    """Cumulative number of features perturbed after each step, starting with 0.

    As in ``saliency-maps-metrics``: ``per_step = F // min(max_steps, F)`` features per step (1 when
    ``max_steps`` is ``None``), ``ceil(F / per_step)`` steps; the last step takes what is left
    (the reference fails there). So the number of steps stays below ``2 * max_steps``.

    :return: ``n_steps + 1`` non-decreasing counts from 0 to ``F``.
    """
    per_step = 1 if max_steps is None else n_features // min(max_steps, n_features)
    n_steps = -(-n_features // per_step)
    return np.minimum(np.arange(n_steps + 1, dtype=np.int64) * per_step, n_features)


def subset_size(n_cells: int, subset_percent: float) -> int:
    """Cells removed per MuFidelity sample: ``floor(n_cells * subset_percent)``.

    :raises ValueError: Fewer than 1 or all of the cells.
    """
    size = int(n_cells * subset_percent)
    if not 1 <= size < n_cells:
        raise ValueError(
            f"subset_percent={subset_percent} of {n_cells} cells removes {size}; "
            "accepted: between 1 and n_cells - 1 cells (change grid_size or subset_percent)"
        )
    return size


def random_subsets(n_samples: int, n_cells: int, size: int, seed: int) -> np.ndarray:
    """``n_samples x n_cells`` booleans, ``size`` cells drawn without replacement in each row (seeded)."""
    keys = np.random.default_rng(seed).random((n_samples, n_cells))
    removed = np.zeros((n_samples, n_cells), dtype=bool)
    np.put_along_axis(removed, np.argsort(keys, axis=1)[:, :size], True, axis=1)
    return removed
