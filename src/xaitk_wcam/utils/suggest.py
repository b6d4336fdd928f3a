"""Did you mean: the names closest to a misspelt or partial one (a label, a plugin), for error messages."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable


def close_matches(query: str, names: Iterable[str], n: int = 5) -> list[str]:
    """The ``n`` names closest to ``query``, case-insensitive, in this order: the names that contain it (as a whole
    word first, then shortest first: ``"cat"`` -> ``"tiger cat"`` before ``"polecat"``), the names of three letters
    or more that ``query`` contains as words (``"cup of espresso"`` -> ``"espresso"``, ``"cup"``), then difflib's
    closest (:func:`difflib.get_close_matches`, cutoff 0.6: ``"expresso"`` -> ``"espresso"``)."""
    names = list(dict.fromkeys(str(name) for name in names))
    wanted = " ".join(query.lower().split())
    if not wanted:
        return []
    word = re.compile(rf"\b{re.escape(wanted)}\b")
    containing = sorted(
        (name for name in names if wanted in name.lower()),
        key=lambda name: (word.search(name.lower()) is None, len(name), name),
    )
    inside = [
        name
        for name in sorted(names, key=lambda name: (-len(name), name))
        if len(name) >= 3 and re.search(rf"\b{re.escape(name.lower())}\b", wanted)
    ]
    lowered = {name.lower(): name for name in reversed(names)}  # the first spelling of a name wins
    similar = [lowered[match] for match in difflib.get_close_matches(wanted, list(lowered), n=n, cutoff=0.6)]
    return list(dict.fromkeys([*containing, *inside, *similar]))[:n]
