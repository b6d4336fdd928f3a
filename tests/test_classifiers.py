"""HuggingFaceImageClassifier and MaiteImageClassifier on tiny random models saved locally (no network)."""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
import pytest
import torch
from maite.protocols import image_classification as ic
from skimage import data
from smqtk_classifier import ClassifyImage

from xaitk_wcam.classifiers import HuggingFaceImageClassifier, MaiteImageClassifier
from xaitk_wcam.classifiers.huggingface import unique_labels

RNG = np.random.default_rng(0)


@pytest.fixture(scope="module")
def resnet(tiny_resnet_dir) -> HuggingFaceImageClassifier:
    return HuggingFaceImageClassifier(str(tiny_resnet_dir), device="cpu", batch_size=4)


@pytest.fixture(scope="module")
def vit(tiny_vit_dir) -> HuggingFaceImageClassifier:
    return HuggingFaceImageClassifier(str(tiny_vit_dir), device="cpu", batch_size=4)


def _images(n: int, h: int = 40, w: int = 50) -> np.ndarray:
    return RNG.integers(0, 256, size=(n, h, w, 3), dtype=np.uint8)


def _matrix(dicts, labels) -> np.ndarray:
    return np.array([[d[k] for k in labels] for d in dicts])


# ---------------------------------------------------------------------------- loading and classifying
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


def test_grayscale_rgba_and_float_inputs(vit):
    labels = vit.get_labels()
    gray = _images(2)[..., 0]
    rgb = np.repeat(gray[..., None], 3, axis=-1)
    ref = _matrix(vit.classify_images(rgb), labels)
    np.testing.assert_allclose(_matrix(vit.classify_images(gray), labels), ref, atol=1e-6)  # N x H x W
    np.testing.assert_allclose(_matrix(vit.classify_images(gray[..., None]), labels), ref, atol=1e-6)
    np.testing.assert_allclose(_matrix(vit.classify_images(list(gray)), labels), ref, atol=1e-6)
    rgba = np.concatenate([rgb, np.full((*rgb.shape[:-1], 1), 7, np.uint8)], axis=-1)
    np.testing.assert_allclose(_matrix(vit.classify_images(rgba), labels), ref, atol=1e-6)
    # Floats in [0, 1] are uint8 / 255 (resized in float, so close but not bit-identical).
    as_float = _matrix(vit.classify_images(rgb.astype(np.float32) / 255), labels)
    np.testing.assert_allclose(as_float, ref, atol=2e-2)


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


# ---------------------------------------------------------------------------- preprocessing parity
def _one_grey_level(clf) -> float:
    return 1.0 / 255 / min(clf.preprocessing.std)


@pytest.mark.parametrize("which", ["resnet", "vit"])
@pytest.mark.parametrize("name", ["chelsea", "astronaut"])
def test_preprocessing_parity_with_auto_image_processor(which, name, request):
    from transformers import AutoImageProcessor

    clf = request.getfixturevalue(which)
    processor = AutoImageProcessor.from_pretrained(request.getfixturevalue(f"tiny_{which}_dir"))
    image = getattr(data, name)()
    ref = np.asarray(processor(images=[image], return_tensors="np")["pixel_values"])
    ours = clf.preprocess(image[None]).numpy()
    assert ours.shape == ref.shape
    diff = np.abs(ours - ref)
    # uint8 path: PIL and torch's uint8 antialiased kernels agree exactly except on a few pixels where
    # fixed-point rounding differs by one grey level (measured: < 0.4 % of values, mean diff < 5e-5).
    assert diff.mean() < 1e-3
    assert (diff > 1e-3).mean() < 0.01
    assert diff.max() <= _one_grey_level(clf) + 1e-5
    # float path (differentiable, no uint8 rounding between passes): close on average.
    ours_float = clf.preprocess(torch.from_numpy(image[None]).float() / 255).numpy()
    assert np.abs(ours_float - ref).mean() < 1e-2


def test_preprocess_is_differentiable(resnet):
    x = (torch.from_numpy(_images(2)).float() / 255).requires_grad_(True)
    probs = resnet.probabilities(resnet.preprocess(x))
    probs[:, 0].sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    chw = resnet.preprocess(x.detach().permute(0, 3, 1, 2), channels_first=True)
    torch.testing.assert_close(chw, resnet.preprocess(x.detach()))


# ---------------------------------------------------------------------------- MAITE
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


def test_maite_image_classifier_wraps_a_maite_model(vit):
    wrapped = MaiteImageClassifier(vit)  # labels from metadata["index2label"]
    assert list(wrapped.get_labels()) == list(vit.get_labels())
    images = _images(5)
    np.testing.assert_allclose(
        _matrix(wrapped.classify_images(images), wrapped.get_labels()),
        _matrix(vit.classify_images(images), vit.get_labels()),
        atol=1e-6,
    )
    renamed = MaiteImageClassifier(vit, labels=list("abcde"), batch_size=2)
    assert list(next(iter(renamed.classify_images(images)))) == list("abcde")
    with pytest.raises(ValueError, match="labels"):
        list(MaiteImageClassifier(vit, labels=["x", "y"]).classify_images(images))
    with pytest.raises(ValueError, match="distinct"):
        MaiteImageClassifier(vit, labels=["x", "x"])


def test_maite_image_classifier_config(tmp_path, monkeypatch, tiny_vit_dir):
    module = tmp_path / "my_maite_models.py"
    module.write_text(
        "from xaitk_wcam.classifiers import HuggingFaceImageClassifier\n"
        f"def make():\n    return HuggingFaceImageClassifier({str(tiny_vit_dir)!r}, device='cpu')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    clf = MaiteImageClassifier("my_maite_models:make", batch_size=3)
    again = MaiteImageClassifier.from_config(clf.get_config())
    assert again.get_config() == clf.get_config() == {"model": "my_maite_models:make", "labels": None, "batch_size": 3}
    images = _images(2)
    np.testing.assert_allclose(
        _matrix(again.classify_images(images), again.get_labels()),
        _matrix(clf.classify_images(images), clf.get_labels()),
        atol=1e-6,
    )
    from_object = MaiteImageClassifier(clf.model)
    assert from_object.get_config()["model"] is None
    with pytest.raises(ValueError, match="model"):
        MaiteImageClassifier.from_config(from_object.get_config())
    sys.modules.pop("my_maite_models", None)


# ---------------------------------------------------------------------------- config and plugins
def test_config_round_trip_and_plugin(resnet):
    config = resnet.get_config()
    assert config == {"model_name_or_path": resnet.get_config()["model_name_or_path"], "device": "cpu", "batch_size": 4}
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


# ---------------------------------------------------------------------------- wrong input
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
