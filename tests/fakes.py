"""Classifiers and detectors with known answers, shared by the tests."""

import numpy as np
import pywt
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects
from smqtk_image_io.bbox import AxisAlignedBoundingBox


def noise_image(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


class CellEnergyClassifier(ClassifyImage):
    """Confidence = energy of the pywt Haar coefficients in one layout region, relative to the reference.

    Its output depends only on the WCAM variable of that region, so the answer is known.
    """

    def __init__(self, reference: np.ndarray, rows: slice, cols: slice, levels: int = 3) -> None:
        self.rows, self.cols, self.levels = rows, cols, levels
        self.calls = 0
        self.energy = self._energy(reference[None])[0]

    def _energy(self, images: np.ndarray) -> np.ndarray:
        gray = images.astype(np.float64) if images.ndim == 3 else images.astype(np.float64).mean(axis=-1)
        layout, _ = pywt.coeffs_to_array(pywt.wavedec2(gray, "haar", level=self.levels, axes=(-2, -1)), axes=(-2, -1))
        return (layout[:, self.rows, self.cols] ** 2).sum(axis=(1, 2))

    def get_labels(self):
        return ["cell", "rest"]

    def classify_images(self, img_iter):
        images = np.asarray(img_iter)
        self.calls += len(images)
        score = np.clip(self._energy(images) / self.energy, 0, 1)
        return iter([{"cell": s, "rest": 1 - s} for s in score])

    def get_config(self):
        return {}


class CellEnergyDetector(DetectImageObjects):
    """One detection per region: a fixed box whose score is the energy of the pywt Haar coefficients in its own
    layout region, relative to the reference image (a :class:`CellEnergyClassifier` per box).

    Each box's D-RISE similarity is its score (IoU 1, one-hot class), so WCAMDetector's answer is known. A box
    whose score falls to ``threshold`` or below is not returned (a detector's score threshold).
    """

    def __init__(self, reference, regions, boxes, levels=3, threshold=0.0):
        self.cells = [CellEnergyClassifier(reference, rows, cols, levels) for rows, cols in regions]
        self.boxes = [AxisAlignedBoundingBox(box[:2], box[2:]) for box in boxes]
        self.threshold = threshold
        self.calls = 0

    def get_labels(self):
        return [f"object {i}" for i in range(len(self.boxes))]

    def detect_objects(self, img_iter):
        images = np.asarray(img_iter)
        self.calls += len(images)
        scores = np.stack([np.clip(cell._energy(images) / cell.energy, 0, 1) for cell in self.cells], axis=1)
        labels = self.get_labels()
        out = []
        for row in scores:
            detections = []
            for k, (box, score) in enumerate(zip(self.boxes, row, strict=True)):
                if score > self.threshold:
                    vector = dict.fromkeys(labels, 0.0)
                    vector[labels[k]] = float(score)
                    detections.append((box, vector))
            out.append(detections)
        return out

    def get_config(self):
        return {}
