"""Validation of the constructor options shared by the faithfulness metrics."""

from __future__ import annotations

from typing import Any


def check_positive_int(value: Any, name: str, allow_none: bool = False) -> int | None:
    """Return ``value`` as an int ``>= 1`` (or ``None`` when allowed); else ``TypeError``/``ValueError``."""
    if value is None and allow_none:
        return None
    accepted = "an int >= 1" + (" or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be {accepted}, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be {accepted}, got {value}")
    return int(value)
