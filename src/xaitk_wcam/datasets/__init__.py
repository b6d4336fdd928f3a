"""Procedural data sets with known answers (no download).

:func:`scale_shapes` builds images whose class evidence sits at a known position and wavelet scale;
:mod:`xaitk_wcam.evaluation.known_answer` scores attribution maps against that ground truth.
"""

from xaitk_wcam.datasets.scale_shapes import (
    CLASS_NAMES,
    SCENE_CLASSES,
    SHAPES,
    SPLITS,
    TEXTURES,
    ScaleShapesSample,
    ScaleShapesScene,
    scale_shapes,
    scale_shapes_scenes,
    shape_levels,
    stack_images,
    texture_level,
)

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
