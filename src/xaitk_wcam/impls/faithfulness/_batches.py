"""Batched perturbed images of the pixel faithfulness metrics: the images of each deletion / insertion step,
and soft blends of the image and its fill, ``batch_size`` at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from xaitk_wcam.impls.faithfulness._fills import as_dtype


def _channel_axis(mask: np.ndarray, image_ndim: int) -> np.ndarray:
    return mask.reshape(mask.shape + (1,) * (image_ndim - 2))


def step_batches(
    base: np.ndarray,
    replacement: np.ndarray,
    pixel_rank: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    batch_size: int,
) -> Iterator[np.ndarray]:
    """Perturbed images of every step, ``batch_size`` at a time.

    Image ``j`` is ``base`` with the pixels whose feature rank lies in ``[lo[j], hi[j])`` taken from
    ``replacement`` (the same images as ``numpy.where(lo[j] <= rank < hi[j], replacement, base)``).
    Pixels are sorted by rank once; each image is a copy of a running image in which only the pixels
    that change are written (a cumulative step writes its new features only, a non-cumulative one
    restores the previous chunk and writes its own). This is about 3 times faster than building
    ``batch x H x W`` masks by broadcasting, whose random-access selects dominate (0.13 vs 0.38 ms
    per 224 x 224 x 3 image).

    :param base: ``H x W [x C]`` image.
    :param replacement: Same shape and dtype as ``base``.
    :param pixel_rank: ``H x W`` rank of each pixel's feature.
    :param lo: ``n`` inclusive lower ranks.
    :param hi: ``n`` exclusive upper ranks.
    :return: Batches ``b x H x W [x C]`` of ``base``'s dtype, ``n`` images in all.
    """
    flat_rank = pixel_rank.ravel()
    pixels = np.argsort(flat_rank, kind="stable")
    sorted_rank = flat_rank[pixels]
    lo_px, hi_px = np.searchsorted(sorted_rank, lo), np.searchsorted(sorted_rank, hi)
    base_flat = base.reshape(flat_rank.size, -1)
    replacement_flat = replacement.reshape(flat_rank.size, -1)
    current = base_flat.copy()
    cur_lo = cur_hi = 0  # `current` holds the pixels[cur_lo:cur_hi] from `replacement`
    for start in range(0, lo.size, batch_size):
        stop = min(start + batch_size, lo.size)
        out = np.empty((stop - start, *base_flat.shape), dtype=base.dtype)
        for j in range(start, stop):
            if lo_px[j] == cur_lo and hi_px[j] >= cur_hi:  # grow the running image
                changed = pixels[cur_hi : hi_px[j]]
            else:  # restore the previous chunk, then write this one
                restored = pixels[cur_lo:cur_hi]
                current[restored] = base_flat[restored]
                changed = pixels[lo_px[j] : hi_px[j]]
                cur_lo = lo_px[j]
            current[changed] = replacement_flat[changed]
            cur_hi = hi_px[j]
            out[j - start] = current
        yield out.reshape((stop - start, *base.shape))


def soft_blend(
    image: np.ndarray,
    fill: np.ndarray,
    mask: np.ndarray,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """``fill + (image - fill) * mask`` (= ``image * mask + fill * (1 - mask)``) in a float type.

    :param image: ``H x W [x C]``.
    :param fill: Float array of the image's shape.
    :param mask: ``H x W`` float weights (not clipped: bicubic masks may overshoot ``[0, 1]``).
    :param out: Optional float array of the image's shape to write into; otherwise the image's float
        type (float32 for integer images) is used.
    :return: The blend, as floats; cast with :func:`as_dtype`.
    """
    if out is None:
        work = image.dtype if np.issubdtype(image.dtype, np.floating) else np.dtype(np.float32)
        out = np.empty(image.shape, dtype=work)
    np.subtract(image, fill, out=out, casting="unsafe")
    out *= _channel_axis(mask.astype(out.dtype, copy=False), image.ndim)
    out += fill
    return out


def soft_mask_batches(
    items: Iterable[tuple[np.ndarray, np.ndarray | None, np.ndarray | None]],
    batch_size: int,
) -> Iterator[np.ndarray]:
    """:func:`soft_blend` of each ``(image, fill, mask)``, cast to the image's dtype, in batches.

    ``mask = None`` passes the image unperturbed. Items are consumed lazily and written into batches of
    at most ``batch_size`` consecutive images sharing a shape and dtype.

    :param items: ``(image H x W [x C], fill of the image's shape or None, mask H x W or None)``.
    """

    def batch(group: list) -> np.ndarray:
        first = group[0][0]
        out = np.empty((len(group), *first.shape), dtype=first.dtype)
        for slot, (image, fill, mask) in zip(out, group, strict=True):
            if mask is None:
                slot[...] = image
            elif np.issubdtype(slot.dtype, np.floating):
                soft_blend(image, fill, mask, out=slot)
            else:
                slot[...] = as_dtype(soft_blend(image, fill, mask), image.dtype)
        return out

    group: list = []
    for item in items:
        image = item[0]
        if group and (image.shape != group[0][0].shape or image.dtype != group[0][0].dtype):
            yield batch(group)
            group = []
        group.append(item)
        if len(group) == batch_size:
            yield batch(group)
            group = []
    if group:
        yield batch(group)


# ------------------------------------------------------------------------------------------- random subsets
