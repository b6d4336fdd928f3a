"""Scoring detector explanations against the ScaleShapes scenes: matching, the games, and the known answer."""

from __future__ import annotations

import numpy as np
import pytest

from xaitk_wcam import CenterNetDetector, WCAMDetector
from xaitk_wcam.datasets import SCENE_CLASSES, ScaleShapesScene, scale_shapes_scenes
from xaitk_wcam.evaluation.known_answer_detector import (
    detector_pixel_pointing_game,
    match_detections,
    scene_detections,
    wcam_detector_known_answer,
)
from xaitk_wcam.utils.detections import DetectionSet


def _scene() -> ScaleShapesScene:
    boxes = np.array([[10, 10, 34, 34], [60, 60, 76, 76]])
    return ScaleShapesScene(np.zeros((96, 96, 3), np.uint8), boxes, np.array([1, 6]), ((0, 1), (3,)), 3)


def test_matching_needs_the_class_and_half_the_box():
    scene = _scene()
    one_hot = np.eye(len(SCENE_CLASSES))
    detections = DetectionSet(
        np.array([[12.0, 10, 34, 36], [60, 60, 76, 76], [10, 10, 34, 34], [61, 58, 77, 75]]),
        one_hot[[1, 2, 1, 6]],  # square (overlapping), triangle (wrong class), square again, checkers 2px
        np.array([0.9, 0.8, 0.5, 0.7]),
        SCENE_CLASSES,
    )
    assert match_detections(scene, detections).tolist() == [0, -1, -1, 1]  # the best square wins, once


def test_games_on_hand_made_maps():
    scene = _scene()
    reference = DetectionSet(scene.boxes.astype(float), np.eye(8)[[1, 6]], np.ones(2), SCENE_CLASSES)

    def saliency(image, ref):  # the first map peaks inside its box, the second outside
        maps = np.zeros((2, 96, 96))
        maps[0, 20, 20] = maps[1, 5, 5] = 1
        return maps

    game, texture = detector_pixel_pointing_game(saliency, [scene], [reference])
    assert game.hit.tolist() == [1.0, 0.0] and texture.tolist() == [False, True]
    assert game.chance == pytest.approx([24 * 24 / 96**2, 16 * 16 / 96**2])


@pytest.mark.slow
@pytest.mark.e2e
def test_wcam_detector_finds_textures_at_their_level_and_shapes_coarse():
    """The known answer on six scenes: among detail cells WCAMDetector's maximum is a texture's own level in its
    box; shapes keep most of their profile on levels 0-1."""
    scenes = scale_shapes_scenes(6, seed=2, split="test")
    references = scene_detections(CenterNetDetector(score_threshold=0.3), scenes)
    detector = CenterNetDetector(score_threshold=0.05)
    explainer = WCAMDetector(grid_size=16, nb_design=8, batch_size=256)
    known = wcam_detector_known_answer(
        lambda image, ref: explainer.explain(image, detector, detections=ref), scenes, references, 16
    )
    assert known.unmatched == 0 and known.texture.any() and (~known.texture).any()
    details = known.space_scale_details
    assert details.hit[known.texture].mean() > 0.75 > 3 * details.chance.mean()
    assert known.scale_profiles[~known.texture][:, :2].sum(axis=1).mean() > 0.8
    assert known.space_scale.hit.mean() > 5 * known.space_scale.chance.mean()
