"""Each warning once per process, although ``catch_warnings`` blocks reset Python's record of what it showed."""

from __future__ import annotations

import subprocess
import sys
import warnings

from xaitk_wcam.utils.warning_display import show_each_warning_once


def test_a_warning_raised_again_after_a_catch_warnings_block_is_shown_once() -> None:
    shown: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = lambda message, *rest: shown.append(str(message))
        for _ in range(2):  # without the hook: shown each time (the block resets the record)
            with warnings.catch_warnings():
                pass
            warnings.warn("before", RuntimeWarning, stacklevel=1)
        show_each_warning_once()
        show_each_warning_once()  # wraps nothing more
        for _ in range(3):
            with warnings.catch_warnings():
                pass
            warnings.warn("same", RuntimeWarning, stacklevel=1)
        warnings.warn("other", RuntimeWarning, stacklevel=1)
        warnings.warn("same", UserWarning, stacklevel=1)  # another category: shown
    assert shown == ["before", "before", "same", "other", "same"]


def test_filters_still_decide_and_the_hook_outlives_catch_warnings_blocks() -> None:
    code = """
import warnings
from xaitk_wcam.utils.warning_display import show_each_warning_once
show_each_warning_once()
for i in range(4):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.warn("hidden", RuntimeWarning)
    warnings.warn("coarse grid", RuntimeWarning)
"""
    command = [sys.executable, "-W", "default", "-c", code]
    err = subprocess.run(command, capture_output=True, text=True, check=True).stderr
    assert err.count("coarse grid") == 1 and "hidden" not in err, err
