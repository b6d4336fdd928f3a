"""One-line text of an exception, as recorded in a study's ``status`` column and an image source's records."""

from __future__ import annotations


def error_text(err: BaseException) -> str:
    """``"ExceptionType: message"`` on one line (``"ExceptionType"`` when the message is empty)."""
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
