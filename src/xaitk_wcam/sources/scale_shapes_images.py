"""``ScaleShapesImages``: ScaleShapes classification images as an image source (a known-answer study's images).

The images are those of :func:`xaitk_wcam.datasets.scale_shapes`: each shows a coarse cue of its class (a shape,
wavelet levels 0 and 1) and a fine cue (a texture of period 2 or 4 pixels, level 3 or 2). The ``"cue_conflict"``
split pairs the shape of one class with the texture of another, the texture/shape cue-conflict design of Geirhos et
al. ("ImageNet-trained CNNs are biased towards texture; increasing shape bias improves accuracy and robustness",
ICLR 2019): a texture-biased model follows the texture, a shape-biased one the shape, so a perturbation that removes
the texture (a blur) is known in advance to flip the first and to move its importance to the shape's coarser levels.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from typing import Any

from xaitk_wcam.interfaces.image_source import DEFAULT_MAX_PIXELS, ImageSource
from xaitk_wcam.utils.checks import check_int


class ScaleShapesImages(ImageSource):
    """``n`` images of each of the ScaleShapes ``split`` (one split, or several mixed in one source), generated
    offline and deterministically by :func:`~xaitk_wcam.datasets.scale_shapes`; ids ``<split>/<i>``; labels the
    class names of the shipped ScaleShapes classifiers (:data:`~xaitk_wcam.datasets.CLASS_NAMES`, e.g.
    ``"disk / horizontal stripes 2px"``), so that a study's ``target: ground_truth`` reads them.

    On the ``"cue_conflict"`` split (Geirhos et al., ICLR 2019: the shape of class ``a`` with the texture of a class
    ``b != a``) the label is the **shape**'s class, the dataset's convention; a texture-biased model's prediction is
    then the texture's class, not the label. Image ``i`` of a split has the shape class ``i % 4``.

    Cost: generating the images (milliseconds for a hundred; 256 per vectorised chunk).

    :param n: Images per split, ``>= 1`` (``n * len(split)`` in all).
    :param size: Image side in pixels, a multiple of 8, ``>= 64`` (the shipped classifiers take 64 x 64 and
        resize other sizes).
    :param seed: Non-negative seed; the same ``(seed, split)`` gives bit-identical images.
    :param split: ``"train"``, ``"test"`` or ``"cue_conflict"``, or a non-empty list of distinct ones (their images
        follow each other, split by split).
    :param limit: Yield at most this many images (``None``: all).
    :param max_pixels: As :class:`~xaitk_wcam.interfaces.image_source.ImageSource`.
    :raises ValueError: A parameter out of its range, naming it.
    :raises TypeError: A parameter of the wrong type, naming it.
    """

    def __init__(
        self,
        *,
        n: int = 8,
        size: int = 64,
        seed: int = 0,
        split: str | Sequence[str] = "test",
        limit: int | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        from xaitk_wcam.datasets.scale_shapes import scale_shapes

        super().__init__(limit=limit, max_pixels=max_pixels)
        self.n = check_int("n", n, 1)
        self.split: str | list[str] = _check_splits(split)
        for one in self.splits:
            scale_shapes(0, size, seed, one)  # checks size and seed, naming them
        self.size, self.seed = int(size), int(seed)

    @property
    def splits(self) -> tuple[str, ...]:
        """The splits, in the order their images come."""
        return (self.split,) if isinstance(self.split, str) else tuple(self.split)

    def _count(self) -> int:
        return self.n * len(self.splits)

    def _iter_images(self) -> Iterator[tuple[str, Any, Hashable | None]]:
        from xaitk_wcam.datasets.scale_shapes import CLASS_NAMES, scale_shapes

        for split in self.splits:
            for i, sample in enumerate(scale_shapes(self.n, self.size, self.seed, split)):
                yield f"{split}/{i}", sample.image, CLASS_NAMES[sample.label]

    def get_config(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "size": self.size,
            "seed": self.seed,
            "split": self.split if isinstance(self.split, str) else list(self.split),
            **super().get_config(),
        }


def _check_splits(split: Any) -> str | list[str]:
    """``split`` as given (a split name) or as a list of distinct split names.

    :raises TypeError: Neither a string nor a list of strings.
    :raises ValueError: An unknown split, an empty list, a split given twice.
    """
    from xaitk_wcam.datasets.scale_shapes import SPLITS

    if isinstance(split, str):
        names = [split]
    elif isinstance(split, Sequence) and all(isinstance(s, str) for s in split):
        names = list(split)
        if not names:
            raise ValueError(f"split must name at least one of {list(SPLITS)}, got an empty list")
        if len(set(names)) != len(names):
            raise ValueError(f"split must not name a split twice, got {names}")
    else:
        raise TypeError(f"split must be a split name or a list of them (of {list(SPLITS)}), got {split!r}")
    unknown = [s for s in names if s not in SPLITS]
    if unknown:
        raise ValueError(f"split must be one of {list(SPLITS)} (or a list of them), got {unknown[0]!r}")
    return split if isinstance(split, str) else names
