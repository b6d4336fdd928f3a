"""Model fixtures: the offline EfficientNet-Lite0, exported once per session into a temporary cache."""

from __future__ import annotations

import pytest

from xaitk_wcam.classifiers import HuggingFaceImageClassifier
from xaitk_wcam.models import efficientnet_lite0_classifier


@pytest.fixture(scope="session")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("xaitk_wcam_cache")


@pytest.fixture(scope="session")
def classifier(cache) -> HuggingFaceImageClassifier:
    return efficientnet_lite0_classifier(device="cpu", cache_dir=cache)
