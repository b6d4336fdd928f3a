"""Seeds derived from what is explained (``utils/seeds.py``): reproducible, independent for other pixels or draws."""

from __future__ import annotations

import hashlib

import numpy as np

from xaitk_wcam.utils.seeds import SEED_BITS, derived_seed


def test_the_same_pixels_seed_and_draw_give_the_same_seed():
    image = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    assert derived_seed(3, image) == derived_seed(3, image.copy()) == derived_seed(3, image, 0)
    assert derived_seed(3, np.asfortranarray(image)) == derived_seed(3, image)  # the pixels, not the memory layout


def test_anything_else_gives_another_seed_in_range():
    image = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    other = image.copy()
    other[0, 0, 0] = 1
    seeds = {
        derived_seed(3, image),
        derived_seed(4, image),
        derived_seed(3, image, draw=1),
        derived_seed(3, other),
        derived_seed(3, image.reshape(4, 3)),  # same bytes, another shape
        derived_seed(3, image.astype(np.uint16)),
    }
    assert len(seeds) == 6 and all(0 <= s < 2**SEED_BITS for s in seeds)


def test_the_documented_hash():
    image = np.zeros((1, 2), np.uint8)
    digest = hashlib.sha256(b"7|1|(1, 2)|uint8|" + image.tobytes()).digest()
    assert derived_seed(7, image, draw=1) == int.from_bytes(digest[:8], "little") % 2**31
