"""Classifiers with known answers, shared by the tests."""

import numpy as np
import pywt
from smqtk_classifier.interfaces.classify_image import ClassifyImage


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
