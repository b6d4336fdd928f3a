"""MaiteImageClassifier wrapping a MAITE image-classification model (no network)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from classifier_helpers import _images, _matrix

from xaitk_wcam.classifiers import MaiteImageClassifier


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


def test_a_model_path_with_a_trailing_character_imports_nothing(tmp_path, monkeypatch):
    """Issue 20, failure 1: ``"module:attr "`` imported ``module`` before the attribute was found wrong."""
    (tmp_path / "maite_trap.py").write_text("import builtins\nbuiltins.MAITE_TRAP_IMPORTED = True\nmake = None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import builtins

    for text in ["maite_trap:make ", "maite_trap:make\t", "maite_trap:make\r", "maite_trap:makeé", "maite_trap..x:y"]:
        with pytest.raises(ValueError) as refused:
            MaiteImageClassifier(text)
        assert "maite_trap" not in sys.modules and not hasattr(builtins, "MAITE_TRAP_IMPORTED"), text
        assert "model" in str(refused.value) and "import path" in str(refused.value)
