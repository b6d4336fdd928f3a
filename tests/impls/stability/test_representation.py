"""Internal representations: the HuggingFace adapter's penultimate features, a named layer, recording during the
classifier's own forward pass (no extra pass), and the refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xaitk_wcam.impls.stability import RelativeRepresentationStability
from xaitk_wcam.impls.stability.representation import capture_representations, head_module, representations


@pytest.fixture(scope="module")
def hf_classifier(tiny_resnet_dir):
    from xaitk_wcam.classifiers import HuggingFaceImageClassifier

    return HuggingFaceImageClassifier(str(tiny_resnet_dir), device="cpu", batch_size=2)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)


def test_penultimate_features_of_the_hf_adapter(hf_classifier, images):
    model = hf_classifier.model
    assert head_module(model) is model.classifier
    features = representations(hf_classifier, images)
    with torch.no_grad():
        pooled = model.resnet(hf_classifier.preprocess(images)).pooler_output.flatten(1).numpy()
    assert features.shape == (3, 16)  # the last hidden size of the tiny ResNet
    np.testing.assert_allclose(features, pooled, rtol=1e-5, atol=1e-6)
    with torch.no_grad():  # the head maps them to the logits: they are its input
        logits = model.classifier(torch.from_numpy(features).float()).numpy()
    np.testing.assert_allclose(logits, model(hf_classifier.preprocess(images)).logits.detach().numpy(), atol=1e-5)


def test_a_named_layer_and_a_model_output(hf_classifier, images):
    encoder = representations(hf_classifier, images, layer="resnet.encoder")  # returns a ModelOutput: its first tensor
    with torch.no_grad():
        hidden = hf_classifier.model.resnet(hf_classifier.preprocess(images)).last_hidden_state
    np.testing.assert_allclose(encoder, hidden.flatten(1).numpy(), rtol=1e-5, atol=1e-6)
    metric = RelativeRepresentationStability(layer="resnet.encoder")
    np.testing.assert_array_equal(metric.representation(hf_classifier, images), encoder)


def test_recorded_during_the_classifiers_own_pass(hf_classifier, images):
    calls = []
    hook = hf_classifier.model.register_forward_pre_hook(lambda *_: calls.append(1))
    try:
        with capture_representations(hf_classifier) as recorder:
            probabilities = hf_classifier.classify_array(images)
    finally:
        hook.remove()
    assert len(calls) == 2  # batch_size=2: the classifier's own two passes, no extra one
    np.testing.assert_allclose(recorder.value(), representations(hf_classifier, images), rtol=1e-5, atol=1e-6)
    assert probabilities.shape == (3, 5)
    hf_classifier.classify_array(images)
    assert len(recorder.chunks) == 2  # the hook is gone after the block
    with capture_representations(hf_classifier) as empty, pytest.raises(RuntimeError, match="no representation"):
        empty.value()


def test_refusals(hf_classifier):
    class Headless(torch.nn.Module):
        def forward(self, x):
            return x * 2

    with pytest.raises(ValueError, match="pass layer"):
        representations(Headless(), np.ones((1, 4)))
    with pytest.raises(ValueError, match="no module"):
        representations(hf_classifier, np.zeros((1, 8, 8, 3), np.uint8), layer="resnet.missing")
    with pytest.raises(TypeError, match="black box"):
        representations(object(), np.ones((1, 4)))
    with pytest.raises(TypeError, match="layer"):
        representations(hf_classifier, np.zeros((1, 8, 8, 3), np.uint8), layer=2)
