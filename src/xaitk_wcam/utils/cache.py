"""Where this package keeps what it writes once and reuses: exported models and ONNX graphs."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_root"]


def cache_root() -> Path:
    """``$XAITK_WCAM_CACHE``, else ``~/.cache/xaitk_wcam``."""
    env = os.environ.get("XAITK_WCAM_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "xaitk_wcam"
