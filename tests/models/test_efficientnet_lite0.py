"""The offline ImageNet EfficientNet-Lite0: architecture, export, and real predictions (no network)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from skimage import data

from xaitk_wcam.models import (
    EfficientNetLiteConfig,
    EfficientNetLiteForImageClassification,
    imagenet_labels,
)
from xaitk_wcam.models._export import convert_state_dict
from xaitk_wcam.models.efficientnet_lite0 import _same_padding

CATS = set(range(281, 286))  # tabby, tiger cat, Persian, Siamese, Egyptian cat
ESPRESSO_OR_CUP = {967, 968}


def _top3(classifier, image) -> list[int]:
    probs = np.array(list(next(iter(classifier.classify_images([image]))).values()))
    return [int(i) for i in np.argsort(-probs)[:3]]


def test_chelsea_is_a_cat(classifier):
    top3 = _top3(classifier, data.chelsea())
    assert CATS & set(top3), [classifier.get_labels()[i] for i in top3]


def test_coffee_is_espresso_or_cup(classifier):
    top3 = _top3(classifier, data.coffee())
    assert ESPRESSO_OR_CUP & set(top3), [classifier.get_labels()[i] for i in top3]


def test_labels_are_imagenet(classifier):
    labels = classifier.get_labels()
    assert len(labels) == 1000 and len(set(labels)) == 1000
    assert labels[0] == "tench" and labels[281] == "tabby" and labels[967] == "espresso" and labels[968] == "cup"
    assert labels == imagenet_labels()


def test_same_padding_matches_tensorflow():
    # TF "SAME": out = ceil(n / s), total pad = max((out - 1) * s + k - n, 0), extra pixel after.
    assert _same_padding(224, 3, 2) == (0, 1)
    assert _same_padding(225, 3, 2) == (1, 1)
    assert _same_padding(112, 5, 2) == (1, 2)
    assert _same_padding(14, 5, 1) == (2, 2)
    assert _same_padding(7, 1, 1) == (0, 0)


def test_random_model_any_size_and_hidden_states():
    torch.manual_seed(0)
    config = EfficientNetLiteConfig(num_labels=7)
    model = EfficientNetLiteForImageClassification(config).eval()
    with torch.no_grad():
        out = model(pixel_values=torch.randn(2, 3, 67, 45), output_hidden_states=True)
    assert out.logits.shape == (2, 7)
    assert len(out.hidden_states) == 1 + 16 + 1  # stem, 16 MBConv blocks, head
    assert out.hidden_states[0].shape[-2:] == (34, 23)  # ceil(67 / 2), ceil(45 / 2)
    assert out.hidden_states[-1].shape[1:] == (1280, 3, 2)  # total stride 32
    loss = model(pixel_values=torch.randn(2, 3, 32, 32), labels=torch.tensor([1, 2])).loss
    assert loss is not None and torch.isfinite(loss)


def test_batch_norm_folded_at_inference_only(classifier):
    model = copy.deepcopy(classifier.model)
    x = classifier.preprocess(np.stack([data.chelsea()[:224, :224], data.coffee()[:224, :224]]))
    with torch.inference_mode():
        folded = model(pixel_values=x).logits.softmax(-1)
    pixels = x.clone().requires_grad_(True)
    unfolded = model(pixel_values=pixels).logits.softmax(-1)  # grad mode: conv + batch norm, as in training
    assert (folded - unfolded.detach()).abs().max() <= 1e-5 and (folded.argmax(1) == unfolded.argmax(1)).all()
    unfolded[:, 285].sum().backward()
    assert pixels.grad is not None and pixels.grad.abs().sum() > 0
    # new weights are folded again (load_state_dict copies in place)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["efficientnet_lite.head.bn.bias"] += 1.0
    model.load_state_dict(state)
    with torch.inference_mode():
        refolded = model(pixel_values=x).logits
    with torch.enable_grad():
        reference = model(pixel_values=x).logits.detach()
    assert (refolded - reference).abs().max() <= 1e-4
    assert (refolded.softmax(-1) - folded).abs().max() > 1e-3


def test_wrong_config_and_keys():
    with pytest.raises(ValueError, match="stages"):
        EfficientNetLiteConfig(stages=[[1, 3, 1, 1, 32]])
    with pytest.raises(ValueError, match="not an EfficientNet-Lite parameter"):
        convert_state_dict({"_blocks.0._se_reduce.weight": torch.zeros(1)})
