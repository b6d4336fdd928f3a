"""Text drawn from data (image ids, class labels, method, metric and parameter names) is plain text.

Matplotlib parses any string holding a ``$...$`` pair as mathtext, and fails the whole figure when that is not
valid mathtext (``a$^$b.png``). Titles, labels and legends drawn from data pass :data:`PLAIN` (or go through
:func:`plain_legend`), so they print as written.
"""

from __future__ import annotations

from typing import Any

#: Keyword arguments of a matplotlib text (``set_title``, ``suptitle``, ``text``, ``set_ylabel``...) that make it
#: plain text.
PLAIN: dict[str, Any] = {"parse_math": False}


def plain_legend(ax: Any, **kwargs: Any) -> Any:
    """``ax.legend(**kwargs)`` with plain-text entries."""
    legend = ax.legend(**kwargs)
    for text in legend.get_texts():
        text.set_parse_math(False)
    return legend
