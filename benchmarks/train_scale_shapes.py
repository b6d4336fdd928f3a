"""Train the two known-answer ScaleShapes classifiers shipped in ``xaitk_wcam/models/scale_shapes/``.

Both are small ``transformers`` ResNets (basic blocks, about 0.5 M parameters) trained from scratch on
CPU with a plain torch loop on :func:`xaitk_wcam.datasets.scale_shapes` images, where the shape
(coarse cue) and the texture (fine cue) both give the class:

- ``standard``: clean images;
- ``robust``: every training image is blurred by a Gaussian of random sigma in ``[1, 2]`` pixels
  (which removes the period-2 textures and attenuates the period-4 ones to at most 29 %), then gets
  Gaussian noise of random std in ``[0, 25]`` grey levels, so the texture is unreliable and the
  model must use the shape.

Inputs are fed exactly as :class:`xaitk_wcam.classifiers.huggingface.HuggingFaceImageClassifier`
preprocesses ``uint8`` images with the saved ``ViTImageProcessor`` config (64 x 64, no resize,
``x / 255``, then mean 0.5 / std 0.5); the script checks it by re-loading each saved folder through
that class and reporting its accuracy.

Deterministic given ``--seed`` and ``--threads`` (``torch.use_deterministic_algorithms``; a fixed
thread count keeps the CPU kernels' reduction order fixed). Re-create the shipped weights with::

    python benchmarks/train_scale_shapes.py --out src/xaitk_wcam/models/scale_shapes

(about 3 minutes per model on one CPU core).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from xaitk_wcam.datasets import CLASS_NAMES, scale_shapes, stack_images

#: ResNet of 0.48 M parameters: 64 px -> 16 x 16 after the stem, 3 stages of one basic block each.
RESNET = {"embedding_size": 24, "hidden_sizes": [40, 80, 160], "depths": [1, 1, 1], "layer_type": "basic"}
BLUR_SIGMA = (1.0, 2.0)
NOISE_STD = (0.0, 25 / 255)


def build_model(seed: int):
    """A freshly initialised ``ResNetForImageClassification`` for the four ScaleShapes classes."""
    from transformers import ResNetConfig, ResNetForImageClassification

    torch.manual_seed(seed)
    config = ResNetConfig(
        num_channels=3,
        **RESNET,
        id2label=dict(enumerate(CLASS_NAMES)),
        label2id={name: i for i, name in enumerate(CLASS_NAMES)},
    )
    return ResNetForImageClassification(config)


def build_processor():
    """The image processor the models are saved with: 64 x 64, rescale 1/255, mean / std 0.5."""
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

    return ViTImageProcessorPil(
        size={"height": 64, "width": 64},
        resample=2,
        do_rescale=True,
        rescale_factor=1 / 255,
        do_normalize=True,
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
    )


def gaussian_blur(images: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Blur each image of ``N x C x H x W`` by its own Gaussian (``sigma``: ``N``), reflect padding."""
    n, c, h, w = images.shape
    radius = math.ceil(3 * float(sigma.max()))
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype)
    kernel = torch.exp(-0.5 * (offsets[None, :] / sigma[:, None]) ** 2)
    kernel = (kernel / kernel.sum(dim=1, keepdim=True)).repeat_interleave(c, dim=0)  # (N*C) x K
    x = images.reshape(1, n * c, h, w)
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="reflect"), kernel[:, None, None, :], groups=n * c)
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode="reflect"), kernel[:, None, :, None], groups=n * c)
    return x.reshape(n, c, h, w)


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Robust-training augmentation of ``N x C x H x W`` images in ``[0, 1]``: random blur, then noise."""
    n = len(images)
    sigma = BLUR_SIGMA[0] + (BLUR_SIGMA[1] - BLUR_SIGMA[0]) * torch.rand(n, generator=generator)
    noise_std = NOISE_STD[0] + (NOISE_STD[1] - NOISE_STD[0]) * torch.rand(n, 1, 1, 1, generator=generator)
    blurred = gaussian_blur(images, sigma)
    return (blurred + noise_std * torch.randn(images.shape, generator=generator)).clamp_(0.0, 1.0)


def train(kind: str, images: np.ndarray, labels: np.ndarray, args: argparse.Namespace):
    """Train one model; returns it in eval mode."""
    model = build_model(args.seed)
    generator = torch.Generator().manual_seed(args.seed + (1 if kind == "robust" else 0))
    x_all = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()  # uint8, N x 3 x H x W
    y_all = torch.from_numpy(labels).long()
    steps_per_epoch = len(x_all) // args.batch_size
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch, pct_start=0.2
    )
    model.train()
    start = time.perf_counter()
    for epoch in range(args.epochs):
        order = torch.randperm(len(x_all), generator=generator)
        total, correct, seen = 0.0, 0, 0
        for step in range(steps_per_epoch):
            index = order[step * args.batch_size : (step + 1) * args.batch_size]
            x = x_all[index].float() / 255.0
            if kind == "robust":
                x = augment(x, generator)
            logits = model(pixel_values=(x - 0.5) / 0.5).logits
            loss = F.cross_entropy(logits, y_all[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * len(index)
            correct += int((logits.argmax(1) == y_all[index]).sum())
            seen += len(index)
        print(
            f"[{kind}] epoch {epoch + 1}/{args.epochs}: loss {total / seen:.4f}, train acc {correct / seen:.3f} "
            f"({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    return model.eval()


def evaluate(folder: Path, seed: int, n_test: int) -> dict[str, float]:
    """Accuracy and cue-conflict decisions of a saved folder, through ``HuggingFaceImageClassifier``."""
    from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier

    classifier = HuggingFaceImageClassifier(str(folder), device="cpu", batch_size=256)
    labels = list(classifier.get_labels())
    out: dict[str, float] = {"preprocessing_check": classifier.preprocessing_check}
    for split in ("test", "cue_conflict"):
        samples = scale_shapes(n_test, seed=seed, split=split)
        scores = classifier.classify_images(stack_images(samples))
        predicted = np.array([labels.index(max(s, key=s.get)) for s in scores])
        shape = np.array([s.shape_label for s in samples])
        texture = np.array([s.texture_label for s in samples])
        if split == "test":
            out["test_accuracy"] = float((predicted == shape).mean())
        else:
            out["conflict_shape_share"] = float((predicted == shape).mean())
            out["conflict_texture_share"] = float((predicted == texture).mean())
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("src/xaitk_wcam/models/scale_shapes"))
    parser.add_argument("--kinds", nargs="+", default=["standard", "robust"], choices=["standard", "robust"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-train", type=int, default=6000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    samples = scale_shapes(args.n_train, seed=args.seed, split="train")
    images, labels = stack_images(samples), np.array([s.label for s in samples])
    for kind in args.kinds:
        start = time.perf_counter()
        model = train(kind, images, labels, args)
        seconds = time.perf_counter() - start
        folder = args.out / kind
        model.save_pretrained(folder)
        build_processor().save_pretrained(folder)
        metrics = evaluate(folder, args.seed, args.n_test)
        record = {
            "kind": kind,
            "parameters": sum(p.numel() for p in model.parameters()),
            "train_seconds": round(seconds, 1),
            "command_args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            **{k: round(v, 4) for k, v in metrics.items()},
        }
        (folder / "training_record.json").write_text(json.dumps(record, indent=2) + "\n")
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
