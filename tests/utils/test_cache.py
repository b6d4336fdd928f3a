"""The cache folder and its writes (``utils/cache.py``): where it is, temporaries renamed into place with the umask's
mode, and the temporaries of dead writers removed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xaitk_wcam.utils import cache
from xaitk_wcam.utils.cache import ORPHAN_AGE, cache_root, match_folder_mode, new_temporary, new_temporary_dir


def test_cache_root_is_the_environment_variable_else_the_home_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XAITK_WCAM_CACHE", "~/somewhere")
    assert cache_root() == Path("~/somewhere").expanduser()
    monkeypatch.delenv("XAITK_WCAM_CACHE")
    monkeypatch.setenv("HOME", "/home/someone")
    assert cache_root() == Path("/home/someone/.cache/xaitk_wcam")


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_temporaries_take_the_umasks_mode_and_name_their_writer(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        file, folder = new_temporary(tmp_path / "model.onnx"), new_temporary_dir(tmp_path / "folder")
    finally:
        os.umask(old)
    assert file.stat().st_mode & 0o777 == 0o640 and folder.stat().st_mode & 0o777 == 0o750
    assert cache._TEMPORARY.match(file.name)["target"] == "model.onnx"
    assert int(cache._TEMPORARY.match(folder.name)["pid"]) == os.getpid()
    (folder / "model.safetensors").write_text("w")
    (folder / "model.safetensors").chmod(0o600)  # as save_pretrained writes it
    match_folder_mode(folder)
    assert (folder / "model.safetensors").stat().st_mode & 0o777 == 0o640  # the folder's, without execute


def test_orphans_of_dead_or_old_writers_are_removed_and_nothing_else(tmp_path: Path) -> None:
    alive = new_temporary(tmp_path / "a.onnx")  # this process: running
    dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout.strip()  # fmt: skip
    dead = tmp_path / alive.name.replace(f".{os.getpid()}.", f".{dead_pid}.")
    dead.write_text("half")
    old = new_temporary_dir(tmp_path / "folder")
    stale = time.time() - ORPHAN_AGE - 60
    os.utime(old, (stale, stale))
    legacy = tmp_path / ".efficientnet-lite0-imagenet-v1-abcd1234"
    legacy.mkdir()
    os.utime(legacy, (stale, stale))
    keep = [tmp_path / "model.onnx", tmp_path / ".hidden"]
    for path in keep:
        path.write_text("kept")
    removed = cache.remove_orphans(tmp_path)
    assert sorted(removed) == sorted([dead, old, legacy])
    assert alive.exists() and all(path.exists() for path in keep)
    assert cache.remove_orphans(tmp_path / "missing") == []
