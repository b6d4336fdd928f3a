"""Fakes shared by the study tests: a three-class classifier, a seeded image source, a small config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from nrtk.impls.perturb_factory import PerturberStepFactory
from nrtk.impls.perturb_image.photometric.blur import AverageBlurPerturber
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from smqtk_core.configuration import to_config_dict
from xaitk_saliency.impls.gen_image_classifier_blackbox_sal.slidingwindow import SlidingWindowStack
from xaitk_saliency.impls.saliency_metric.entropy import Entropy

from xaitk_wcam.impls.comparison import SSD, XCorr
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM
from xaitk_wcam.interfaces.image_source import ImageSource

TIMING = ["seconds"]


class SimulatedKill(BaseException):
    """What a SIGKILL looks like to the study: nothing after it runs (not an ``Exception``)."""


class FakeClassifier(ClassifyImage):
    """Three classes: softmax of (left red mean, right green mean, blue mean) x ``scale``.

    Class-level hooks: ``calls`` counts classified images; after ``kill_after`` images it raises
    :class:`SimulatedKill`; an all-black image raises ``ValueError`` (a classifier error).
    """

    calls = 0
    kill_after: int | None = None

    def __init__(self, scale: float = 4.0) -> None:
        self.scale = scale

    def get_labels(self) -> list[str]:
        return ["red", "green", "blue"]

    def classify_images(self, img_iter: Any) -> Any:
        for img in img_iter:
            cls = type(self)
            cls.calls += 1
            if cls.kill_after is not None and cls.calls > cls.kill_after:
                raise SimulatedKill(f"killed after {cls.kill_after} images")
            x = np.asarray(img, dtype=np.float64)
            if x.ndim == 2:
                x = np.repeat(x[..., None], 3, axis=2)
            if x.max() == 0:
                raise ValueError("cannot classify an all-black image")
            w = x.shape[1]
            m = np.array([x[:, : w // 2, 0].mean(), x[:, w // 2 :, 1].mean(), x[..., 2].mean()]) / 255 * self.scale
            e = np.exp(m - m.max())
            yield dict(zip(self.get_labels(), (e / e.sum()).tolist(), strict=True))

    def get_config(self) -> dict[str, Any]:
        return {"scale": self.scale}


class FakeImages(ImageSource):
    """``n`` seeded random ``size x size`` RGB images; image ``bad`` has 5 channels, image ``black`` is black,
    image ``unreadable`` is reported as an ``OSError`` in place of its pixels."""

    def __init__(
        self,
        n: int = 2,
        size: int = 32,
        bad: int | None = None,
        black: int | None = None,
        unreadable: int | None = None,
        limit: int | None = None,
    ) -> None:
        super().__init__(limit=limit)
        self.n, self.size, self.bad, self.black, self.unreadable = n, size, bad, black, unreadable

    def _count(self) -> int:
        return self.n

    def _iter_images(self) -> Any:
        rng = np.random.default_rng(0)
        for i in range(self.n):
            img = rng.integers(0, 256, (self.size, self.size, 3), dtype=np.uint8)
            if i == self.bad:
                img = np.repeat(img[..., :1], 5, axis=2)
            if i == self.black:
                img = np.zeros_like(img)
            if i == self.unreadable:
                img = OSError(f"cannot read img{i}")
            yield f"img{i}", img, "green" if i % 2 else "red"

    def get_config(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "size": self.size,
            "bad": self.bad,
            "black": self.black,
            "unreadable": self.unreadable,
            "limit": self.limit,
        }


def as_json(cfg: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(cfg))


def fake_config(**images: Any) -> dict[str, Any]:
    """A config built with ``to_config_dict`` and dumped through JSON, as the issue asks."""
    return as_json(
        {
            "classifier": to_config_dict(FakeClassifier()),
            "images": to_config_dict(FakeImages(**images)),
            "perturbers": [
                to_config_dict(
                    PerturberStepFactory(perturber=AverageBlurPerturber, theta_key="ksize", start=3, stop=6, step=2)
                )
            ],
            "saliency": {
                "wcam": to_config_dict(WCAM(levels=2, grid_size=4, nb_design=2, batch_size=16)),
                "sw": to_config_dict(SlidingWindowStack(window_size=(8, 8), stride=(8, 8))),
            },
            "metrics": [to_config_dict(Entropy()), to_config_dict(SSD()), to_config_dict(XCorr())],
            "noise_floor": False,  # tested on its own (test_noise_floor_rows_and_band)
        }
    )


def read_results(out: Path) -> Any:
    """``results.csv`` of a study folder without its timing column (equal runs give equal tables)."""
    import pandas as pd

    return pd.read_csv(out / "results.csv").drop(columns=TIMING)
