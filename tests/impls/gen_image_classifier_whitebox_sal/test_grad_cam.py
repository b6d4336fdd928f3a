"""GradCAM (``gen_image_classifier_whitebox_sal/grad_cam.py``): a known convolutional model, layers, HF models."""

import numpy as np
import pytest
import torch
from whitebox_helpers import C, chw, conv_classifier, image_uint8, linear_classifier

from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier
from xaitk_wcam.impls.gen_image_classifier_whitebox_sal import GradCAM, VanillaGradients


def test_gradcam_of_a_known_convolutional_model():
    clf = conv_classifier()
    image = image_uint8(7, (12, 10, C))
    with torch.no_grad():
        features = clf.model[0](torch.tensor(chw(image)[None], dtype=torch.float32))[0].numpy()
    weights = clf.model[3].weight.detach().numpy()
    expected = np.maximum(np.einsum("kc,chw->khw", weights, features), 0)
    expected /= expected.max(axis=(1, 2), keepdims=True)

    maps = GradCAM().generate(image, clf, [0, 1, 2])
    np.testing.assert_allclose(maps, expected[:3], atol=1e-5)
    np.testing.assert_allclose(GradCAM(layer="0").generate(image, clf, [0, 1, 2]), maps, atol=1e-6)
    signed = GradCAM(relu=False).generate(image, clf, [1])
    raw = np.einsum("c,chw->hw", weights[1], features)
    np.testing.assert_allclose(signed[0], raw / np.abs(raw).max(), atol=1e-5)


def test_gradcam_bad_layers():
    clf = conv_classifier()
    image = image_uint8(8, (12, 10, C))
    with pytest.raises(ValueError, match="layer='nope'"):
        GradCAM(layer="nope").generate(image, clf, [0])
    with pytest.raises(ValueError, match="N x C x h x w"):
        GradCAM(layer="3").generate(image, clf, [0])  # the Linear head
    with pytest.raises(ValueError, match="convolutional"):
        GradCAM().generate(image_uint8(), linear_classifier()[0], [0])
    with pytest.raises(ValueError, match="layer"):
        GradCAM(layer="")


def test_tiny_resnet_gradcam_default_is_the_last_stage(resnet):
    image = image_uint8(10, (64, 64, 3))
    default = GradCAM().generate(image, resnet, [0])
    np.testing.assert_array_equal(default, GradCAM(layer="resnet.encoder.stages.1").generate(image, resnet, [0]))
    assert not np.array_equal(default, GradCAM(layer="resnet.encoder.stages.0").generate(image, resnet, [0]))
    assert default.min() >= 0


def test_tiny_vit_gradcam_needs_a_layer(tiny_vit_dir):
    vit = HuggingFaceImageClassifier(str(tiny_vit_dir), device="cpu")
    image = image_uint8(13, (32, 32, 3))
    with pytest.raises(ValueError, match="not spatially pooled"):
        GradCAM().generate(image, vit, [0])
    assert VanillaGradients().generate(image, vit, [0, 1]).shape == (2, 32, 32)
