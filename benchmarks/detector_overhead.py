"""What WCAMDetector and the HuggingFace detector adapter add to the detector's own forward passes.

1. WCAMDetector and xaitk's ``DRISEStack`` (same number of passes) on the shipped ScaleShapes detector: the
   seconds inside ``detect_objects`` (the floor) and everything else (masking, inverse DWT, reading the
   detections, D-RISE similarities, Sobol estimates), per scene, paired on the same scenes.
2. ``--hf``: ``HuggingFaceObjectDetector`` on a randomly initialised DETR of ``facebook/detr-resnet-50``'s
   architecture (ResNet-50 backbone from a transformers config, no download) at its processor's 800 px: the
   seconds in the image processor, the model and the post-processing per image.

Usage::

    python benchmarks/detector_overhead.py --scenes 4 --repeats 3
    python benchmarks/detector_overhead.py --hf --images 4
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

import numpy as np
import pandas as pd
import torch
from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects
from xaitk_saliency.impls.gen_object_detector_blackbox_sal.drise import DRISEStack

from xaitk_wcam import CenterNetDetector, WCAMDetector
from xaitk_wcam.datasets import scale_shapes_scenes
from xaitk_wcam.evaluation.known_answer_detector import scene_detections


class Timed(DetectImageObjects):
    """A detector that adds the seconds of its ``detect_objects`` calls (results materialised) to ``seconds``."""

    def __init__(self, detector: DetectImageObjects) -> None:
        self.detector, self.seconds, self.images = detector, 0.0, 0

    def get_labels(self) -> list:
        return self.detector.get_labels()

    def detect_objects(self, img_iter: Any) -> list:
        start = time.perf_counter()
        out = [list(r) for r in self.detector.detect_objects(img_iter)]
        self.seconds += time.perf_counter() - start
        self.images += len(out)
        return out

    def get_config(self) -> dict:
        return {}


class Stopwatch:
    """Call ``fn`` and add its seconds to ``timings[name]``."""

    def __init__(self, fn: Any, timings: dict[str, float], name: str) -> None:
        self.fn, self.timings, self.name = fn, timings, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        out = self.fn(*args, **kwargs)
        self.timings[self.name] += time.perf_counter() - start
        return out


class TimedProcessor:
    """An image processor whose preprocessing and post-processing are timed."""

    def __init__(self, processor: Any, timings: dict[str, float]) -> None:
        self.preprocess = Stopwatch(processor, timings, "processor")
        self.post_process_object_detection = Stopwatch(
            processor.post_process_object_detection, timings, "post-processing"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.preprocess(*args, **kwargs)


def wcam_overhead(args: argparse.Namespace) -> None:
    scenes = scale_shapes_scenes(args.scenes, seed=1, split="test")
    detector = CenterNetDetector(score_threshold=0.05, batch_size=256)
    references = scene_detections(CenterNetDetector(score_threshold=0.3), scenes)
    explainer = WCAMDetector(grid_size=16, nb_design=8, batch_size=256)
    drise = DRISEStack(n=explainer.n_evaluations, s=8, p1=0.5, seed=0, fill=[128, 128, 128], threads=0)
    methods = {
        "WCAMDetector": lambda image, ref, d: explainer.explain(image, d, detections=ref),
        "DRISEStack": lambda image, ref, d: drise.generate(image, ref.boxes, ref.scores, d, ref.objectness),
    }
    rows = []
    for repeat in range(args.repeats):
        for i, (scene, ref) in enumerate(zip(scenes, references, strict=True)):
            for name, run in methods.items():
                timed = Timed(detector)
                start = time.perf_counter()
                run(scene.image, ref, timed)
                total = time.perf_counter() - start
                rows.append(
                    {
                        "method": name,
                        "repeat": repeat,
                        "scene": i,
                        "passes": timed.images,
                        "total s": total,
                        "detector s": timed.seconds,
                        "overhead s": total - timed.seconds,
                    }
                )
    table = pd.DataFrame(rows)
    table["overhead / detector"] = table["overhead s"] / table["detector s"]
    print("Per scene (medians over scenes and repeats):")
    print(table.groupby("method")[["passes", "total s", "detector s", "overhead s", "overhead / detector"]].median())


def hf_overhead(args: argparse.Namespace) -> None:
    from transformers import DetrConfig, DetrForObjectDetection, ResNetConfig
    from transformers.models.detr.image_processing_pil_detr import DetrImageProcessorPil

    from xaitk_wcam import HuggingFaceObjectDetector

    torch.manual_seed(0)
    backbone = ResNetConfig(
        depths=[3, 4, 6, 3], hidden_sizes=[256, 512, 1024, 2048], layer_type="bottleneck", out_features=["stage4"]
    )
    config = DetrConfig(use_timm_backbone=False, use_pretrained_backbone=False, backbone_config=backbone)
    with tempfile.TemporaryDirectory() as folder:
        DetrForObjectDetection(config).eval().save_pretrained(folder)
        DetrImageProcessorPil().save_pretrained(folder)  # shortest edge 800, longest 1333, as detr-resnet-50
        detector = HuggingFaceObjectDetector(folder, score_threshold=0.05, device="cpu", batch_size=args.images)
        images = np.random.default_rng(0).integers(0, 256, (args.images, 480, 640, 3), dtype=np.uint8)
        list(detector.detect_objects(images[:1]))  # warm-up
        timings = {"processor": 0.0, "model": 0.0, "post-processing": 0.0}
        # the adapter's own attributes, swapped for timed proxies (a benchmark may look inside)
        detector._processor = TimedProcessor(detector.processor, timings)
        detector._model = Stopwatch(detector.model, timings, "model")
        start = time.perf_counter()
        list(detector.detect_objects(images))
        total = time.perf_counter() - start
    per_image = {k: v / args.images for k, v in timings.items()}
    per_image["adapter's own"] = total / args.images - sum(per_image.values())
    print(f"HuggingFaceObjectDetector, random DETR-ResNet-50 at 800 px, {args.images} images of 480 x 640:")
    for name, seconds in per_image.items():
        print(f"  {name:16s} {seconds:8.3f} s / image  ({seconds / per_image['model']:.1%} of the model)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--hf", action="store_true", help="the HF adapter's costs instead of WCAMDetector's")
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.hf:
        hf_overhead(args)
    else:
        wcam_overhead(args)


if __name__ == "__main__":
    main()
