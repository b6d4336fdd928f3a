"""HuggingFaceImageClassifier on tiny random models saved locally (no network): labels, probabilities,
the MAITE model protocol, config and plugins, wrong arguments."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest
import torch
from classifier_helpers import _images, _matrix
from maite.protocols import image_classification as ic
from smqtk_classifier import ClassifyImage

from xaitk_wcam.classifiers import HuggingFaceImageClassifier, MaiteImageClassifier
from xaitk_wcam.classifiers.huggingface import unique_labels


@pytest.mark.parametrize("which", ["resnet", "vit"])
def test_labels_follow_id2label(which, request):
    clf = request.getfixturevalue(which)
    folder = request.getfixturevalue(f"tiny_{which}_dir")
    id2label = json.loads((folder / "config.json").read_text())["id2label"]
    expected = [id2label[k] for k in sorted(id2label, key=int)]
    assert list(clf.get_labels()) == expected
    assert clf.metadata["index2label"] == dict(enumerate(expected))


@pytest.mark.parametrize("which", ["resnet", "vit"])
def test_classify_probabilities(which, request):
    clf = request.getfixturevalue(which)
    images = _images(6)  # 6 > batch_size=4: two forward passes
    before = images.copy()
    out = list(clf.classify_images(images))
    assert len(out) == 6
    assert all(list(d) == list(clf.get_labels()) for d in out)
    probs = _matrix(out, clf.get_labels())
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert (probs >= 0).all()
    np.testing.assert_array_equal(images, before)  # caller's arrays untouched
    # The result matches softmax(model(preprocess(x))) computed by hand with the torch module.
    with torch.no_grad():
        logits = clf.model(pixel_values=clf.preprocess(images)).logits
    np.testing.assert_allclose(probs, torch.softmax(logits, -1).numpy(), atol=1e-6)
    # Different images give different outputs (the model is not constant).
    assert np.abs(probs[0] - probs[1]).max() > 1e-6
    # the same numbers as one array, without the dicts
    array = clf.classify_array(images)
    assert array.shape == probs.shape and array.dtype == np.float32
    np.testing.assert_array_equal(array.astype(np.float64), probs)


def test_multi_label_uses_sigmoid(tmp_path_factory):
    from transformers import ViTConfig, ViTForImageClassification
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

    folder = tmp_path_factory.mktemp("multi_label")
    torch.manual_seed(1)
    config = ViTConfig(
        image_size=16,
        patch_size=8,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        num_labels=3,
        problem_type="multi_label_classification",
    )
    ViTForImageClassification(config).save_pretrained(folder)
    ViTImageProcessorPil(size={"height": 16, "width": 16}).save_pretrained(folder)
    clf = HuggingFaceImageClassifier(str(folder), device="cpu")
    images = _images(3)
    probs = _matrix(clf.classify_images(images), clf.get_labels())
    with torch.no_grad():
        logits = clf.model(pixel_values=clf.preprocess(images)).logits
    np.testing.assert_allclose(probs, torch.sigmoid(logits).numpy(), atol=1e-6)
    assert not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3)


def test_duplicate_label_names_are_made_unique():
    assert unique_labels({"0": "a", "1": "crane", "2": "crane"}) == ["a", "crane (1)", "crane (2)"]
    assert unique_labels({2: "c", 0: "a", 1: "b"}) == ["a", "b", "c"]


def test_maite_protocol(vit):
    from maite.spotcheck import spotcheck_component

    assert isinstance(vit, ic.Model)
    checked = spotcheck_component(ic.Model)(vit)  # maite's runtime protocol check (state + behaviour)
    batch = [np.ascontiguousarray(img.transpose(2, 0, 1)) for img in _images(3)]
    out = checked(batch)
    assert len(out) == 3 and all(o.shape == (len(vit.get_labels()),) for o in out)
    ref = _matrix(vit.classify_images([b.transpose(1, 2, 0) for b in batch]), vit.get_labels())
    np.testing.assert_allclose(np.stack(out), ref, atol=1e-6)
    np.testing.assert_allclose(np.stack(vit(np.stack(batch))), ref, atol=1e-6)  # N x C x H x W array
    np.testing.assert_allclose(np.stack(vit([torch.from_numpy(b) for b in batch])), ref, atol=1e-6)


def test_config_round_trip_and_plugin(resnet):
    config = resnet.get_config()
    assert config == {
        "model_name_or_path": resnet.get_config()["model_name_or_path"],
        "device": "cpu",
        "batch_size": 4,
        "backend": "torch",
        "threads": None,
        "execution_mode": "sequential",
        "cache_dir": None,
    }
    again = HuggingFaceImageClassifier.from_config(config)
    assert again.get_config() == config
    images = _images(2)
    np.testing.assert_allclose(
        _matrix(again.classify_images(images), again.get_labels()),
        _matrix(resnet.classify_images(images), resnet.get_labels()),
        atol=1e-6,
    )
    impls = ClassifyImage.get_impls()
    assert HuggingFaceImageClassifier in impls and MaiteImageClassifier in impls


def test_missing_folder(tmp_path):
    missing = tmp_path / "no" / "such" / "model"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        HuggingFaceImageClassifier(str(missing))


def test_hub_id_offline_fails_fast_and_writes_nothing(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    with pytest.raises(OSError, match="HF_HUB_OFFLINE=1") as info:
        HuggingFaceImageClassifier("xaitk-wcam-tests/not-a-real-model", device="cpu")
    assert "xaitk-wcam-tests/not-a-real-model" in str(info.value)
    assert time.perf_counter() - start < 10
    assert os.listdir(tmp_path) == []  # no partial download in the working tree


def test_not_an_image_classifier(tmp_path):
    from transformers import BertConfig

    BertConfig(
        vocab_size=32, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16
    ).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=r"'bert' model .* not an image classifier"):
        HuggingFaceImageClassifier(str(tmp_path), device="cpu")


def test_wrong_arguments(tiny_vit_dir):
    with pytest.raises(ValueError, match="batch_size"):
        HuggingFaceImageClassifier(str(tiny_vit_dir), batch_size=0)
    with pytest.raises(ValueError, match="device"):
        HuggingFaceImageClassifier(str(tiny_vit_dir), device="not-a-device")


def test_no_transformers_bar_when_a_model_loads_or_is_first_written(tiny_resnet_dir, tiny_detr_dir, tmp_path, capfd):
    """transformers 5 drew a "Loading weights" bar for each model built, and a "Writing model shards" bar when the
    offline EfficientNet-Lite0 was first written to its cache (the README's first line), each with an "IProgress not
    found" warning in a notebook without ipywidgets. Its other bars (the Hub's downloads) still show, and its tqdm
    hook is restored."""
    from transformers.utils import logging as hf_logging

    from xaitk_wcam.detectors import HuggingFaceObjectDetector
    from xaitk_wcam.models import efficientnet_lite0_classifier

    if not hasattr(hf_logging, "set_tqdm_hook"):
        pytest.skip("transformers < 5 draws no loading bar")  # the range allows 4.x; 5.x is what CI installs
    hf_logging.enable_progress_bar()
    previous = hf_logging.set_tqdm_hook(None)
    try:
        HuggingFaceImageClassifier(str(tiny_resnet_dir), device="cpu")
        HuggingFaceObjectDetector(str(tiny_detr_dir), device="cpu")
        efficientnet_lite0_classifier(device="cpu", cache_dir=tmp_path)  # written there first
        err = capfd.readouterr().err
        assert "Loading weights" not in err and "Writing model shards" not in err, err[-2000:]
        assert hf_logging.set_tqdm_hook(None) is None  # restored
        for _ in hf_logging.tqdm(range(2), desc="Downloading"):
            pass
        assert "Downloading" in capfd.readouterr().err
    finally:
        hf_logging.set_tqdm_hook(previous)
