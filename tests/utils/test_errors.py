"""One-line text of an exception (``utils/errors.py``), as a study's ``status`` column records it."""

from __future__ import annotations

from xaitk_wcam.utils.errors import error_text


def test_type_and_message_on_one_line():
    assert error_text(ValueError("bad\n  image   size")) == "ValueError: bad image size"
    assert error_text(OSError(2, "No such file")) == "FileNotFoundError: [Errno 2] No such file"


def test_an_empty_message_gives_the_type_only():
    assert error_text(RuntimeError()) == "RuntimeError"
    assert error_text(KeyError("")) == "KeyError: ''"  # KeyError's text is the repr of its key
    assert error_text(MemoryError("  \n ")) == "MemoryError"
