"""Seeds derived from what is explained, so that a study's explanations are independent draws and reproducible."""

from __future__ import annotations

import hashlib

import numpy as np

#: Derived seeds lie in ``[0, 2**31)``: every generator of the package (numpy, scipy's QMC, torch) accepts them.
SEED_BITS = 31


def derived_seed(seed: int, image: np.ndarray, draw: int = 0) -> int:
    """A seed for one draw of a seeded method on ``image``: SHA-256 of the method's ``seed``, the image's shape, dtype
    and pixels, and ``draw``, reduced to :data:`SEED_BITS` bits.

    The same ``(seed, pixels, draw)`` always gives the same seed (a resumed or distributed study recomputes the same
    map); anything else gives, for every practical purpose, an independent one. In particular two explanations of the
    same pixels in the same draw are the same explanation, whichever item they belong to.

    :param seed: The method's configured seed.
    :param image: The explained image (any array; its bytes are hashed).
    :param draw: Which draw on this image (a study's noise floor is draw 1 on the reference image).
    """
    digest = hashlib.sha256(f"{int(seed)}|{int(draw)}|{image.shape}|{image.dtype}|".encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return int.from_bytes(digest.digest()[:8], "little") % 2**SEED_BITS
