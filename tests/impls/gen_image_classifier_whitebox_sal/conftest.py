"""White-box fixtures: the tiny random ResNet of ``tests/conftest.py`` as a white-box classifier."""

import pytest

from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier


@pytest.fixture(scope="module")
def resnet(tiny_resnet_dir):
    return HuggingFaceImageClassifier(str(tiny_resnet_dir), device="cpu")
