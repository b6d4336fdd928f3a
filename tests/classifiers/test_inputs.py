"""Image containers accepted by the classifiers (``_inputs``): stacked and iterable inputs, mixed sizes,
wrong ranks, channel counts and dtypes."""

from __future__ import annotations

import numpy as np
import pytest
from classifier_helpers import _images, _matrix


def test_stacked_and_iterable_inputs_agree(resnet):
    images = _images(5)
    stacked = _matrix(resnet.classify_images(images), resnet.get_labels())
    listed = _matrix(resnet.classify_images(list(images)), resnet.get_labels())
    generator = _matrix(resnet.classify_images(img for img in images), resnet.get_labels())
    np.testing.assert_allclose(stacked, listed, atol=1e-6)
    np.testing.assert_allclose(stacked, generator, atol=1e-6)


def test_mixed_sizes_in_one_iterable(resnet):
    a, b = _images(1, 40, 50)[0], _images(1, 70, 30)[0]
    mixed = _matrix(resnet.classify_images([a, b, a]), resnet.get_labels())
    single = np.concatenate([_matrix(resnet.classify_images([x]), resnet.get_labels()) for x in (a, b, a)])
    np.testing.assert_allclose(mixed, single, atol=1e-6)


@pytest.mark.parametrize(
    ("images", "match"),
    [
        (np.zeros((2, 8, 8, 3, 1), np.uint8), "shape \\(2, 8, 8, 3, 1\\)"),  # stacked batch of rank 5
        (np.zeros((8,), np.uint8), "shape \\(8,\\)"),  # rank 1
        (np.zeros((2, 8, 8, 5), np.uint8), "C in"),  # 5 channels in a stacked batch
        ([np.zeros((8, 8, 5), np.uint8)], "C in"),  # 5 channels in a list
        ([np.zeros((2, 8, 8, 3), np.uint8)], "shape \\(2, 8, 8, 3\\)"),  # a list of batches
        (np.zeros((1, 8, 8, 3), np.int64), "dtype uint8 or floating"),
        (np.full((1, 8, 8, 3), 255.0, np.float32), "\\[0, 1\\]"),  # floats in [0, 255]
    ],
)
def test_wrong_images(vit, images, match):
    with pytest.raises(ValueError, match=match):
        list(vit.classify_images(images))


def test_wrong_maite_batch(vit):
    with pytest.raises(ValueError, match="C x H x W"):
        vit([np.zeros((8, 8, 3), np.uint8)])  # channels last
    with pytest.raises(ValueError, match="N x C x H x W"):
        vit(np.zeros((8, 8, 3), np.uint8))


def _adapter(kind, request):
    if kind == "hf-classifier":
        classifier = request.getfixturevalue("vit")
        return lambda images: list(classifier.classify_images(images))
    from xaitk_wcam.detectors import CenterNetDetector, HuggingFaceObjectDetector

    if kind == "hf-detector":
        detector = HuggingFaceObjectDetector(str(request.getfixturevalue("tiny_detr_dir")), device="cpu")
    else:
        detector = CenterNetDetector(score_threshold=0.05)
    return lambda images: list(detector.detect_objects(images))


@pytest.mark.parametrize("kind", ["hf-classifier", "hf-detector", "centernet"])
def test_every_adapter_refuses_pixels_outside_the_convention(kind, request):
    """uint8 in [0, 255] or floats in [0, 1]: CenterNet took a float image in [0, 255] (full-image boxes at score 1)
    and a NaN image (no detection) without a word, and the HuggingFace classifier let NaN through."""
    import torch

    run = _adapter(kind, request)
    image = np.random.default_rng(0).integers(0, 256, (1, 48, 48, 3), dtype=np.uint8)
    assert len(run(image)) == len(run(image.astype(np.float32) / 255)) == 1  # the convention is accepted
    nan = image.astype(np.float32) / 255
    nan[0, 3, 4, 1] = np.nan
    for bad, match in [
        (image.astype(np.float32), r"must lie in \[0, 1\].*got values in \[0, 255\]"),  # float in [0, 255]
        (nan, r"must lie in \[0, 1\].*got NaN"),
        (torch.from_numpy(image.astype(np.int64)), "dtype uint8 or floating"),
    ]:
        with pytest.raises(ValueError, match=match):
            run(bad)
