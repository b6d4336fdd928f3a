"""Shared pytest fixtures: tiny, randomly initialised HuggingFace image classifiers saved on disk.

Both fixtures are session-scoped and need no network: the models are built from a ``transformers``
config, saved with ``save_pretrained`` (weights, config with ``id2label`` and an image-processor
config) into a pytest temporary folder, and the folder path is returned.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

if os.environ.get("PYTEST_XDIST_WORKER"):  # pytest -n 2 (python3 tasks.py test): one thread per worker
    # Two workers of torch's default two intra-op threads each on a 2-core machine spin against each other: a
    # known-answer test took 32 s beside a copy of itself, 17 s with one thread each. Processes the tests start
    # (process pools, Dask workers, notebook kernels, the CLI) inherit it.
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, "1")

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


TINY_DETECTION_LABELS = ("cat", "dog", "bird")


def _scramble(model) -> None:
    """Random weights of a larger scale than the initialiser's, so that queries differ from one another."""
    import torch

    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(1.0 * torch.randn(parameter.shape, generator=generator))


@pytest.fixture(scope="session")
def tiny_detr_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random DETR (3 labels, 10 queries) with a transformers ResNet backbone (no timm) and a DETR image
    processor that resizes the shortest edge to 64 (longest at most 96) and pads, as ``facebook/detr-resnet-50``
    does at 800 / 1333."""
    import torch
    from transformers import DetrConfig, DetrForObjectDetection, ResNetConfig
    from transformers.models.detr.image_processing_pil_detr import DetrImageProcessorPil

    torch.manual_seed(0)
    backbone = ResNetConfig(
        num_channels=3,
        embedding_size=8,
        hidden_sizes=[8, 16],
        depths=[1, 1],
        layer_type="basic",
        out_features=["stage2"],
    )
    config = DetrConfig(
        use_timm_backbone=False,
        use_pretrained_backbone=False,
        backbone_config=backbone,
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        num_queries=10,
        id2label=_id2label(TINY_DETECTION_LABELS),
        label2id={name: i for i, name in enumerate(TINY_DETECTION_LABELS)},
    )
    model = DetrForObjectDetection(config).eval()
    _scramble(model)
    folder = tmp_path_factory.mktemp("tiny_detr")
    model.save_pretrained(folder)
    DetrImageProcessorPil(size={"shortest_edge": 64, "longest_edge": 96}).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_yolos_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random YOLOS (ViT with 5 detection tokens, 3 labels) and its image processor at 32 / 64 pixels."""
    import torch
    from transformers import YolosConfig, YolosForObjectDetection
    from transformers.models.yolos.image_processing_pil_yolos import YolosImageProcessorPil

    torch.manual_seed(0)
    config = YolosConfig(
        image_size=[32, 32],
        patch_size=8,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_detection_tokens=5,
        id2label=_id2label(TINY_DETECTION_LABELS),
        label2id={name: i for i, name in enumerate(TINY_DETECTION_LABELS)},
    )
    model = YolosForObjectDetection(config).eval()
    _scramble(model)
    folder = tmp_path_factory.mktemp("tiny_yolos")
    model.save_pretrained(folder)
    YolosImageProcessorPil(size={"shortest_edge": 32, "longest_edge": 64}).save_pretrained(folder)
    return folder


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER") and "torch" in sys.modules:  # imported before this file: too late
        sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))  # for the environment variable


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test named ``*end_to_end*`` is an end-to-end test (marker ``e2e``), wherever it lives."""
    for item in items:
        if "end_to_end" in item.name and item.get_closest_marker("e2e") is None:
            item.add_marker(pytest.mark.e2e)


#: Modules of one long test, handed out first under ``--dist loadscope``: xdist orders modules by their number of tests,
#: so the core install (about 25 s, mostly pip on one core) came last and ran alone while the other worker idled.
START_FIRST = ("tests/test_install.py",)


@pytest.hookimpl(optionalhook=True)  # an xdist hook: pytest without xdist (-p no:xdist) must still start
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """xdist's ``loadscope`` scheduler, with the modules of :data:`START_FIRST` at the head of its queue."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class StartFirst(LoadScopeScheduling):
        def _assign_work_unit(self, node: object) -> None:
            for scope in START_FIRST:
                if scope in self.workqueue:
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return StartFirst(config, log)
