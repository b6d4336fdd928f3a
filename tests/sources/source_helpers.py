"""Image-source test helpers: small random RGB images and the record shape every source yields."""

from __future__ import annotations

import numpy as np

RNG = np.random.default_rng(0)


def _rgb(h: int = 12, w: int = 10) -> np.ndarray:
    return RNG.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def _check_records(records) -> None:
    for image_id, image, _ in records:
        assert isinstance(image_id, str)
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[-1] in (1, 3)
