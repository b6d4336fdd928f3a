"""WCAMDetector: known answers from fake detectors, xaitk's interface, selection, configuration, wrong input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fakes import CellEnergyDetector, noise_image
from smqtk_core.configuration import from_config_dict, to_config_dict
from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects
from smqtk_image_io.bbox import AxisAlignedBoundingBox
from xaitk_saliency.interfaces.gen_object_detector_blackbox_sal import GenerateObjectDetectorBlackboxSaliency

from xaitk_wcam import WCAM, WCAMDetector, WCAMResult
from xaitk_wcam.impls.gen_object_detector_blackbox_sal.wcam_detector import (
    DetectionSimilarity,
    ReferenceDetection,
    select_detections,
)
from xaitk_wcam.utils.detections import DetectionSet

FAST = {"grid_size": 8, "nb_design": 8, "batch_size": 32}


def _region(shape, cell):
    """Layout rows and columns of cell ``(i, j)`` of an 8 x 8 grid over an image of ``shape``."""
    h, w = shape[0] // 8, shape[1] // 8
    return slice(cell[0] * h, (cell[0] + 1) * h), slice(cell[1] * w, (cell[1] + 1) * w)


# (image shape, [(layout cell on the 8 x 8 grid, level)] one per detection): several bands, a non-square image.
CASES = [
    ((64, 64, 3), [((1, 1), 1), ((0, 3), 2), ((6, 2), 3)]),
    ((64, 96, 3), [((5, 7), 3), ((0, 0), 0), ((3, 2), 2), ((1, 1), 1)]),  # cells of 8 x 12 coefficients
]


@pytest.mark.parametrize(("shape", "cells"), CASES)
def test_each_detection_peaks_on_its_band_cell(shape, cells):
    image = noise_image(shape)
    regions = [_region(shape, cell) for cell, _ in cells]
    boxes = [(4 + 10 * k, 2, 20 + 10 * k, 30) for k in range(len(cells))]  # distinct, overlapping boxes
    detector = CellEnergyDetector(image, regions, boxes)
    result = WCAMDetector(**FAST).explain(image, detector)

    assert isinstance(result, WCAMResult) and len(result.labels) == len(cells)
    assert detector.calls == 1 + result.n_evaluations == 1 + 8 * (64 + 2)  # the reference image, then one design
    for k, ((cell, level), label) in enumerate(zip(cells, result.labels, strict=True)):
        assert label == ReferenceDetection(k, f"object {k}", 1.0, tuple(float(v) for v in boxes[k]))
        assert np.unravel_index(result.sobol_indices[k].argmax(), (8, 8)) == cell
        top, runner_up = np.sort(result.sobol_indices[k].ravel())[::-1][:2]
        assert top > 3 * runner_up
        assert result.scale_profile[k].argmax() == level
        rows, cols = regions[k]
        assert result.wavelet_maps[k, rows, cols].min() == 1.0
    assert result.spatial_maps.shape == result.wavelet_maps.shape == (len(cells), *shape[:2])
    assert result.space == "pixel" and result.spaces == ("pixel", "wavelet")


def test_same_maps_as_wcam_on_the_equivalent_classifier():
    """One code path: the detection's map is WCAM's map of the classifier whose confidence is the box's score."""
    from fakes import CellEnergyClassifier

    image = noise_image((32, 48, 3))
    rows, cols = slice(0, 4), slice(6, 12)
    detector = CellEnergyDetector(image, [(rows, cols)], [(0, 0, 10, 10)])
    ours = WCAMDetector(**FAST, seed=5).explain(image, detector)
    wcam = WCAM(**FAST, seed=5).explain(image, CellEnergyClassifier(image, rows, cols))
    np.testing.assert_allclose(ours.sobol_indices[0], wcam.sobol_indices[0], rtol=1e-6, atol=1e-9)


def test_generate_is_xaitks_interface():
    assert WCAMDetector in GenerateObjectDetectorBlackboxSaliency.get_impls()
    image = noise_image((32, 32, 3))
    regions = [(slice(0, 4), slice(0, 4)), (slice(8, 16), slice(8, 16))]
    detector = CellEnergyDetector(image, regions, [(0, 0, 10, 10), (12, 12, 30, 30)])
    bboxes = np.array([[0, 0, 10, 10], [12, 12, 30, 30]], dtype=float)
    scores = np.eye(2)
    maps = WCAMDetector(**FAST).generate(image, bboxes, scores, detector)
    assert maps.shape == (2, 32, 32) and maps.dtype == np.float32 and maps.min() >= 0 and maps.max() == 1
    explained = WCAMDetector(**FAST).explain(image, detector, detections=DetectionSet(bboxes, scores, np.ones(2)))
    np.testing.assert_array_equal(maps, explained.spatial_maps)
    # with the classes swapped, no perturbed detection matches a reference box (cosine 0): constant, all-zero maps
    with pytest.warns(RuntimeWarning, match="does not vary"):
        swapped = WCAMDetector(**FAST).generate(image, bboxes, scores[::-1].copy(), detector)
    assert np.all(swapped == 0)


def test_a_vanished_detection_scores_zero():
    image = noise_image((32, 32, 3))
    region = (slice(4, 8), slice(0, 4))
    kept = CellEnergyDetector(image, [region], [(0, 0, 16, 16)], threshold=0.0)
    thresholded = CellEnergyDetector(image, [region], [(0, 0, 16, 16)], threshold=0.5)
    seen = []
    for detector in (kept, thresholded):
        reference = DetectionSet.from_detections(detector.detect_objects(image[None])[0], detector.get_labels())
        similarity = DetectionSimilarity(detector, reference)
        images = np.stack([image, image // 4])  # the darkened image loses most of the cell's energy
        blackbox_scores = [next(iter(r.values())) for r in similarity.classify_images(images)]
        seen.append(blackbox_scores)
    assert seen[0][0] == pytest.approx(1.0) and 0 < seen[0][1] < 0.5
    assert seen[1][0] == pytest.approx(1.0) and seen[1][1] == 0.0  # below the threshold: gone, similarity 0


def test_selection_all_top_k_label_and_boxes():
    image = noise_image((32, 32, 3))
    regions = [(slice(0, 4), slice(0, 4)), (slice(4, 8), slice(4, 8)), (slice(0, 4), slice(4, 8))]
    detector = CellEnergyDetector(image, regions, [(0, 0, 8, 8), (10, 10, 20, 20), (20, 0, 30, 9)])
    every = DetectionSet(
        np.array([[0, 0, 8, 8], [10, 10, 20, 20], [20, 0, 30, 9]], float),
        np.eye(3) * [[0.5], [0.9], [0.7]],
        np.ones(3),
        ("a", "b", "c"),
    )
    assert select_detections(every, "all").tolist() == [0, 1, 2]
    assert select_detections(every, 2).tolist() == [1, 2]  # the two best, in the detector's order
    assert select_detections(every, "c").tolist() == [2]
    with pytest.raises(ValueError, match="one of the detector's labels"):
        select_detections(every, "zebra")

    tiny = {"grid_size": 4, "nb_design": 2, "levels": 2}
    top = WCAMDetector(**tiny, detections=2).explain(image, detector)
    assert [label.index for label in top.labels] == [0, 1]  # every score is 1 on the reference image: ties keep order
    one = WCAMDetector(**tiny).explain(image, detector, detections="object 2")
    assert [(label.index, label.label) for label in one.labels] == [(2, "object 2")]
    boxes = WCAMDetector(**tiny).explain(image, detector, detections=np.array([[10.0, 10.0, 20.0, 20.0]]))
    assert boxes.labels[0].label is None and boxes.labels[0].box == (10.0, 10.0, 20.0, 20.0)
    assert str(boxes.labels[0]) == "#0 box 1.00"


def test_config_round_trip_and_seed():
    generator = WCAMDetector(grid_size=6, nb_design=4, levels=2, seed=3, detections=5)
    config = json.loads(json.dumps(to_config_dict(generator)))
    again = from_config_dict(config, GenerateObjectDetectorBlackboxSaliency.get_impls())
    assert again.get_config() == generator.get_config()
    assert "output" not in generator.get_config() and generator.seed == 3 and generator.wavelet_levels == 2
    assert generator.n_evaluations == 4 * (36 + 2) and generator.map_spaces == ("pixel", "wavelet")


class NaNDetector(DetectImageObjects):
    def __init__(self, bad):
        self.bad = bad

    def get_labels(self):
        return ["a", "b"]

    def detect_objects(self, img_iter):
        out = []
        for i, _ in enumerate(img_iter):
            score = {"nan": float("nan"), "logit": 5.0}.get(self.bad, 0.9) if i else 0.9
            box = AxisAlignedBoundingBox((0, 0), (5, 5))
            if self.bad == "box" and i:
                box = AxisAlignedBoundingBox((0, 0, 0), (5, 5, 5))
            out.append([(box, {"a": score, "b": 0.0})])
        return out

    def get_config(self):
        return {}


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda g, img, det: g.generate(img, np.zeros((2, 3)), np.eye(2), det),
            ValueError,
            "bboxes must have shape N x 4",
        ),
        (lambda g, img, det: g.generate(img, np.array([[5.0, 0, 2, 4]]), np.eye(2)[:1], det), ValueError, "x0 < x1"),
        (lambda g, img, det: g.generate(img, np.array([[0.0, 4, 2, 4]]), np.eye(2)[:1], det), ValueError, "y0 < y1"),
        (lambda g, img, det: g.generate(img, np.zeros((0, 4)), np.zeros((0, 2)), det), ValueError, "bboxes is empty"),
        (
            lambda g, img, det: g.generate(img, np.array([[0.0, 0, 2, 4]]), np.ones((1, 3)), det),
            ValueError,
            "scores has 3",
        ),
        (
            lambda g, img, det: g.generate(img, np.array([[0.0, 0, 2, 4]]), np.ones((2, 2)), det),
            ValueError,
            "scores must",
        ),
        (
            lambda g, img, det: g.generate(img, np.array([[0.0, 0, 2, 4]]), np.ones((1, 2)), object()),
            TypeError,
            "blackbox",
        ),
        (
            lambda g, img, det: g.generate(img, np.array([[0.0, 0, 2, 4]]), np.array([[3.0, 0.0]]), det),
            ValueError,
            r"scores holds values outside \[0, 1\]",
        ),
        (
            lambda g, img, det: g.generate(img, np.array([[0.0, 0, 2, 4]]), np.eye(2)[:1], det, np.array([-1.0])),
            ValueError,
            r"objectness holds values outside \[0, 1\]",
        ),
        (lambda g, img, det: g.explain(img, object()), TypeError, "detector must be"),
        (lambda g, img, det: g.explain(img, det, detections=np.zeros((0, 4))), ValueError, "detections is empty"),
        (lambda g, img, det: g.explain(img, det, detections=1.5), TypeError, "detections must be"),
        (lambda g, img, det: g.explain(img, det, detections="zebra"), ValueError, "zebra"),
        (lambda g, img, det: g.explain(img.astype(complex), det), TypeError, "ref_image"),
    ],
)
def test_wrong_input_names_the_argument(call, error, match):
    image = noise_image((16, 16, 3))
    detector = NaNDetector(bad=None)
    with pytest.raises(error, match=match):
        call(WCAMDetector(grid_size=4, nb_design=2, levels=2), image, detector)


@pytest.mark.parametrize(
    ("bad", "match"), [("nan", "non-finite"), ("box", "2-D min and max"), ("logit", r"outside \[0, 1\]")]
)
def test_a_detector_returning_nan_scores_or_malformed_boxes(bad, match):
    with pytest.raises(ValueError, match=match):
        WCAMDetector(grid_size=4, nb_design=2, levels=2).explain(noise_image((16, 16, 3)), NaNDetector(bad))


def test_no_detection_on_the_reference_image():
    image = noise_image((16, 16, 3))
    detector = CellEnergyDetector(image, [(slice(0, 2), slice(0, 2))], [(0, 0, 4, 4)], threshold=1.0)
    with pytest.raises(ValueError, match="found no detection on the reference image"):
        WCAMDetector(grid_size=4, nb_design=2, levels=2).explain(image, detector)


def test_wrong_keywords_at_construction():
    with pytest.raises(ValueError, match="detections"):
        WCAMDetector(detections=0)
    with pytest.raises(TypeError, match="detections"):
        WCAMDetector(detections=[1, 2])
    with pytest.raises(ValueError, match="estimator"):
        WCAMDetector(estimator="sobol")


def test_wcam_keywords_are_wcams_own() -> None:
    """One definition of WCAM's keywords: WCAMDetector's signature and default config are WCAM's (less ``output``)
    plus ``detections``; a keyword WCAM does not take is refused."""
    import inspect

    from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM

    wcam = {k: v for k, v in WCAM.get_default_config().items() if k != "output"}
    assert WCAMDetector.get_default_config() == {**wcam, "detections": "all"}
    keywords = [name for name in inspect.signature(WCAM).parameters if name != "output"]  # progress: not in configs
    assert list(inspect.signature(WCAMDetector).parameters) == [*keywords, "detections"]
    with pytest.raises(TypeError, match="no parameter 'output'"):
        WCAMDetector(output="wavelet")
    config = WCAMDetector(grid_size=6, seed=3).wcam.get_config()
    assert config == {**wcam, "grid_size": 6, "seed": 3, "output": "spatial"}
