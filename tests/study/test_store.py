"""The results store's files (issue 20, failure 15: created 0600 by ``mkstemp``, unlike every other output)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from test_study import fake_config

from xaitk_wcam.study import SaliencyRobustnessStudy


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_output_files_get_the_process_normal_mode(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        SaliencyRobustnessStudy(json.loads(json.dumps(fake_config(n=1)))).run(tmp_path / "out", progress=False)
    finally:
        os.umask(previous)
    out = tmp_path / "out"
    files = [out / "results.csv", out / "results.parquet", out / "config.json", out / "study.json", out / "report.html"]
    files += [*(out / "items").iterdir(), *(out / "maps").iterdir(), *(out / "figures").iterdir()]
    assert len(files) > 8
    modes = {str(f.relative_to(out)): oct(stat.S_IMODE(f.stat().st_mode)) for f in files}
    assert set(modes.values()) == {oct(0o666 & ~umask)}, modes
    assert not [p for p in out.rglob("*.tmp")]
