"""``ScaleShapesScenes``: the ScaleShapes detection scenes as an image source (a detection study's images)."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Any

from xaitk_wcam.interfaces.image_source import DEFAULT_MAX_PIXELS, ImageSource
from xaitk_wcam.utils.checks import check_int


class ScaleShapesScenes(ImageSource):
    """``n`` scenes of :func:`~xaitk_wcam.datasets.scale_shapes_scenes` (1 to ``max_objects`` shapes and texture
    patches with known boxes and wavelet levels), generated offline and deterministically; ids ``<split>/<i>``,
    no label (a scene holds several objects).

    Cost: generating the scenes (milliseconds for a few; 256 per vectorised chunk).

    :param n: Number of scenes, ``>= 1``.
    :param size: Image side in pixels (as :func:`~xaitk_wcam.datasets.scale_shapes_scenes`; the shipped
        detector was trained at 96).
    :param seed: Non-negative seed; the same ``(seed, split)`` gives the same scenes.
    :param split: ``"train"`` or ``"test"``.
    :param max_objects: Most objects per scene, ``>= 1``.
    :param limit: Yield at most this many images (``None``: all ``n``).
    :param max_pixels: As :class:`~xaitk_wcam.interfaces.image_source.ImageSource`.
    """

    def __init__(
        self,
        n: int = 4,
        size: int = 96,
        seed: int = 0,
        split: str = "test",
        max_objects: int = 3,
        limit: int | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        from xaitk_wcam.datasets.scale_shapes import scale_shapes_scenes

        super().__init__(limit=limit, max_pixels=max_pixels)
        self.n = check_int("n", n, 1)
        scale_shapes_scenes(0, size, seed, split, max_objects=max_objects)  # checks the other parameters
        self.size, self.seed, self.split, self.max_objects = size, seed, split, max_objects

    def _count(self) -> int:
        return self.n

    def _iter_images(self) -> Iterator[tuple[str, Any, Hashable | None]]:
        from xaitk_wcam.datasets.scale_shapes import scale_shapes_scenes

        scenes = scale_shapes_scenes(self.n, self.size, self.seed, self.split, max_objects=self.max_objects)
        for i, scene in enumerate(scenes):
            yield f"{self.split}/{i}", scene.image, None

    def get_config(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "size": self.size,
            "seed": self.seed,
            "split": self.split,
            "max_objects": self.max_objects,
            **super().get_config(),
        }
