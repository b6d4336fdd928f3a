"""The results store's files (issue 20, failure 15: created 0600 by ``mkstemp``, unlike every other output)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pandas as pd
import pytest
from study_helpers import FakeClassifier, SimulatedKill, fake_config, read_results

from xaitk_wcam.study import (
    OutDirError,
    ResultsStore,
    SaliencyRobustnessStudy,
)


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


def test_kill_inside_a_commit_leaves_no_half_item(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = fake_config(n=2, size=32)
    SaliencyRobustnessStudy(config).run(tmp_path / "full", progress=False, report=False)
    expected = read_results(tmp_path / "full")

    import xaitk_wcam.study.store as store_mod

    replaced = {"n": 0}
    real_replace = os.replace

    def replace(src: str, dst: str) -> None:
        replaced["n"] += 1
        if replaced["n"] == 6:  # config.json, study.json, item 1 (maps, JSON), item 2 maps: not its JSON
            raise SimulatedKill("killed between the maps and the item record")
        real_replace(src, dst)

    monkeypatch.setattr(store_mod.os, "replace", replace)
    out = tmp_path / "killed"
    with pytest.raises(SimulatedKill):
        SaliencyRobustnessStudy(config).run(out, progress=False, report=False)
    monkeypatch.setattr(store_mod.os, "replace", real_replace)
    assert ResultsStore(out).committed_keys() == {"000000-0000"}
    assert (out / "maps" / "000000-0001.npz").exists()  # orphan maps: not a committed item
    assert not list((out / "items").glob("*.tmp")) and not list((out / "items").glob(".*"))
    SaliencyRobustnessStudy(config).run(out, resume=True, progress=False, report=False)
    pd.testing.assert_frame_equal(read_results(out), expected)


def test_out_dir_guard(tmp_path: Path) -> None:
    config = fake_config(n=1, size=32)
    out = tmp_path / "out"
    SaliencyRobustnessStudy(config).run(out, progress=False, report=False)
    with pytest.raises(OutDirError, match="pass --resume"):
        SaliencyRobustnessStudy(config).run(out, progress=False, report=False)
    other = fake_config(n=1, size=32)
    other["metrics"] = other["metrics"][:1]
    for resume in (False, True):
        with pytest.raises(OutDirError, match="different config"):
            SaliencyRobustnessStudy(other).run(out, resume=resume, progress=False, report=False)
    before = (out / "results.csv").read_text()
    FakeClassifier.calls = 0
    SaliencyRobustnessStudy(config).run(out, resume=True, progress=False, report=False)
    assert FakeClassifier.calls == 0  # everything was already done
    assert (out / "results.csv").read_text() == before
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("x")
    with pytest.raises(OutDirError, match="holds no study"):
        SaliencyRobustnessStudy(config).run(tmp_path / "junk", progress=False, report=False)
