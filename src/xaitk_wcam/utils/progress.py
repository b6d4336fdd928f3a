"""Progress bars of long explanations: on in an interactive terminal, off in tests, pipes and worker processes.

A Sobol explanation at the defaults is thousands of forward passes (minutes on a CPU). Its explainers (WCAM,
SobolAttribution, FourierSobol, WCAMDetector) take a ``progress`` keyword that this module reads:

- ``True`` / ``False``: always / never show a bar;
- ``None`` (the default, "auto"): the environment variable :data:`PROGRESS_ENV` when it is set (``1`` / ``0``),
  else a bar only when standard error is a terminal, outside pytest (``PYTEST_CURRENT_TEST``) and in the main
  process (a study's worker processes share the terminal and stay silent).

The bar (tqdm, on standard error) counts forward passes done over the total of the design, with an ETA; it is
updated once per batch, so its cost is a few microseconds per batch. It changes nothing else: ``progress`` is
not part of an explainer's ``get_config()``, so a config (and a study's config hash) is the same whatever it is.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
from types import TracebackType
from typing import Any

#: Environment variable that decides ``progress=None`` ("auto"): ``1`` (or ``true``, ``yes``, ``on``) shows the
#: bars, ``0`` (or ``false``, ``no``, ``off``) hides them; unset or empty: the terminal decides.
PROGRESS_ENV = "XAITK_WCAM_PROGRESS"

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def check_progress(progress: Any) -> bool | None:
    """Validate a ``progress`` keyword: ``True``, ``False`` or ``None`` (auto).

    :raises TypeError: Anything else (``"yes"``, ``1``...).
    """
    if progress is None or isinstance(progress, bool):
        return progress
    raise TypeError(f"progress must be True, False or None (auto: a bar in an interactive terminal), got {progress!r}")


def progress_enabled(progress: bool | None = None) -> bool:
    """Whether a bar is shown for the ``progress`` keyword (see the module doc for ``None``).

    :raises ValueError: :data:`PROGRESS_ENV` holds something other than ``1``/``0`` (or their spellings).
    """
    if check_progress(progress) is not None:
        return bool(progress)
    setting = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if setting in _TRUE:
        return True
    if setting in _FALSE:
        return False
    if setting:
        raise ValueError(f"{PROGRESS_ENV}={setting!r}: expected 1 (show progress bars), 0 (hide them) or unset (auto)")
    if "PYTEST_CURRENT_TEST" in os.environ or multiprocessing.parent_process() is not None:
        return False
    return _is_terminal(sys.stderr)


def _is_terminal(stream: Any) -> bool:
    try:
        return stream is not None and bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


class NoProgress:
    """What :func:`progress_bar` returns when no bar is shown: every call does nothing."""

    total: int = 0
    n: int = 0

    def update(self, n: int = 1) -> None:
        """Nothing."""

    def set_total(self, total: int) -> None:
        """Nothing."""

    def set_postfix_str(self, text: str) -> None:
        """Nothing."""

    def close(self) -> None:
        """Nothing."""

    def __enter__(self) -> NoProgress:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


def progress_bar(total: int, desc: str, progress: bool | None = None, unit: str = "pass") -> Any:
    """A tqdm bar of ``total`` steps on standard error, or a :class:`NoProgress` when ``progress`` says no.

    The bar has :meth:`set_total` for a total that grows (a design that doubles). Nested under another bar (a
    study's), it goes away when done instead of staying on the screen.

    :param total: Steps expected (it may grow: ``set_total``).
    :param desc: What runs, e.g. ``"WCAM"``.
    :param progress: ``True``, ``False`` or ``None`` (auto, :func:`progress_enabled`).
    :param unit: Name of one step.
    """
    if not progress_enabled(progress):
        return NoProgress()
    bar = _bar_class()
    nested = bool(getattr(bar, "_instances", None))  # another bar is running (a study's): this one is transient
    return bar(total=total, desc=desc, unit=unit, leave=not nested, dynamic_ncols=True, file=sys.stderr)


@functools.cache
def _bar_class() -> type:
    """tqdm's bar with :meth:`set_total` (tqdm is imported on the first bar shown)."""
    from tqdm import tqdm

    class Bar(tqdm):
        def set_total(self, total: int) -> None:
            self.total = total
            self.refresh()

    return Bar
