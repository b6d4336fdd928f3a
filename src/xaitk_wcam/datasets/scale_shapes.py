"""ScaleShapes: procedural images whose class evidence sits at a known position and a known wavelet scale.

Every image shows two cues of its class on a noisy background, each with its ground truth:

- a **coarse cue**, a flat-coloured shape (disk, square, triangle or ring) of side ``s`` between
  ``0.31 * size`` and ``0.5 * size`` pixels (20 to 32 pixels at the default 64), brighter or darker than
  the background;
- a **fine cue**, a patch of a zero-mean luminance texture (stripes or checkers of period 2 or 4
  pixels) of side ``size / 4 +- 4`` pixels (12 to 20 at 64), away from the shape.

Class ``k`` pairs the shape ``SHAPES[k]`` with the texture ``TEXTURES[k]``:

====  ========  =========================  ======  ======================
 k    shape     texture                    period  level (``levels = 3``)
====  ========  =========================  ======  ======================
 0    disk      horizontal stripes         2       3 (finest)
 1    square    vertical stripes           4       2
 2    triangle  checkers                   2       3 (finest)
 3    ring      checkers                   4       2
====  ========  =========================  ======  ======================

Which wavelet level carries each cue (level indices as in :mod:`xaitk_wcam.wavelets.layout`: 0 is the
approximation, 1 the coarsest details, ``levels`` the finest; a Haar coefficient of level ``l >= 1``
covers a block of ``footprint(l) = 2 ** (levels - l + 1)`` pixels, the approximation ``2 ** levels``):

- **Texture of period p: exactly the level whose footprint is p**, ``levels - log2(p) + 1``. The
  texture is a function of absolute pixel coordinates with phase 0 and the patch corners lie on
  multiples of 4 pixels, so every aligned ``p x p`` block holds one full, zero-mean period: its Haar
  coefficients are zero at every other level (the patch has the background's mean, it is invisible
  to coarser levels, and constant on blocks of ``p / 2``, invisible to finer ones).
- **Shape of side s: the levels whose footprint is at least s / 4**, i.e. the approximation and the
  coarsest details (levels 0 and 1 for ``s`` in 20 to 32 pixels at ``levels = 3``, footprint 8). A
  rendering on blocks of ``s / 4`` pixels (4 x 4 blocks across the shape) still tells the four shapes
  apart by their mass distribution, and these levels hold most of the shape's energy (its edges leak
  some into finer levels; ``tests/datasets/test_scale_shapes.py`` measures the split).

The ``"cue_conflict"`` split pairs the shape of class ``a`` with the texture of a class ``b != a``,
as the texture/shape cue-conflict stimuli of Geirhos et al. ("ImageNet-trained CNNs are biased
towards texture; increasing shape bias improves accuracy and robustness", ICLR 2019). By convention
its ``label`` is the **shape** label; ``shape_label`` and ``texture_label`` are both given.

Images are ``size x size x 3`` ``uint8``: a random background colour (each channel in 96..160) plus
i.i.d. Gaussian noise (std 10), the shape at a luminance offset of +-(50..80), the texture at an
amplitude of 40..60 grey levels. Shape edges are anti-aliased (2 x 2 supersampling).

Generation is deterministic given ``(seed, split)``: each split draws from its own
``numpy.random.default_rng([seed, split_code])`` stream, so ``"train"`` and ``"test"`` images built
from the same seed never coincide.

**Scenes for detectors** (:func:`scale_shapes_scenes`): images holding one to ``max_objects`` separate
objects, each with its box and a single cue: a shape (detector classes 0-3, ``SHAPES``; levels 0 and 1)
or a texture patch (classes 4-7, ``TEXTURES``; the one level of its period), drawn and rendered as
above. A texture patch has the background's mean, so a detector can find it only at its level; a shape
is found at the coarse levels. :data:`SCENE_CLASSES` names the eight classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xaitk_wcam.utils.checks import check_int

__all__ = [
    "CLASS_NAMES",
    "SCENE_CLASSES",
    "SHAPES",
    "SPLITS",
    "TEXTURES",
    "ScaleShapesSample",
    "ScaleShapesScene",
    "scale_shapes",
    "scale_shapes_scenes",
    "shape_levels",
    "stack_images",
    "texture_level",
]

SHAPES = ("disk", "square", "triangle", "ring")
#: ``(name, period in pixels)`` of the texture paired with each class.
TEXTURES = (("horizontal stripes", 2), ("vertical stripes", 4), ("checkers", 2), ("checkers", 4))
#: Class names, the model labels: ``"<shape> / <texture> <period>px"``.
CLASS_NAMES = tuple(f"{shape} / {tex} {period}px" for shape, (tex, period) in zip(SHAPES, TEXTURES, strict=True))
#: Detector classes of :func:`scale_shapes_scenes`: the four shapes, then the four textures (``"checkers 2px"``).
SCENE_CLASSES = (*SHAPES, *(f"{tex} {period}px" for tex, period in TEXTURES))
SPLITS = ("train", "test", "cue_conflict")
_SPLIT_CODE = {"train": 101, "test": 202, "cue_conflict": 303}

_NOISE_STD = 10.0
_BACKGROUND = (96, 160)
_SHAPE_CONTRAST = (50, 80)
_TEXTURE_AMPLITUDE = (40, 60)
_CHUNK = 256  # images rendered per vectorised chunk
_SCENE_SIDES = (20, 29)  # shape sides of the scenes: 20 to 28 pixels (levels 0 and 1 at levels = 3)


@dataclass(frozen=True)
class ScaleShapesSample:
    """One ScaleShapes image and its ground truth.

    :param image: ``size x size x 3`` ``uint8`` RGB image.
    :param label: Class index in ``0..3``; on the ``"cue_conflict"`` split, the shape's class.
    :param shape_label: Class of the shape (coarse cue).
    :param texture_label: Class of the texture (fine cue).
    :param shape_box: ``(x0, y0, x1, y1)`` pixel box of the shape, half-open (``x1``, ``y1`` excluded).
    :param texture_box: ``(x0, y0, x1, y1)`` pixel box of the texture patch, half-open.
    :param shape_levels: Wavelet levels that carry the shape (see the module docstring).
    :param texture_level: The wavelet level that carries the texture.
    :param levels: The decomposition depth the levels refer to.
    """

    image: np.ndarray
    label: int
    shape_label: int
    texture_label: int
    shape_box: tuple[int, int, int, int]
    texture_box: tuple[int, int, int, int]
    shape_levels: tuple[int, ...]
    texture_level: int
    levels: int


@dataclass(frozen=True)
class ScaleShapesScene:
    """One ScaleShapes scene (:func:`scale_shapes_scenes`) and its ground truth, one entry per object.

    :param image: ``size x size x 3`` ``uint8`` RGB image.
    :param boxes: ``k x 4`` ints, the objects' ``(x0, y0, x1, y1)`` pixel boxes, half-open.
    :param labels: ``k`` class indices into :data:`SCENE_CLASSES` (0-3: shapes, 4-7: textures).
    :param cue_levels: For each object, the wavelet levels that carry it (shape: ``(0, 1)``; texture: its level).
    :param levels: The decomposition depth the levels refer to.
    """

    image: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    cue_levels: tuple[tuple[int, ...], ...]
    levels: int

    @property
    def is_texture(self) -> np.ndarray:
        """``k`` booleans: which objects are texture patches."""
        return self.labels >= len(SHAPES)


def footprint(level: int, levels: int) -> int:
    """Side in pixels of the block one Haar coefficient of ``level`` covers (``2**levels`` for level 0)."""
    return 2 ** (levels - max(level, 1) + 1)


def texture_level(period: int, levels: int) -> int:
    """Level carrying an aligned texture of ``period`` pixels: the level whose footprint is ``period``.

    :param period: A power of two, ``2 <= period <= 2**levels``.
    :param levels: Decomposition depth, ``>= 1``.
    """
    exponent = int(period).bit_length() - 1
    if period < 2 or 2**exponent != period or exponent > levels:
        raise ValueError(f"period must be a power of two in [2, 2**levels={2**levels}], got {period}")
    return levels - exponent + 1


def shape_levels(side: int, levels: int) -> tuple[int, ...]:
    """Levels carrying a shape of ``side`` pixels: those whose footprint is ``>= side / 4``.

    Level 0 (the approximation) is always included.

    :param side: Shape side in pixels, ``>= 1``.
    :param levels: Decomposition depth, ``>= 1``.
    """
    return tuple(level for level in range(levels + 1) if level == 0 or 4 * footprint(level, levels) >= side)


def scale_shapes(
    n: int, size: int = 64, seed: int = 0, split: str = "train", levels: int = 3
) -> list[ScaleShapesSample]:
    """Generate ``n`` ScaleShapes images (see the module docstring for the cues and their levels).

    Classes are balanced: image ``i`` has class ``i % 4`` (shape class on ``"cue_conflict"``).

    :param n: Number of images, ``>= 0``.
    :param size: Image side in pixels; a multiple of 8 (and of ``2**levels``), ``>= 48``.
    :param seed: Non-negative seed; the same ``(seed, split)`` gives bit-identical images.
    :param split: ``"train"``, ``"test"`` or ``"cue_conflict"``.
    :param levels: Decomposition depth the ground-truth levels refer to, ``2 <= levels <= log2(size / 8)``
        so that the period-4 texture has a level and the approximation band is at least 8 x 8.
    :return: ``n`` :class:`ScaleShapesSample`.
    """
    _check_generator_args(n, size, seed, split, levels, SPLITS)
    rng = np.random.default_rng([seed, _SPLIT_CODE[split]])
    params = _draw_parameters(rng, n, size, conflict=split == "cue_conflict")
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    for start in range(0, n, _CHUNK):
        chunk = slice(start, min(n, start + _CHUNK))
        noise = rng.standard_normal((chunk.stop - chunk.start, size, size, 3))
        images[chunk] = _render({k: v[chunk] for k, v in params.items()}, size, noise)
    t_levels = [texture_level(TEXTURES[t][1], levels) for t in range(len(TEXTURES))]
    samples = []
    for i in range(n):
        sx, sy, side = (int(v) for v in (params["shape_x"][i], params["shape_y"][i], params["side"][i]))
        tx, ty, tside = (int(v) for v in (params["tex_x"][i], params["tex_y"][i], params["tex_side"][i]))
        texture = int(params["texture"][i])
        samples.append(
            ScaleShapesSample(
                image=images[i],
                label=int(params["shape"][i]),
                shape_label=int(params["shape"][i]),
                texture_label=texture,
                shape_box=(sx, sy, sx + side, sy + side),
                texture_box=(tx, ty, tx + tside, ty + tside),
                shape_levels=shape_levels(side, levels),
                texture_level=t_levels[texture],
                levels=levels,
            )
        )
    return samples


def _check_generator_args(n: int, size: int, seed: int, split: str, levels: int, splits: tuple[str, ...]) -> None:
    check_int("n", n, 0)
    check_int("size", size, 48)
    check_int("seed", seed, 0)
    check_int("levels", levels, 2)
    if split not in splits:
        raise ValueError(f"split must be one of {splits}, got {split!r}")
    if size % 8 or size % 2**levels or size >> levels < 8:
        raise ValueError(
            f"size={size} and levels={levels}: size must be a multiple of 8 and of 2**levels, with "
            f"size / 2**levels >= 8"
        )


def scale_shapes_scenes(
    n: int, size: int = 96, seed: int = 0, split: str = "train", levels: int = 3, max_objects: int = 3
) -> list[ScaleShapesScene]:
    """Generate ``n`` scenes of 1 to ``max_objects`` separate objects with boxes, for detectors.

    Each object is, with equal odds, a shape (side 20 to 28 pixels, contrast +-(50..80); levels 0 and 1)
    or a texture patch (side 12, 16 or 20 pixels, corners on multiples of 4; the level of its period), of
    a uniformly drawn class, on the background and noise of :func:`scale_shapes`. Objects keep 2 pixels
    apart; an object that finds no free place in 64 tries is left out (rare: objects cover at most 25 %
    of a 96 x 96 image).

    :param n: Number of images, ``>= 0``.
    :param size: Image side in pixels; a multiple of 8 (and of ``2**levels``), ``>= 48``.
    :param seed: Non-negative seed; the same ``(seed, split)`` gives bit-identical scenes.
    :param split: ``"train"`` or ``"test"`` (independent streams).
    :param levels: Decomposition depth the ground-truth levels refer to (as :func:`scale_shapes`).
    :param max_objects: Most objects per image, ``>= 1``; the count is uniform in ``1..max_objects``.
    :return: ``n`` :class:`ScaleShapesScene`.
    """
    _check_generator_args(n, size, seed, split, levels, SPLITS[:2])
    max_objects = check_int("max_objects", max_objects, 1)
    rng = np.random.default_rng([seed, _SPLIT_CODE[split] + 1])
    slots = _draw_scene_objects(rng, n, size, max_objects)
    background = rng.integers(_BACKGROUND[0], _BACKGROUND[1] + 1, size=(n, 3))
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    window = _SCENE_SIDES[1] + 4  # every object fits in a window from its box corner rounded down to 4 px
    for start in range(0, n, _CHUNK):
        chunk = slice(start, min(n, start + _CHUNK))
        m = chunk.stop - chunk.start
        luminance = np.zeros((m, size + window, size + window))  # padded so that windows never leave it
        for slot in slots:
            p = {k: v[chunk] for k, v in slot.items()}
            shape, texture = p["present"] & ~p["is_texture"], p["present"] & p["is_texture"]
            origin = (4 * (p["x"] // 4), 4 * (p["y"] // 4))
            local = _shape_coverage(p, window, origin) * (shape * p["contrast"])[:, None, None]
            local += _texture_sign(p, window, origin) * (texture * p["amplitude"])[:, None, None]
            rows = origin[1][:, None, None] + np.arange(window)[None, :, None]
            cols = origin[0][:, None, None] + np.arange(window)[None, None, :]
            luminance[np.arange(m)[:, None, None], rows, cols] += local
        noise = rng.standard_normal((m, size, size, 3))
        image = background[chunk, None, None, :] + luminance[:, :size, :size, None] + _NOISE_STD * noise
        images[chunk] = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    t_levels = np.array([texture_level(period, levels) for _, period in TEXTURES])
    scenes = []
    for i in range(n):
        kept = [slot for slot in slots if slot["present"][i]]
        boxes = np.array([[s["x"][i], s["y"][i], s["x"][i] + s["side"][i], s["y"][i] + s["side"][i]] for s in kept])
        labels = np.array([s["cls"][i] + len(SHAPES) * s["is_texture"][i] for s in kept], dtype=np.int64)
        cue_levels = tuple(
            (int(t_levels[s["cls"][i]]),) if s["is_texture"][i] else shape_levels(int(s["side"][i]), levels)
            for s in kept
        )
        scenes.append(ScaleShapesScene(images[i], boxes.astype(np.int64).reshape(-1, 4), labels, cue_levels, levels))
    return scenes


def _draw_scene_objects(rng: np.random.Generator, n: int, size: int, max_objects: int) -> list[dict[str, np.ndarray]]:
    """Per object slot, the ``n`` images' draws (one fixed draw order), placed apart from the earlier slots."""
    count = rng.integers(1, max_objects + 1, size=n)
    tries, gap = 64, 2
    slots: list[dict[str, np.ndarray]] = []
    for k in range(max_objects):
        is_texture = rng.integers(0, 2, size=n).astype(bool)
        cls = rng.integers(0, len(SHAPES), size=n)
        side = np.where(is_texture, 4 * rng.integers(3, 6, size=n), rng.integers(*_SCENE_SIDES, size=n))
        free_x = rng.integers(1, size - side[:, None], size=(n, tries))
        free_y = rng.integers(1, size - side[:, None], size=(n, tries))
        grid_x = 4 * rng.integers(0, (size - side[:, None]) // 4 + 1, size=(n, tries))
        grid_y = 4 * rng.integers(0, (size - side[:, None]) // 4 + 1, size=(n, tries))
        x = np.where(is_texture[:, None], grid_x, free_x)
        y = np.where(is_texture[:, None], grid_y, free_y)
        fits = np.ones((n, tries), dtype=bool)
        for other in slots:
            ox, oy, oside = other["x"][:, None], other["y"][:, None], other["side"][:, None]
            apart = (x >= ox + oside + gap) | (ox >= x + side[:, None] + gap)
            apart |= (y >= oy + oside + gap) | (oy >= y + side[:, None] + gap)
            fits &= apart | ~other["present"][:, None]
        pick, rows = fits.argmax(axis=1), np.arange(n)
        slots.append(
            {
                "present": (k < count) & fits.any(axis=1),
                "is_texture": is_texture,
                "cls": cls,
                "side": side,
                "x": x[rows, pick],
                "y": y[rows, pick],
                "contrast": rng.integers(_SHAPE_CONTRAST[0], _SHAPE_CONTRAST[1] + 1, size=n)
                * rng.choice(np.array([-1, 1]), size=n),
                "amplitude": rng.integers(_TEXTURE_AMPLITUDE[0], _TEXTURE_AMPLITUDE[1] + 1, size=n),
                "flip": rng.integers(0, 2, size=n).astype(bool),
            }
        )
        slot = slots[-1]  # the names the classifier renderers read
        slot.update(shape=cls, texture=cls, shape_x=slot["x"], shape_y=slot["y"], tex_x=slot["x"], tex_y=slot["y"])
        slot["tex_side"] = side
    return slots


def stack_images(samples: list[ScaleShapesSample] | list[ScaleShapesScene]) -> np.ndarray:
    """``N x H x W x 3`` ``uint8`` array of the samples' (or scenes') images."""
    if not samples:
        raise ValueError("samples must not be empty")
    return np.stack([s.image for s in samples])


def _draw_parameters(rng: np.random.Generator, n: int, size: int, conflict: bool) -> dict[str, np.ndarray]:
    """All random choices of ``n`` images, drawn as whole arrays (one fixed draw order per call)."""
    n_classes = len(SHAPES)
    shape = np.arange(n) % n_classes
    texture = (shape + rng.integers(1, n_classes, size=n)) % n_classes if conflict else shape.copy()
    side = rng.integers(round(0.31 * size), size // 2 + 1, size=n)
    tex_side = 4 * rng.integers(size // 16 - 1, size // 16 + 2, size=n)
    # Place the shape and the texture patch (corners on multiples of 4) without overlap, with a 2 px gap:
    # draw candidate positions for every image at once and keep, per image, the first that fits.
    tries = 64
    shape_x = rng.integers(1, size - side[:, None], size=(n, tries))
    shape_y = rng.integers(1, size - side[:, None], size=(n, tries))
    tex_x = 4 * rng.integers(0, (size - tex_side[:, None]) // 4 + 1, size=(n, tries))
    tex_y = 4 * rng.integers(0, (size - tex_side[:, None]) // 4 + 1, size=(n, tries))
    gap = 2
    apart = (
        (tex_x >= shape_x + side[:, None] + gap)
        | (shape_x >= tex_x + tex_side[:, None] + gap)
        | (tex_y >= shape_y + side[:, None] + gap)
        | (shape_y >= tex_y + tex_side[:, None] + gap)
    )
    if not apart.any(axis=1).all():  # pragma: no cover - probability ~ 1e-15 per image at size 64
        raise RuntimeError("could not place the shape and the texture apart; try another seed")
    pick = apart.argmax(axis=1)
    rows = np.arange(n)
    return {
        "shape": shape,
        "texture": texture,
        "side": side,
        "tex_side": tex_side,
        "shape_x": shape_x[rows, pick],
        "shape_y": shape_y[rows, pick],
        "tex_x": tex_x[rows, pick],
        "tex_y": tex_y[rows, pick],
        "flip": rng.integers(0, 2, size=n).astype(bool),  # triangle pointing up or down
        "background": rng.integers(_BACKGROUND[0], _BACKGROUND[1] + 1, size=(n, 3)),
        "contrast": rng.integers(_SHAPE_CONTRAST[0], _SHAPE_CONTRAST[1] + 1, size=n)
        * rng.choice(np.array([-1, 1]), size=n),
        "amplitude": rng.integers(_TEXTURE_AMPLITUDE[0], _TEXTURE_AMPLITUDE[1] + 1, size=n),
    }


def _shape_coverage(
    p: dict[str, np.ndarray], size: int, origin: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """``n x size x size`` fraction of each pixel the shape covers (2 x 2 supersampling).

    :param origin: ``(x0, y0)``, ``n`` ints each: render the ``size x size`` window at that pixel instead of
        the image from ``(0, 0)``.
    """
    sub = (np.arange(2 * size) + 0.5) / 2  # sub-pixel centres in pixel units
    # Coordinates relative to the shape box, in units of its side: u, v in [0, 1] inside the box.
    side = p["side"][:, None, None].astype(np.float64)
    x0, y0 = (p["shape_x"], p["shape_y"]) if origin is None else (p["shape_x"] - origin[0], p["shape_y"] - origin[1])
    u = (sub[None, None, :] - x0[:, None, None]) / side
    v = (sub[None, :, None] - y0[:, None, None]) / side
    v = np.where(p["flip"][:, None, None], 1.0 - v, v)
    r2 = (u - 0.5) ** 2 + (v - 0.5) ** 2
    inside = np.stack(
        [
            r2 <= 0.25,  # disk, diameter s
            (u >= 0) & (u < 1) & (v >= 0) & (v < 1),  # square, side s
            (v >= 0) & (v < 1) & (np.abs(u - 0.5) <= 0.5 * v),  # triangle, base and height s
            (r2 <= 0.25) & (r2 >= 0.0625),  # ring, outer diameter s, inner s / 2
        ]
    )  # 4 x n x 2size x 2size
    chosen = np.take_along_axis(inside, p["shape"][None, :, None, None], axis=0)[0]
    return chosen.reshape(len(chosen), size, 2, size, 2).mean(axis=(2, 4))


def _texture_sign(
    p: dict[str, np.ndarray], size: int, origin: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """``n x size x size`` texture of ``+-1`` inside the patch, 0 outside; absolute-coordinate phase 0.

    :param origin: As for :func:`_shape_coverage`; the origins must be even (multiples of 4 keep every phase).
    """
    y, x = np.mgrid[0:size, 0:size]
    if origin is not None:  # window coordinates: patterns of period 2 and 4 keep their phase at multiples of 4
        p = {**p, "tex_x": p["tex_x"] - origin[0], "tex_y": p["tex_y"] - origin[1]}
    patterns = np.stack(
        [
            1 - 2 * (y % 2),  # horizontal stripes, period 2
            1 - 2 * ((x // 2) % 2),  # vertical stripes, period 4
            1 - 2 * ((x + y) % 2),  # checkers, period 2
            1 - 2 * ((x // 2 + y // 2) % 2),  # checkers, period 4
        ]
    ).astype(np.float64)
    inside = (
        (x[None] >= p["tex_x"][:, None, None])
        & (x[None] < (p["tex_x"] + p["tex_side"])[:, None, None])
        & (y[None] >= p["tex_y"][:, None, None])
        & (y[None] < (p["tex_y"] + p["tex_side"])[:, None, None])
    )
    return patterns[p["texture"]] * inside


def _render(p: dict[str, np.ndarray], size: int, noise: np.ndarray) -> np.ndarray:
    """Render a chunk of images from their parameters and standard normal ``noise``: ``n x size x size x 3`` uint8."""
    luminance = (
        _shape_coverage(p, size) * p["contrast"][:, None, None] + _texture_sign(p, size) * p["amplitude"][:, None, None]
    )
    image = p["background"][:, None, None, :] + luminance[..., None] + _NOISE_STD * noise
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
