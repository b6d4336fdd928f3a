"""Tests mirror ``src/``: a module of ``src/xaitk_wcam`` with logic has its own test file at the same path.

The rule, checked here:

- **Modules with logic**: every ``src/xaitk_wcam/**/*.py`` that defines at least one function or method, except the
  package faces (``__init__.py``: re-exports, lazy loaders, plugin registrations). A module of constants, exception
  classes or type aliases only has nothing of its own to test. Private helper modules (``_batches.py``) count: they
  hold logic (``_sobol_blackbox.py`` is WCAM's engine).
- **Its mirror**: ``src/xaitk_wcam/<dir>/<name>.py`` is tested by ``tests/<dir>/test_<name>.py``, the leading
  underscore of a private module dropped (``classifiers/_inputs.py`` -> ``tests/classifiers/test_inputs.py``). Tests
  run in pytest's default import mode, with no ``__init__.py`` under ``tests/``, so two test files may not share a
  base name: where two modules share a name (``classifiers/huggingface.py``, ``detectors/huggingface.py``), the
  mirror may carry a suffix (``tests/detectors/test_huggingface_detector.py``).
- **A mirror holds a test** (a file of helpers or fixtures does not count). It may test its module through the
  package's public names (``tests/study/test_worker.py`` runs studies).

At least :data:`MIN_SHARE` of the modules with logic have a mirror; the ones without are listed on failure.
"""

from __future__ import annotations

import ast
import collections
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "xaitk_wcam"
TESTS = ROOT / "tests"
MIN_SHARE = 0.9


@dataclass(frozen=True)
class Module:
    """A module of the package, by its path below ``src/xaitk_wcam``."""

    path: Path

    @property
    def stem(self) -> str:
        return self.path.stem.lstrip("_")


def modules_with_logic(package: Path = PACKAGE) -> list[Module]:
    """The modules below ``package`` that define a function or a method, package faces left out."""
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) for node in ast.walk(tree)):
            found.append(Module(path.relative_to(package)))
    return found


def _holds_a_test(test_file: Path) -> bool:
    """Whether ``test_file`` defines a test function (a file of helpers or fixtures is no mirror)."""
    tree = ast.parse(test_file.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
        for node in ast.walk(tree)
    )


def mirror_candidates(module: Module, shared_stems: set[str], tests: Path = TESTS) -> list[Path]:
    """The test files that may mirror ``module``: its exact mirror, and suffixed ones where its name is shared."""
    folder = tests / module.path.parent
    exact = folder / f"test_{module.stem}.py"
    suffixed = sorted(folder.glob(f"test_{module.stem}_*.py")) if module.stem in shared_stems else []
    return [path for path in (exact, *suffixed) if path.is_file()]


def unmirrored(package: Path = PACKAGE, tests: Path = TESTS) -> tuple[list[Module], list[Module]]:
    """(modules with logic, those of them without a mirror that holds a test)."""
    modules = modules_with_logic(package)
    counts = collections.Counter(module.stem for module in modules)
    shared = {stem for stem, count in counts.items() if count > 1}
    missing = [
        module
        for module in modules
        if not any(_holds_a_test(path) for path in mirror_candidates(module, shared, tests))
    ]
    return modules, missing


def test_most_modules_with_logic_have_a_mirrored_test_file() -> None:
    modules, missing = unmirrored()
    assert len(modules) > 80  # the walk found the package (a wrong root would pass vacuously)
    share = 1 - len(missing) / len(modules)
    listing = "\n".join(f"  src/xaitk_wcam/{module.path} -> tests/{module.path.parent}/test_{module.stem}.py"
                        for module in missing)  # fmt: skip
    assert share >= MIN_SHARE, f"{share:.0%} of {len(modules)} modules with logic have a mirror; missing:\n{listing}"


def test_the_rule_on_a_made_up_package(tmp_path: Path) -> None:
    """Faces and logic-free modules are left out; private and same-name modules map as documented; a mirror in
    another folder, one that holds no test, or a suffixed one of a module whose name is not shared, does not count."""
    package, tests = tmp_path / "src" / "xaitk_wcam", tmp_path / "tests"
    sources = {
        "__init__.py": "from .a.plain import f\n\ndef __getattr__(name):\n    return name\n",
        "a/__init__.py": "",
        "a/plain.py": "def f():\n    return 1\n",
        "a/_private.py": "class P:\n    def m(self):\n        return 2\n",
        "a/errors.py": "class Oops(Exception):\n    pass\n\nLIMIT = 3\n",
        "a/shared.py": "def g():\n    return 3\n",
        "b/shared.py": "def h():\n    return 4\n",
        "b/misplaced.py": "def u():\n    return 5\n",
        "b/untested.py": "def v():\n    return 6\n",
    }
    mirrors = {
        "a/test_plain.py": "from xaitk_wcam.a.plain import f\n\ndef test_f():\n    assert f() == 1\n",
        "a/test_private.py": "from xaitk_wcam.a import P\n\ndef test_p():\n    assert P().m() == 2\n",
        "a/test_shared.py": "import xaitk_wcam.a.shared\n\ndef test_g():\n    assert xaitk_wcam.a.shared.g() == 3\n",
        "b/test_shared_b.py": "from xaitk_wcam.b import shared\n\ndef test_h():\n    assert shared.h() == 4\n",
        "test_misplaced.py": "from xaitk_wcam.b.misplaced import u\n\ndef test_u():\n    assert u() == 5\n",
        "b/test_untested.py": "from xaitk_wcam.b.untested import v\n",
    }
    for folder, files in ((package, sources), (tests, mirrors)):
        for name, text in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
    modules, missing = unmirrored(package, tests)
    assert [str(m.path) for m in modules] == [
        "a/_private.py", "a/plain.py", "a/shared.py", "b/misplaced.py", "b/shared.py", "b/untested.py",
    ]  # fmt: skip
    assert [str(m.path) for m in missing] == ["b/misplaced.py", "b/untested.py"]
    (tests / "b" / "test_shared_b.py").rename(tests / "b" / "test_unshared_b.py")
    assert [str(m.path) for m in unmirrored(package, tests)[1]] == ["b/misplaced.py", "b/shared.py", "b/untested.py"]
