"""The export of the offline EfficientNet-Lite0 (``models/_export.py``): a standard HF folder in the cache, written
once, found through ``$XAITK_WCAM_CACHE``."""

from __future__ import annotations

import numpy as np
from skimage import data

from xaitk_wcam.models import EfficientNetLiteForImageClassification, cache_root, export_efficientnet_lite0
from xaitk_wcam.models._export import EXPORT_NAME


def test_export_is_a_standard_hf_folder(cache, classifier):
    from transformers import AutoConfig, AutoImageProcessor, AutoModelForImageClassification

    folder = cache / EXPORT_NAME
    assert classifier.get_config()["model_name_or_path"] == str(folder)
    config = AutoConfig.from_pretrained(folder)
    assert config.model_type == "efficientnet_lite" and config.id2label[285] == "Egyptian cat"
    model = AutoModelForImageClassification.from_pretrained(folder)
    assert isinstance(model, EfficientNetLiteForImageClassification)
    assert sum(p.numel() for p in model.parameters()) == 4_652_008  # EfficientNet-Lite0: 4.65 M
    # Same preprocessing as the processor saved with it (bicubic 224 x 224, ImageNet mean / std).
    processor = AutoImageProcessor.from_pretrained(folder)
    image = data.chelsea()
    ref = np.asarray(processor(images=[image], return_tensors="np")["pixel_values"])
    diff = np.abs(classifier.preprocess(image[None]).numpy() - ref)
    assert diff.mean() < 1e-3 and (diff > 1e-3).mean() < 0.01
    assert diff.max() <= 1 / 255 / 0.224 + 1e-5  # at most one uint8 grey level
    # No temporary export folder is left behind, and a second call reuses the folder.
    assert [p.name for p in cache.iterdir()] == [EXPORT_NAME]
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert export_efficientnet_lite0(cache) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp


def test_cache_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv("XAITK_WCAM_CACHE", str(tmp_path / "env_cache"))
    assert cache_root() == tmp_path / "env_cache"
    folder = export_efficientnet_lite0()
    assert folder == tmp_path / "env_cache" / EXPORT_NAME and (folder / "config.json").is_file()
    monkeypatch.delenv("XAITK_WCAM_CACHE")
    assert str(cache_root()).endswith(".cache/xaitk_wcam")
