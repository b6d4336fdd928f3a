"""Score attribution maps against the ScaleShapes ground truth: pointing games in space-scale and pixel space.

**Space-scale pointing game** (WCAM). WCAM's ``g x g`` grid lies over the wavelet coefficient layout
(:mod:`xaitk_wcam.wavelets.layout`); every coefficient belongs to one band, hence one level, and covers a
``footprint x footprint`` pixel block. A grid cell is a **hit cell for a cue** when at least one of its
coefficients (a) belongs to a level that carries the cue (``sample.shape_levels`` or
``sample.texture_level``) and (b) covers a pixel block that intersects the cue's box. An explanation
scores a hit when its maximum cell (the argmax of the true class's ``sobol_indices``) is a hit cell
for either cue; when several cells tie for the maximum, the score is the fraction of them that are hit
cells. **Chance level** is the fraction of the ``g**2`` cells that are hit cells: the expected score of
a uniformly random cell.

The same game **restricted to the detail cells** (levels ``>= 1``; chance counted among them) shows
where the most important detail coefficients lie: on ScaleShapes, WCAM's overall maximum is mostly in
the approximation band, whose masking (to 0: a black block, in which the texture is clipped at 0)
perturbs either model strongly, so the overall game says little about which fine cue a model uses.

**Pixel pointing game** (any saliency map). The same, with pixels for cells: a hit when the argmax
pixel of the true class's ``H x W`` map lies inside the shape box or the texture box (no tolerance
margin, unlike Zhang et al., "Top-down Neural Attention by Excitation Backprop", ECCV 2016); chance
level is the fraction of the image the two boxes cover.

Both games report the shape and texture hits separately, so a texture-biased and a shape-biased
model can both score well while pointing at different cues.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from xaitk_saliency.interfaces.gen_image_classifier_blackbox_sal import GenerateImageClassifierBlackboxSaliency

from xaitk_wcam.datasets.scale_shapes import ScaleShapesSample, stack_images
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM
from xaitk_wcam.utils.confidences import classify
from xaitk_wcam.wavelets.layout import band_layout, grid_cell_index

__all__ = [
    "PointingGame",
    "WCAMKnownAnswer",
    "approximation_cells",
    "coefficient_geometry",
    "cue_cells",
    "cue_pixels",
    "decision_shares",
    "pointing_game",
    "predict",
    "saliency_pointing_game",
    "wcam_known_answer",
]


@dataclass(frozen=True)
class PointingGame:
    """Per-image pointing-game scores, each ``N`` floats in ``[0, 1]``.

    :param shape: Share of the maximum locations on a shape hit cell / pixel.
    :param texture: Share on a texture hit cell / pixel.
    :param hit: Share on a hit cell / pixel of either cue.
    :param chance: Expected ``hit`` of a uniformly random location.
    """

    shape: np.ndarray
    texture: np.ndarray
    hit: np.ndarray
    chance: np.ndarray

    def summary(self) -> dict[str, float]:
        """Means over the images."""
        return {name: float(getattr(self, name).mean()) for name in ("hit", "shape", "texture", "chance")}


def coefficient_geometry(height: int, width: int, levels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Level and pixel block of every coefficient of the (Haar) coefficient layout.

    :param height: Layout height, a multiple of ``2**levels``.
    :param width: Layout width, a multiple of ``2**levels``.
    :param levels: Decomposition depth.
    :return: ``level`` (``height x width`` ints), ``rows`` and ``cols`` (``height x width x 2`` ints): the
        half-open pixel row and column ranges the coefficient covers.
    """
    level = np.empty((height, width), dtype=np.int64)
    rows = np.empty((height, width, 2), dtype=np.int64)
    cols = np.empty((height, width, 2), dtype=np.int64)
    for band in band_layout(height, width, levels):
        r = np.arange(band.rows.stop - band.rows.start) * band.footprint
        c = np.arange(band.cols.stop - band.cols.start) * band.footprint
        level[band.rows, band.cols] = band.level
        rows[band.rows, band.cols] = np.stack([r, r + band.footprint], axis=-1)[:, None, :]
        cols[band.rows, band.cols] = np.stack([c, c + band.footprint], axis=-1)[None, :, :]
    return level, rows, cols


def _check_samples(samples: Sequence[ScaleShapesSample]) -> tuple[int, int, int]:
    if not samples:
        raise ValueError("samples must not be empty")
    if not all(isinstance(s, ScaleShapesSample) for s in samples):
        raise TypeError("samples must be ScaleShapesSample instances (from xaitk_wcam.datasets.scale_shapes)")
    shapes = {s.image.shape[:2] for s in samples}
    depths = {s.levels for s in samples}
    if len(shapes) != 1 or len(depths) != 1:
        raise ValueError(f"samples must share one image shape and one levels value, got {shapes} and {depths}")
    (height, width), levels = shapes.pop(), depths.pop()
    return height, width, levels


def _boxes(samples: Sequence[ScaleShapesSample], which: str) -> np.ndarray:
    return np.array([getattr(s, f"{which}_box") for s in samples], dtype=np.int64)  # N x 4 (x0, y0, x1, y1)


def cue_cells(samples: Sequence[ScaleShapesSample], grid_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Hit cells of the shape and of the texture on a ``grid_size x grid_size`` WCAM grid.

    :param samples: ScaleShapes samples of one image size and one ``levels`` (that of the WCAM explainer).
    :param grid_size: WCAM's ``grid_size``, ``1 <= grid_size <= image side``.
    :return: Two ``N x grid_size x grid_size`` boolean arrays (shape, texture).
    """
    height, width, levels = _check_samples(samples)
    shape = box_level_cells(
        _boxes(samples, "shape"), [s.shape_levels for s in samples], height, width, levels, grid_size
    )
    texture = box_level_cells(
        _boxes(samples, "texture"), [(s.texture_level,) for s in samples], height, width, levels, grid_size
    )
    return shape, texture


def box_level_cells(
    boxes: np.ndarray, box_levels: Sequence[Sequence[int]], height: int, width: int, levels: int, grid_size: int
) -> np.ndarray:
    """Grid cells holding a coefficient of one of a box's levels whose pixel block meets the box.

    :param boxes: ``N x 4`` ``(x0, y0, x1, y1)`` boxes, half-open, in pixels (floats allowed).
    :param box_levels: For each box, the wavelet levels that carry its cue.
    :param height: Image (layout) height, a multiple of ``2**levels``; ``width`` likewise.
    :param grid_size: WCAM's ``grid_size``, ``1 <= grid_size <= min(height, width)``.
    :return: ``N x grid_size x grid_size`` booleans.
    """
    if isinstance(grid_size, bool) or not isinstance(grid_size, (int, np.integer)):
        raise TypeError(f"grid_size must be an int, got {type(grid_size).__name__}")
    if not 1 <= grid_size <= min(height, width):
        raise ValueError(f"grid_size must be in [1, {min(height, width)}], got {grid_size}")
    level, rows, cols = coefficient_geometry(height, width, levels)
    row_starts = np.flatnonzero(np.diff(grid_cell_index(height, grid_size), prepend=-1))
    col_starts = np.flatnonzero(np.diff(grid_cell_index(width, grid_size), prepend=-1))
    box = np.asarray(boxes, dtype=np.float64)[:, :, None, None]  # N x 4 x 1 x 1
    meets_box = (
        (cols[None, :, :, 0] < box[:, 2])
        & (cols[None, :, :, 1] > box[:, 0])
        & (rows[None, :, :, 0] < box[:, 3])
        & (rows[None, :, :, 1] > box[:, 1])
    )
    cue_levels = np.zeros((len(box), levels + 1), dtype=bool)
    for i, these in enumerate(box_levels):
        cue_levels[i, list(these)] = True
    hit = meets_box & cue_levels[:, level]  # N x H x W coefficient hits
    return np.logical_or.reduceat(np.logical_or.reduceat(hit, row_starts, axis=1), col_starts, axis=2)


def box_pixels(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """``N x H x W`` booleans: the pixels (centres) inside each ``(x0, y0, x1, y1)`` box."""
    box = np.asarray(boxes, dtype=np.float64)[:, :, None, None]
    y = np.arange(height)[None, :, None] + 0.5
    x = np.arange(width)[None, None, :] + 0.5
    return (x >= box[:, 0]) & (x < box[:, 2]) & (y >= box[:, 1]) & (y < box[:, 3])


def cue_pixels(samples: Sequence[ScaleShapesSample]) -> tuple[np.ndarray, np.ndarray]:
    """Pixels inside the shape box and inside the texture box.

    :return: Two ``N x H x W`` boolean arrays (shape, texture).
    """
    height, width, _ = _check_samples(samples)
    return box_pixels(_boxes(samples, "shape"), height, width), box_pixels(_boxes(samples, "texture"), height, width)


def pointing_game(
    maps: np.ndarray, shape_mask: np.ndarray, texture_mask: np.ndarray, valid: np.ndarray | None = None
) -> PointingGame:
    """Score the maximum of each map against the cue masks (cells or pixels).

    :param maps: ``N x A x B`` importance maps, one per image (the true class's map), finite.
    :param shape_mask: ``N x A x B`` boolean hit locations of the shape (:func:`cue_cells` / :func:`cue_pixels`).
    :param texture_mask: ``N x A x B`` boolean hit locations of the texture.
    :param valid: Optional ``A x B`` (or ``N x A x B``) boolean locations the game is restricted to (the
        maximum is taken over them, chance is counted among them), e.g. the detail cells of
        :func:`approximation_cells`'s complement. Default: everywhere.
    :return: Per-image scores; ties for the maximum share the score.
    """
    maps = np.asarray(maps)
    if maps.ndim != 3 or maps.shape != shape_mask.shape or maps.shape != texture_mask.shape:
        raise ValueError(
            f"maps, shape_mask and texture_mask must all be N x A x B of one shape, got {maps.shape}, "
            f"{shape_mask.shape} and {texture_mask.shape}"
        )
    if not np.isfinite(maps).all():
        raise ValueError("maps must be finite")
    n = len(maps)
    allowed = np.ones(maps.shape, dtype=bool) if valid is None else np.broadcast_to(np.asarray(valid, bool), maps.shape)
    allowed = allowed.reshape(n, -1)
    if not allowed.any(axis=1).all():
        raise ValueError("valid must allow at least one location per map")
    flat = np.where(allowed, maps.reshape(n, -1), -np.inf)
    at_max = flat == flat.max(axis=1, keepdims=True)
    n_max = at_max.sum(axis=1)
    shape = shape_mask.reshape(n, -1) & allowed
    texture = texture_mask.reshape(n, -1) & allowed
    either = shape | texture
    return PointingGame(
        shape=(at_max & shape).sum(axis=1) / n_max,
        texture=(at_max & texture).sum(axis=1) / n_max,
        hit=(at_max & either).sum(axis=1) / n_max,
        chance=either.sum(axis=1) / allowed.sum(axis=1),
    )


def approximation_cells(height: int, width: int, levels: int, grid_size: int) -> np.ndarray:
    """Grid cells that hold approximation coefficients only.

    :return: ``grid_size x grid_size`` boolean array.
    """
    level, _, _ = coefficient_geometry(height, width, levels)
    row_starts = np.flatnonzero(np.diff(grid_cell_index(height, grid_size), prepend=-1))
    col_starts = np.flatnonzero(np.diff(grid_cell_index(width, grid_size), prepend=-1))
    return np.logical_and.reduceat(np.logical_and.reduceat(level == 0, row_starts, axis=0), col_starts, axis=1)


def decision_shares(predicted: Sequence[int], samples: Sequence[ScaleShapesSample]) -> dict[str, float]:
    """Which cue decides the prediction on cue-conflict images (Geirhos et al. 2019's shape bias).

    :param predicted: ``N`` predicted class indices.
    :param samples: The ``N`` samples (``shape_label != texture_label``).
    :return: Shares of predictions equal to the shape class, the texture class, neither, and the shape
        bias ``shape / (shape + texture)`` (NaN when no prediction follows either cue).
    """
    predicted = np.asarray(predicted)
    if predicted.shape != (len(samples),):
        raise ValueError(f"predicted must hold one class per sample ({len(samples)}), got shape {predicted.shape}")
    shape = predicted == np.array([s.shape_label for s in samples])
    texture = predicted == np.array([s.texture_label for s in samples])
    decided = shape.sum() + texture.sum()
    return {
        "shape": float(shape.mean()),
        "texture": float(texture.mean()),
        "neither": float((~shape & ~texture).mean()),
        "shape_bias": float(shape.sum() / decided) if decided else float("nan"),
    }


def _class_count_check(classifier: ClassifyImage, samples: Sequence[ScaleShapesSample]) -> list:
    labels = list(classifier.get_labels())
    largest = max(max(s.shape_label, s.texture_label) for s in samples)
    if len(labels) <= largest:
        raise ValueError(
            f"classifier has {len(labels)} labels; ScaleShapes class indices go up to {largest} "
            "(labels must be in class order, as xaitk_wcam.datasets.CLASS_NAMES)"
        )
    return labels


def predict(classifier: ClassifyImage, samples: Sequence[ScaleShapesSample]) -> np.ndarray:
    """Predicted class index (position of the top label in ``classifier.get_labels()``) of every sample.

    :return: ``N`` ints.
    """
    _check_samples(samples)
    labels = _class_count_check(classifier, samples)
    return classify(classifier, [stack_images(list(samples))], labels).argmax(axis=1)


@dataclass(frozen=True)
class WCAMKnownAnswer:
    """WCAM explanations of the true class of ScaleShapes samples, scored against the ground truth.

    :param space_scale: The space-scale pointing game (maximum of ``sobol_indices`` over the grid cells).
    :param space_scale_details: The same game restricted to the detail cells (levels ``>= 1``): where the
        most important detail coefficients lie, whatever the weight of the approximation band.
    :param pixels: The pixel pointing game on WCAM's spatial maps.
    :param scale_profiles: ``N x (levels + 1)`` scale profile of the true class, coarse to fine.
    """

    space_scale: PointingGame
    space_scale_details: PointingGame
    pixels: PointingGame
    scale_profiles: np.ndarray

    def coarse_share(self, coarse_levels: Sequence[int] = (0, 1)) -> np.ndarray:
        """Per-image share of the scale profile on ``coarse_levels`` (default: approximation + coarsest details)."""
        return self.scale_profiles[:, list(coarse_levels)].sum(axis=1)


def wcam_known_answer(wcam: WCAM, classifier: ClassifyImage, samples: Sequence[ScaleShapesSample]) -> WCAMKnownAnswer:
    """Explain each sample's true class (``sample.label``) with ``wcam`` and score it.

    Cost: ``len(samples) * wcam.n_evaluations`` forward passes.

    :param wcam: A :class:`~xaitk_wcam.WCAM` whose ``levels`` equals the samples' ``levels``.
    :param classifier: Classifier with the ScaleShapes labels in class order.
    :param samples: ScaleShapes samples of one size (``"train"`` / ``"test"`` split: both cues of ``label``).
    """
    _check_samples(samples)
    if wcam.levels != samples[0].levels:
        raise ValueError(
            f"wcam.levels={wcam.levels} must equal the samples' levels={samples[0].levels} "
            "(the ground-truth levels refer to that decomposition)"
        )
    _class_count_check(classifier, samples)
    shape_cells, texture_cells = cue_cells(samples, wcam.grid_size)
    shape_pixels, texture_pixels = cue_pixels(samples)
    height, width = samples[0].image.shape[:2]
    details = ~approximation_cells(height, width, wcam.levels, wcam.grid_size)
    indices, spatial, profiles = [], [], []
    for sample in samples:
        result = wcam.explain(sample.image, classifier)
        indices.append(result.sobol_indices[sample.label])
        spatial.append(result.spatial_maps[sample.label])
        profiles.append(result.scale_profile[sample.label])
    indices = np.stack(indices)
    return WCAMKnownAnswer(
        space_scale=pointing_game(indices, shape_cells, texture_cells),
        space_scale_details=pointing_game(indices, shape_cells, texture_cells, valid=details),
        pixels=pointing_game(np.stack(spatial), shape_pixels, texture_pixels),
        scale_profiles=np.stack(profiles),
    )


def saliency_pointing_game(
    generator: GenerateImageClassifierBlackboxSaliency, classifier: ClassifyImage, samples: Sequence[ScaleShapesSample]
) -> PointingGame:
    """Pixel pointing game of any xaitk black-box saliency generator on the true class of each sample.

    :param generator: E.g. xaitk's ``SlidingWindowStack`` or ``RISEStack``, or ``RandomSaliency``.
    :param classifier: Classifier with the ScaleShapes labels in class order.
    :param samples: ScaleShapes samples of one size.
    """
    _check_samples(samples)
    _class_count_check(classifier, samples)
    maps = np.stack([generator.generate(s.image, classifier)[s.label] for s in samples])
    return pointing_game(maps, *cue_pixels(samples))
