"""``BlackboxExplainer.generate`` with many classes: a warning with the maps' memory, and the one-class view."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam import WCAM, RandomSaliency, SobolAttribution, TargetClassBlackbox
from xaitk_wcam.interfaces.blackbox_explainer import MANY_CLASSES, ManyClassesWarning, many_classes_message


class ManyClasses(ClassifyImage):
    """``n`` classes; class ``k`` is the mean brightness of the image times ``(k + 1) / n``."""

    def __init__(self, n: int) -> None:
        self.labels = [f"class {k}" for k in range(n)]
        self.calls = 0

    def get_labels(self) -> list[str]:
        return list(self.labels)

    def classify_images(self, img_iter):
        images = np.asarray(img_iter, dtype=np.float64)
        self.calls += len(images)
        mean = images.reshape(len(images), -1).mean(axis=1) / 255
        weights = (np.arange(len(self.labels)) + 1) / len(self.labels)
        return iter([dict(zip(self.labels, m * weights, strict=True)) for m in mean])

    def get_config(self) -> dict:
        return {"n": len(self.labels)}


IMAGE = np.random.default_rng(0).integers(0, 256, (16, 24, 3), dtype=np.uint8)
SMALL = {"grid_size": 2, "nb_design": 2, "batch_size": 16}


@pytest.mark.parametrize("generator", [WCAM(levels=1, **SMALL), SobolAttribution(**SMALL), RandomSaliency()])
def test_generate_warns_above_many_classes_with_the_memory(generator: object) -> None:
    n = MANY_CLASSES + 1
    with pytest.warns(ManyClassesWarning) as caught:
        maps = generator.generate(IMAGE, ManyClasses(n))
    assert maps.shape == (n, 16, 24)
    message = str(caught[0].message)
    assert f"{type(generator).__name__}.generate returns one map per class" in message
    assert f"{n} classes x 16 x 24 float32 = {n * 16 * 24 * 4 / 1e3:.3g} kB" in message
    assert "TargetClassBlackbox(classifier, label)" in message and "as_explainer" in message
    assert caught[0].filename == __file__  # points at the caller's generate line


def test_no_warning_up_to_many_classes_nor_with_the_one_class_view() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ManyClassesWarning)
        WCAM(levels=1, **SMALL).generate(IMAGE, ManyClasses(MANY_CLASSES))
        one = WCAM(levels=1, **SMALL).generate(IMAGE, TargetClassBlackbox(ManyClasses(1000), "class 7"))
    assert one.shape == (1, 16, 24)


def test_message_scales_its_unit() -> None:
    assert "1000 classes x 400 x 600 float32 = 960 MB" in many_classes_message("WCAM", 1000, (400, 600, 3))
    assert "= 1.92 MB" in many_classes_message("WCAM", 200, (40, 60))
    assert "= 2.3 GB" in many_classes_message("WCAM", 1000, (480, 1200))
