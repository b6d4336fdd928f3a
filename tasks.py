"""The project's two commands, on any machine with Python 3.10+ and access to the package index.

    python3 tasks.py study   # the main job: the offline blur study -> out/blur-study/report.html
    python3 tasks.py test    # ruff, the docs build and the whole test suite, exactly what CI runs (.ci/run)
    python3 tasks.py test --fast   # ruff and every test but the end-to-end, notebook and slow ones: the edit loop
    python3 tasks.py docs    # the documentation site -> docs/_build/html/index.html (offline, warnings are errors)

Each first makes sure ``.venv`` holds the project, installed with ``pip install --no-compile -c
requirements/constraints.txt -e ".[dev]"`` (the constraints pin the CPU build of torch); it installs again
only when ``pyproject.toml`` or the constraints changed since (a stamp file in ``.venv`` records their hash).
Only the standard library is used here, so the script runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".xaitk-wcam-installed"
INSTALL_INPUTS = ("pyproject.toml", "requirements/constraints.txt")
#: The environment of the three commands: offline, no plot window, and bytecode written as modules are first imported
#: (pip installs with ``--no-compile``: compiling all of torch, ray and the rest took 48 of the install's 80 s, while
#: what the tests and the study import compiles in about 6 s, once; an environment with PYTHONDONTWRITEBYTECODE set
#: would otherwise pay that at every start).
COMMAND_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": ""}


def start(*command: str | Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    print("+", " ".join(str(c) for c in command), flush=True)
    return subprocess.Popen([str(c) for c in command], cwd=ROOT, env={**os.environ, **(env or {})})


def run(*command: str | Path, env: dict[str, str] | None = None) -> None:
    returncode = start(*command, env=env).wait()
    if returncode:
        sys.exit(returncode)


def ensure_venv() -> None:
    """Create ``.venv`` and install the project when it is missing or its requirements changed."""
    digest = hashlib.sha256(b"".join((ROOT / name).read_bytes() for name in INSTALL_INPUTS)).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    if sys.version_info < (3, 10):  # noqa: UP036 - this script runs before anything is installed
        sys.exit(f"xaitk-wcam needs Python 3.10 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"creating {VENV.name} (first run; installing takes a few minutes)", flush=True)
        venv.create(VENV, with_pip=True)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", "--no-compile", "-c", "requirements/constraints.txt", "-e", ".[dev]")
    STAMP.write_text(digest + "\n")


def study() -> None:
    """The offline blur study of the README (resumes, so a second run only rewrites the report)."""
    ensure_venv()
    # Both cores for torch: the example explains 5 photos (the fewest a verdict needs) under 4 blurs, ksize=1 (no
    # change) included as a control that must never "move".
    command = ["study", "examples/blur-study.json", "out/blur-study", "--resume", "--threads", "2"]
    run(BIN / "xaitk-wcam", *command, env=COMMAND_ENV)


def start_docs_build() -> subprocess.Popen:
    """Start building the site from scratch with warnings as errors: a broken reference, a public name missing from
    the API reference or a docstring Sphinx cannot read fails. Offline: no intersphinx, notebooks are not executed."""
    shutil.rmtree(ROOT / "docs" / "reference" / "api" / "generated", ignore_errors=True)  # autosummary's stubs
    return start(PYTHON, "-m", "sphinx", "-E", "-W", "--keep-going", "-q", "-b", "html", "docs", "docs/_build/html",
                 env=COMMAND_ENV)  # fmt: skip


def docs() -> None:
    """The documentation site (docs/), as CI builds it."""
    ensure_venv()
    returncode = start_docs_build().wait()
    if returncode:
        sys.exit(returncode)
    print(f"docs: {ROOT / 'docs' / '_build' / 'html' / 'index.html'}", flush=True)


#: pytest's options for both test commands: two worker processes (pytest-xdist), a module's tests on one worker (its
#: module-scoped fixtures, e.g. the known-answer explanations, are computed once), offline. (``--dist loadgroup``
#: would balance better, but pytest-xdist 3.8 cannot group under pytest 9.2: it renames ``item._nodeid``.)
PYTEST = ("-q", "-n", "2", "--dist", "loadscope")
#: What ``test --fast`` leaves out (markers in pyproject.toml): the end-to-end tests (whole studies through process
#: pools or Dask, the fresh install, the docs pages' code, the known-answer benchmarks), the notebooks, and the other
#: tests marked slow (the ONNX exports of tests/classifiers/test_onnx_runtime.py).
FAST = ("-m", "not e2e and not notebook and not slow")


def test(*options: str) -> None:
    """Lint, then every test (slow ones, notebooks and the docs' code blocks included), offline, in two processes,
    while the docs build beside them (warnings are errors: the tests wait on subprocesses a quarter of the time, which
    the build fills). ``--fast``: lint, then every test but the end-to-end, notebook and slow ones, without the docs
    build."""
    fast = options == ("--fast",)
    if options and not fast:
        sys.exit(f"usage: python3 tasks.py test [--fast]; got {' '.join(options)}")
    ensure_venv()
    lint = ("src", "tests", "benchmarks", "notebooks", "docs/conf.py", "docs/_ext", "docs/scripts", "tasks.py")
    run(BIN / "ruff", "check", *lint, env=COMMAND_ENV)
    build = None if fast else start_docs_build()
    tests = start(PYTHON, "-m", "pytest", *PYTEST, *(FAST if fast else ()), env=COMMAND_ENV).wait()
    built = 0 if build is None else build.wait()
    if built:
        print("the docs build failed (its messages are above)", flush=True)
    if tests or built:
        sys.exit(tests or built)


TASKS = {"study": study, "test": test, "docs": docs}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS or (len(sys.argv) > 2 and sys.argv[1] != "test"):
        sys.exit(f"usage: python3 tasks.py {{{','.join(TASKS)}}} (test [--fast])")
    TASKS[sys.argv[1]](*sys.argv[2:])
