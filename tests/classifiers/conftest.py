"""Classifier fixtures: HuggingFaceImageClassifier on the tiny random models of tests/conftest.py."""

from __future__ import annotations

import pytest

from xaitk_wcam.classifiers import HuggingFaceImageClassifier


@pytest.fixture(scope="module")
def resnet(tiny_resnet_dir) -> HuggingFaceImageClassifier:
    return HuggingFaceImageClassifier(str(tiny_resnet_dir), device="cpu", batch_size=4)


@pytest.fixture(scope="module")
def vit(tiny_vit_dir) -> HuggingFaceImageClassifier:
    return HuggingFaceImageClassifier(str(tiny_vit_dir), device="cpu", batch_size=4)
