"""Image sources: iterables of ``(image_id, H x W x C uint8 image, label or None)``.

Registered as an smqtk plugin package; every class is an :class:`~xaitk_wcam.interfaces.image_source.ImageSource`.
"""

from xaitk_wcam.sources.folder_images import FolderImages
from xaitk_wcam.sources.hf_dataset_images import HFDatasetImages
from xaitk_wcam.sources.maite_dataset_images import MaiteDatasetImages
from xaitk_wcam.sources.scale_shapes_images import ScaleShapesImages
from xaitk_wcam.sources.scale_shapes_scenes import ScaleShapesScenes
from xaitk_wcam.sources.skimage_images import SkimageImages

__all__ = [
    "FolderImages",
    "HFDatasetImages",
    "MaiteDatasetImages",
    "ScaleShapesImages",
    "ScaleShapesScenes",
    "SkimageImages",
]
