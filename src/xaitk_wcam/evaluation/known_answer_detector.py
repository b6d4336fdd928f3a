"""Score detector explanations against the ScaleShapes scenes' ground truth (:func:`scale_shapes_scenes`).

Each detection a detector makes on a scene is matched to the ground-truth object of its class with the highest
IoU (at least 0.5; greedy by score); unmatched detections (false positives) are counted, not scored. A matched
detection has a known answer: its object's cue lives at known wavelet levels (a shape at levels 0-1, a texture
patch at the level of its period, and nowhere else: its mean is the background's).

- **Space-scale pointing game** (WCAMDetector): a hit when the maximum grid cell of the detection's raw Sobol
  indices holds a coefficient of a cue level whose pixel block meets the *detection's* box
  (:func:`~xaitk_wcam.evaluation.known_answer.box_level_cells`); chance is the share of such cells. The same game
  over the detail cells only (levels ``>= 1``) tells where the most important detail coefficients lie, whatever
  the weight of the approximation band.
- **Pixel pointing game** (any detector saliency map, xaitk's ``DRISEStack`` included): a hit when the argmax
  pixel of the detection's map lies in the detection's box; chance is the box's share of the image.
- **Cue share**: the share of the detection's scale profile on its cue's levels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects

from xaitk_wcam.datasets.scale_shapes import SCENE_CLASSES, ScaleShapesScene, stack_images
from xaitk_wcam.evaluation.known_answer import (
    PointingGame,
    approximation_cells,
    box_level_cells,
    box_pixels,
    pointing_game,
)
from xaitk_wcam.utils.detections import DetectionSet, detection_labels, read_detections

__all__ = [
    "DetectorKnownAnswer",
    "detector_pixel_pointing_game",
    "match_detections",
    "scene_detections",
    "wcam_detector_known_answer",
]


@dataclass(frozen=True)
class DetectorKnownAnswer:
    """WCAMDetector's explanations of the matched detections of ScaleShapes scenes, scored.

    :param texture: ``M`` booleans: the matched object is a texture patch (else a shape).
    :param space_scale: Pointing game of the maximum cell (``hit`` and ``chance``; per detection).
    :param space_scale_details: The same over the detail cells (levels ``>= 1``).
    :param pixels: Pixel pointing game of the pixel maps.
    :param scale_profiles: ``M x (levels + 1)`` scale profiles, coarse to fine.
    :param cue_share: ``M`` shares of the profile on the cue's levels.
    :param cue_levels: ``M`` tuples: the levels of each matched object's cue.
    :param stability: Per explained scene, the explanation's stability.
    :param unmatched: Detections that matched no object (not scored).
    """

    texture: np.ndarray
    space_scale: PointingGame
    space_scale_details: PointingGame
    pixels: PointingGame
    scale_profiles: np.ndarray
    cue_share: np.ndarray
    cue_levels: tuple[tuple[int, ...], ...]
    stability: np.ndarray
    unmatched: int


def scene_detections(detector: DetectImageObjects, scenes: Sequence[ScaleShapesScene]) -> list[DetectionSet]:
    """The detector's detections on every scene (one ``detect_objects`` call), as :class:`DetectionSet` s."""
    labels = detection_labels(detector)
    boxes, scores, objectness, labels = read_detections(
        detector.detect_objects(stack_images(list(scenes))), labels, len(scenes)
    )
    out = []
    for b, s, o in zip(boxes, scores, objectness, strict=True):
        keep = o > 0
        out.append(DetectionSet(b[keep], s[keep], o[keep], tuple(labels)))
    return out


def match_detections(scene: ScaleShapesScene, detections: DetectionSet, min_iou: float = 0.5) -> np.ndarray:
    """For each detection, the index of the object it matches (same class, IoU ``>= min_iou``, greedy by
    score), or -1.

    :param detections: Detections whose labels are :data:`~xaitk_wcam.datasets.SCENE_CLASSES`.
    """
    match = np.full(len(detections), -1)
    taken = np.zeros(len(scene.labels), dtype=bool)
    classes = detections.class_labels
    for i in np.argsort(-detections.confidence, kind="stable"):
        box = detections.boxes[i]
        low = np.maximum(box[:2], scene.boxes[:, :2])
        high = np.minimum(box[2:], scene.boxes[:, 2:])
        inter = np.prod(np.clip(high - low, 0, None), axis=1)
        union = np.prod(box[2:] - box[:2]) + np.prod(scene.boxes[:, 2:] - scene.boxes[:, :2], axis=1) - inter
        iou = np.where((np.array(SCENE_CLASSES)[scene.labels] == classes[i]) & ~taken, inter / union, 0.0)
        if iou.size and iou.max() >= min_iou:
            match[i] = int(iou.argmax())
            taken[match[i]] = True
    return match


def _matched(scenes: Sequence[ScaleShapesScene], references: Sequence[DetectionSet]):
    """Per scene: indices of its matched detections and the objects they match."""
    for scene, reference in zip(scenes, references, strict=True):
        match = match_detections(scene, reference)
        yield scene, reference, np.flatnonzero(match >= 0), match[match >= 0]


def wcam_detector_known_answer(
    explain: Callable[[np.ndarray, DetectionSet], object],
    scenes: Sequence[ScaleShapesScene],
    references: Sequence[DetectionSet],
    grid_size: int,
) -> DetectorKnownAnswer:
    """Explain each scene's reference detections and score the matched ones.

    :param explain: ``(image, reference detections) -> WCAMResult``, e.g.
        ``lambda image, ref: WCAMDetector(...).explain(image, detector, detections=ref)``.
    :param scenes: Scenes of one size and ``levels``.
    :param references: The detections to explain on each scene (:func:`scene_detections`).
    :param grid_size: The explainer's grid size.
    """
    height, width = scenes[0].image.shape[:2]
    levels = scenes[0].levels
    details = ~approximation_cells(height, width, levels, grid_size)
    indices, spatial, profiles, boxes, cue_levels, texture, stability = [], [], [], [], [], [], []
    unmatched = 0
    for scene, reference, kept, objects in _matched(scenes, references):
        unmatched += len(reference) - len(kept)
        if not len(kept):
            continue
        result = explain(scene.image, reference)
        stability.append(np.nan if result.stability is None else result.stability)
        indices.extend(result.sobol_indices[kept])
        spatial.extend(result.spatial_maps[kept])
        profiles.extend(result.scale_profile[kept])
        boxes.extend(reference.boxes[kept])
        cue_levels.extend(scene.cue_levels[k] for k in objects)
        texture.extend(scene.is_texture[objects])
    boxes_array, texture_array = np.array(boxes), np.array(texture, dtype=bool)
    cells = box_level_cells(boxes_array, cue_levels, height, width, levels, grid_size)
    pixels = box_pixels(boxes_array, height, width)
    never = np.zeros_like(cells)
    profiles_array = np.array(profiles)
    return DetectorKnownAnswer(
        texture=texture_array,
        space_scale=pointing_game(np.array(indices), cells, never),
        space_scale_details=pointing_game(np.array(indices), cells, never, valid=details),
        pixels=pointing_game(np.array(spatial), pixels, np.zeros_like(pixels)),
        scale_profiles=profiles_array,
        cue_share=np.array([p[list(lv)].sum() for p, lv in zip(profiles_array, cue_levels, strict=True)]),
        cue_levels=tuple(tuple(int(v) for v in lv) for lv in cue_levels),
        stability=np.array(stability),
        unmatched=unmatched,
    )


def detector_pixel_pointing_game(
    saliency: Callable[[np.ndarray, DetectionSet], np.ndarray],
    scenes: Sequence[ScaleShapesScene],
    references: Sequence[DetectionSet],
) -> tuple[PointingGame, np.ndarray]:
    """Pixel pointing game of any detector saliency maps on the matched detections.

    :param saliency: ``(image, reference detections) -> nDets x H x W`` maps, e.g. xaitk's
        ``lambda image, ref: DRISEStack(...).generate(image, ref.boxes, ref.scores, detector, ref.objectness)``.
    :return: The game (per matched detection) and which of them are texture patches.
    """
    height, width = scenes[0].image.shape[:2]
    maps, boxes, texture = [], [], []
    for scene, reference, kept, objects in _matched(scenes, references):
        if len(kept):
            maps.extend(saliency(scene.image, reference)[kept])
            boxes.extend(reference.boxes[kept])
            texture.extend(scene.is_texture[objects])
    pixels = box_pixels(np.array(boxes), height, width)
    return pointing_game(np.array(maps), pixels, np.zeros_like(pixels)), np.array(texture, dtype=bool)
