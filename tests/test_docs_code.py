"""Every ```python block of README.md and of the docs pages runs, offline, as a reader would paste it.

A page's blocks run in order in one namespace (a later block may use what an earlier one defined), in a temporary
working folder. Two HTML comments on the line just before a block change how it runs, and should stay rare:

    <!-- docs-test: replace "grid_size=28, nb_design=8" with "grid_size=8, nb_design=4" -->   (smaller budget;
        the page must say so in its text; single quotes work too, around text that holds double quotes)
    <!-- docs-test: skip (why it cannot run here) -->

Shell commands go in ```bash blocks and pseudo-code or output in ```text blocks: those are not run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.relative_to(DOCS).parts)]

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
DIRECTIVE = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<body>.*?)\s*-->\s*$")
REPLACE = re.compile(r"""^replace\s+(["'])(?P<old>.+?)\1\s+with\s+(["'])(?P<new>.*?)\3$""")


@dataclass
class Block:
    """One fenced code block of a page: its language, first line (1-based), code and docs-test directives."""

    language: str
    line: int
    code: str
    directives: list[str] = field(default_factory=list)


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def code_blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown page, each with the ``docs-test`` comments right above it."""
    blocks: list[Block] = []
    lines = text.splitlines()
    pending: list[str] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            directive = DIRECTIVE.match(lines[i])
            if directive is not None:
                pending.append(directive.group("body"))
            elif lines[i].strip():
                pending = []
            i += 1
            continue
        fence, indent = opening.group("fence"), len(opening.group("indent"))
        info = opening.group("info").strip()
        first = i + 2  # 1-based line of the block's first line of code
        body: list[str] = []
        i += 1
        while i < len(lines) and not _closes(lines[i], fence):
            body.append(lines[i][indent:])
            i += 1
        blocks.append(Block(info.split()[0] if info else "", first, "\n".join(body) + "\n", pending))
        pending = []
        i += 1
    return blocks


def runnable(block: Block) -> str | None:
    """The code to run for a ``python`` block after its directives, or ``None`` when it is not run."""
    if block.language != "python" or any(d.startswith("skip") for d in block.directives):
        return None
    code = block.code
    for directive in block.directives:
        replace = REPLACE.match(directive)
        if replace is None:
            raise ValueError(f"unknown docs-test directive {directive!r} before the block at line {block.line}")
        if replace.group("old") not in code:
            raise ValueError(f"docs-test replace: {replace.group('old')!r} is not in the block at line {block.line}")
        code = code.replace(replace.group("old"), replace.group("new"))
    return code


def test_blocks_are_found() -> None:
    """The extractor sees the README's examples and reads the directives (so the tests below are not vacuous)."""
    readme = [b for b in code_blocks((ROOT / "README.md").read_text(encoding="utf-8")) if b.language == "python"]
    assert len(readme) >= 2
    sample = '<!-- docs-test: replace "a=1" with "a=2" -->\n```python\na=1\n```\n````text\n```python\nno\n```\n````\n'
    blocks = code_blocks(sample)
    assert [b.language for b in blocks] == ["python", "text"]
    assert runnable(blocks[0]) == "a=2\n"


def page_code(page: Path) -> list[tuple[Block, str]]:
    """The blocks of ``page`` that run, with their code."""
    return [(b, code) for b in code_blocks(page.read_text(encoding="utf-8")) if (code := runnable(b)) is not None]


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("page", [p for p in PAGES if page_code(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_page_code_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = page_code(page)
    for name, value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MPLBACKEND": "Agg"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for block, code in blocks:
        # Padded so that a traceback's line numbers are the page's.
        exec(compile("\n" * (block.line - 1) + code, str(page.relative_to(ROOT)), "exec"), namespace)
