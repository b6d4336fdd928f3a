"""The statistics package is pure: it imports numpy, scipy, the standard library and the package's input checks only,
and its lazy facade names exist."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import xaitk_wcam.statistics as statistics

ALLOWED = {"numpy", "scipy", "lazy_loader", "xaitk_wcam"}
ALLOWED_OWN = ("xaitk_wcam.statistics", "xaitk_wcam.utils.checks")


def test_imports_are_pure():
    for path in Path(statistics.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in ALLOWED or top in sys.stdlib_module_names, (path.name, name)
                assert top != "xaitk_wcam" or name.startswith(ALLOWED_OWN), (path.name, name)


def test_facade_names_resolve():
    for name in statistics.__all__:
        assert getattr(statistics, name) is not None, name
    assert statistics.paired_verdict.__module__ == "xaitk_wcam.statistics.paired"


def test_the_direction_constants_load_no_scipy():
    """The comparison interface imports ``statistics.change``; plugin discovery must not pay for scipy.stats there."""
    code = "import sys, xaitk_wcam.statistics.change; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
