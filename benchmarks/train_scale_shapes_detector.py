"""Train the known-answer ScaleShapes detector shipped in ``xaitk_wcam/models/scale_shapes/detector/``.

A :class:`~xaitk_wcam.detectors.centernet.CenterNetLite` (CenterNet, Zhou et al. 2019: per-class centre
heatmaps, box sizes and offsets at output stride 8; about 0.15 M parameters) trained from scratch on
:func:`xaitk_wcam.datasets.scale_shapes_scenes` (96 x 96 images of one to three objects: a shape, found at
the coarse wavelet levels 0-1, or a texture patch, found only at the level of its period). Why not a
DETR or a YOLOS: a transformer detector does not converge in minutes on one CPU core; a small
convolutional CenterNet does, and its decoding (heatmap peaks, no anchors, no NMS) is a few lines.

Loss (CenterNet's): the penalty-reduced focal loss on Gaussian-splatted centre heatmaps, plus L1 losses
on the size (weight 0.1) and the sub-cell offset at each object's centre cell. Deterministic given
``--seed`` and ``--threads`` (``torch.use_deterministic_algorithms``). Re-create the shipped weights with::

    python benchmarks/train_scale_shapes_detector.py --out src/xaitk_wcam/models/scale_shapes/detector

The record (``training_record.json``) holds the arguments, the training time and the test-split precision and
recall (IoU >= 0.5, same class) at the shipped ``score_threshold``, for shapes and textures apart.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from xaitk_wcam.datasets import SCENE_CLASSES, scale_shapes_scenes, stack_images
from xaitk_wcam.detectors.centernet import CenterNetDetector, CenterNetLite, normalise, save_centernet

WIDTHS = (16, 32, 64)
STRIDE = 8


def build_model(seed: int) -> CenterNetLite:
    """A freshly initialised network for the eight scene classes."""
    torch.manual_seed(seed)
    return CenterNetLite(len(SCENE_CLASSES), WIDTHS, STRIDE)


def targets(scenes: list, size: int) -> dict[str, torch.Tensor]:
    """CenterNet's training targets of every scene.

    :return: ``heatmap`` (``N x K x h x w``: a Gaussian of sigma ``side / (6 stride)`` cells, at least 0.5, at each
        centre, the maximum where two overlap), ``size``/``offset`` (``N x 2 x h x w``, in cells, set at the centre
        cells) and ``mask`` (``N x h x w``, the centre cells).
    """
    h = w = size // STRIDE
    heat = np.zeros((len(scenes), len(SCENE_CLASSES), h, w), dtype=np.float32)
    box_size = np.zeros((len(scenes), 2, h, w), dtype=np.float32)
    offset = np.zeros((len(scenes), 2, h, w), dtype=np.float32)
    mask = np.zeros((len(scenes), h, w), dtype=np.float32)
    ys, xs = np.mgrid[0:h, 0:w]
    for i, scene in enumerate(scenes):
        for (x0, y0, x1, y1), label in zip(scene.boxes, scene.labels, strict=True):
            cx, cy = (x0 + x1) / 2 / STRIDE, (y0 + y1) / 2 / STRIDE
            col, row = min(int(cx), w - 1), min(int(cy), h - 1)
            sigma = max((x1 - x0) / STRIDE / 6, 0.5)
            gauss = np.exp(-((xs - col) ** 2 + (ys - row) ** 2) / (2 * sigma**2))
            np.maximum(heat[i, label], gauss, out=heat[i, label])
            box_size[i, :, row, col] = ((x1 - x0) / STRIDE, (y1 - y0) / STRIDE)
            offset[i, :, row, col] = (cx - col, cy - row)
            mask[i, row, col] = 1.0
    return {k: torch.from_numpy(v) for k, v in {"heat": heat, "size": box_size, "offset": offset, "mask": mask}.items()}


def focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced pixel-wise focal loss (alpha 2, beta 4), per object."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    positive = target.eq(1).float()
    pos = -torch.log(p) * (1 - p) ** 2 * positive
    neg = -torch.log(1 - p) * p**2 * (1 - target) ** 4 * (1 - positive)
    return (pos.sum() + neg.sum()) / positive.sum().clamp(min=1.0)


def train(images: np.ndarray, target: dict[str, torch.Tensor], args: argparse.Namespace) -> CenterNetLite:
    """Train one model; returns it in eval mode."""
    model = build_model(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    x_all = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    steps_per_epoch = len(x_all) // args.batch_size
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch, pct_start=0.2
    )
    model.train()
    start = time.perf_counter()
    for epoch in range(args.epochs):
        order = torch.randperm(len(x_all), generator=generator)
        total = 0.0
        for step in range(steps_per_epoch):
            index = order[step * args.batch_size : (step + 1) * args.batch_size]
            heat, size, offset = model(normalise(x_all[index]))
            mask = target["mask"][index][:, None]
            n_objects = mask.sum().clamp(min=1.0)
            loss = (
                focal_loss(heat, target["heat"][index])
                + 0.1 * (F.l1_loss(size * mask, target["size"][index] * mask, reduction="sum") / n_objects)
                + F.l1_loss(offset * mask, target["offset"][index] * mask, reduction="sum") / n_objects
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach())
        print(
            f"epoch {epoch + 1}/{args.epochs}: loss {total / steps_per_epoch:.4f} "
            f"({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    return model.eval()


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of ``A x 4`` and ``B x 4`` half-open boxes: ``A x B``."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=-1)
    area = lambda x: np.prod(x[:, 2:] - x[:, :2], axis=-1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def evaluate(detector: CenterNetDetector, scenes: list) -> dict[str, float]:
    """Precision and recall (IoU >= 0.5 and the same class, greedy by score) for shapes and textures apart."""
    counts = {kind: {"tp": 0, "fp": 0, "objects": 0} for kind in ("shape", "texture")}
    labels = list(detector.get_labels())
    for scene, detections in zip(scenes, detector.detect_objects(stack_images(scenes)), strict=True):
        matched = np.zeros(len(scene.labels), dtype=bool)
        for kind, texture in (("shape", False), ("texture", True)):
            counts[kind]["objects"] += int((scene.is_texture == texture).sum())
        for box, scores in detections:  # sorted by score
            label = labels.index(max(scores, key=scores.get))
            kind = "texture" if label >= 4 else "shape"
            iou = box_iou(np.array([[*box.min_vertex, *box.max_vertex]]), scene.boxes)[0]
            iou[(scene.labels != label) | matched] = 0
            if iou.size and iou.max() >= 0.5:
                matched[iou.argmax()] = True
                counts[kind]["tp"] += 1
            else:
                counts[kind]["fp"] += 1
    out = {}
    for kind, c in counts.items():
        out[f"{kind}_precision"] = c["tp"] / max(c["tp"] + c["fp"], 1)
        out[f"{kind}_recall"] = c["tp"] / max(c["objects"], 1)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("src/xaitk_wcam/models/scale_shapes/detector"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-train", type=int, default=6000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=4e-3)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--score-threshold", type=float, default=0.3, help="the threshold the record is measured at")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    scenes = scale_shapes_scenes(args.n_train, seed=args.seed, split="train")
    images = stack_images(scenes)
    start = time.perf_counter()
    model = train(images, targets(scenes, images.shape[1]), args)
    seconds = time.perf_counter() - start
    save_centernet(model, SCENE_CLASSES, WIDTHS, args.out)
    detector = CenterNetDetector(str(args.out), score_threshold=args.score_threshold, device="cpu")
    metrics = evaluate(detector, scale_shapes_scenes(args.n_test, seed=args.seed, split="test"))
    record = {
        "architecture": "CenterNetLite",
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_seconds": round(seconds, 1),
        "command_args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        **{k: round(v, 4) for k, v in metrics.items()},
    }
    (args.out / "training_record.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
