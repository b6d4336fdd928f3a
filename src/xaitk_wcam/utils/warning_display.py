"""Each warning shown once per process, however often it is raised.

Python's ``default`` action shows a warning once per code location, but every ``warnings.catch_warnings`` block, in
any package (torch, transformers and this one use them on hot paths), resets that record: a study printed the same
warning for every item (48 times for 8 images under ``processes:2``). A filter cannot help, since ``"once"`` is kept
in the same record; :func:`show_each_warning_once` wraps ``warnings.showwarning`` instead, with the set of
``(category, message)`` pairs it has shown. The study's command and the worker processes the study starts call it.
"""

from __future__ import annotations

import warnings
from typing import Any, TextIO


def show_each_warning_once() -> None:
    """From now on, this process shows each ``(category, message)`` warning once (a second call changes nothing).

    ``warnings.catch_warnings`` blocks restore the hook when they end, so it stays; the filters still decide what is
    shown at all.
    """
    if getattr(warnings.showwarning, "shows_each_warning_once", False):
        return
    original = warnings.showwarning
    shown: set[tuple[type[Warning], str]] = set()

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> Any:  # fmt: skip
        key = (category, str(message))
        if key not in shown:
            shown.add(key)
            original(message, category, filename, lineno, file, line)

    show.shows_each_warning_once = True  # type: ignore[attr-defined]
    warnings.showwarning = show
