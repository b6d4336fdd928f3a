"""Shared pytest fixtures: tiny, randomly initialised HuggingFace image classifiers saved on disk.

Both fixtures are session-scoped and need no network: the models are built from a ``transformers``
config, saved with ``save_pretrained`` (weights, config with ``id2label`` and an image-processor
config) into a pytest temporary folder, and the folder path is returned.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TINY_LABELS = ("apple", "banana", "cherry", "date", "elderberry")


def _id2label(labels: tuple[str, ...]) -> dict[int, str]:
    return dict(enumerate(labels))


@pytest.fixture(scope="session")
def tiny_resnet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random ResNet image classifier (5 labels) with a ConvNeXt-style processor.

    The processor mirrors ``microsoft/resnet-50`` (bicubic resize of the shortest edge to
    ``shortest_edge / crop_pct`` then a centre crop, ImageNet mean/std) at 64 pixels instead of 224.
    """
    import torch
    from transformers import ResNetConfig, ResNetForImageClassification
    from transformers.models.convnext.image_processing_pil_convnext import ConvNextImageProcessorPil

    torch.manual_seed(0)
    config = ResNetConfig(
        num_channels=3,
        embedding_size=8,
        hidden_sizes=[8, 16],
        depths=[1, 1],
        layer_type="basic",
        id2label=_id2label(TINY_LABELS),
        label2id={name: i for i, name in enumerate(TINY_LABELS)},
    )
    model = ResNetForImageClassification(config).eval()
    processor = ConvNextImageProcessorPil(
        size={"shortest_edge": 64},
        crop_pct=0.875,
        resample=3,  # PIL bicubic, as microsoft/resnet-50
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
    )
    folder = tmp_path_factory.mktemp("tiny_resnet")
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_vit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random ViT image classifier (5 labels, 32 x 32 input, 8 x 8 patches).

    The processor mirrors ``google/vit-base-patch16-224`` (bilinear resize to a fixed size, mean/std 0.5)
    at 32 pixels instead of 224.
    """
    import torch
    from transformers import ViTConfig, ViTForImageClassification
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

    torch.manual_seed(0)
    config = ViTConfig(
        image_size=32,
        patch_size=8,
        num_channels=3,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        id2label=_id2label(TINY_LABELS),
        label2id={name: i for i, name in enumerate(TINY_LABELS)},
    )
    model = ViTForImageClassification(config).eval()
    processor = ViTImageProcessorPil(
        size={"height": 32, "width": 32},
        resample=2,  # PIL bilinear
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
    )
    folder = tmp_path_factory.mktemp("tiny_vit")
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
