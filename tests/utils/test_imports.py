"""Import paths from configs: parsed completely before anything is imported (issue 20, failure 1)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

#: A module whose import leaves a trace: the tests check that no hostile string imports it.
SIDE_EFFECT = "import pathlib\npathlib.Path(__file__).with_suffix('.imported').touch()\n\ndef make():\n    return 42\n"


@pytest.fixture
def trap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``(module name, path of its import trace)``: a module on ``sys.path`` that no test has imported yet."""
    name = f"import_trap_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(SIDE_EFFECT)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name, tmp_path / f"{name}.imported"
    sys.modules.pop(name, None)


def hostile(module: str) -> list[str]:
    """Strings that look like ``module:make`` but are not well-formed import paths."""
    return [
        f"{module}:make ",  # trailing space
        f"{module}:make\t",
        f"{module}:make\r",
        f"{module}:make\n",
        f"{module}:make\x00",
        f"{module}:make\x0b",
        f"{module}:make\u00a0",  # no-break space
        f"{module}:make\u200b",  # zero-width space
        f"{module}:makeé",  # non-ASCII letter
        f"{module}:ｍake",  # full-width letter (NFKC-normalises to 'make')
        f" {module}:make",
        f"{module} :make",
        f"{module}: make",
        f"{module}:ma ke",
        f"{module}..x:make",
        f".{module}:make",
        f"..{module}:make",
        f"{module}.:make",
        f"{module}:",
        f":{module}",
        f"{module}:make:x",
        f"{module}:make..x",
        f"{module}:make.",
        f"{module}:.make",
        f"{module}:1make",
        f"1{module}:make",
        f"{module}:class",
        f"{module}.import:make",
        f"{module}:make;import os",
        f"{module}/x:make",
        f"{module}:" + "m" * 600,
        "",
    ]


def test_hostile_import_paths_are_refused_and_import_nothing(trap: tuple[str, Path]) -> None:
    from xaitk_wcam.utils.imports import import_object, is_import_path, parse_dotted_name, parse_import_path

    module, trace = trap
    for text in hostile(module):
        with pytest.raises(ValueError, match="model"):
            parse_import_path(text, "model")
        with pytest.raises(ValueError, match="model"):
            import_object(text, "model")
        assert not is_import_path(text)
        assert module not in sys.modules and not trace.exists(), f"{text!r} imported {module}"
    for text in [f"{module}.make ", f"{module}..make", f"{module}.1x", f"{module}:make", f"{module}.class", "a.é"]:
        with pytest.raises(ValueError, match="type"):
            parse_dotted_name(text, "type")
    with pytest.raises(TypeError, match="model"):
        parse_import_path(b"os:system", "model")
    assert module not in sys.modules and not trace.exists()
    # the control: a well-formed path does import (so the trace above would have shown an import)
    assert parse_import_path(f"{module}:make.__name__") == (module, ("make", "__name__"))
    assert parse_dotted_name("nrtk.impls.X_1") == ("nrtk", "impls", "X_1")
    assert import_object(f"{module}:make")() == 42
    assert trace.exists()
