"""Where this package keeps what it writes once and reuses (exported models and ONNX graphs), and how it writes there.

Everything enters the cache through a temporary sibling renamed into place (``os.replace``), so a reader never sees
half a file. The temporaries are created with the mode the user's umask gives, as ``open`` and ``mkdir`` create
files (``tempfile.mkstemp`` and ``mkdtemp`` give ``0o600`` and ``0o700`` whatever the umask: a cache shared by a
group could not be read by the group). A process killed while it writes (``SIGKILL``, a node lost) cannot remove
its temporary; the temporary's name records the host and process that wrote it, and the next writer in the folder
removes those of processes that are gone (:func:`remove_orphans`), and any older than :data:`ORPHAN_AGE`.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import socket
import time
from pathlib import Path

__all__ = ["ORPHAN_AGE", "cache_root", "match_folder_mode", "new_temporary", "new_temporary_dir", "remove_orphans"]

#: Seconds after which any temporary of this package in a cache folder is removed, whoever wrote it (a writer on
#: another host, whose process cannot be asked): no export takes a day.
ORPHAN_AGE = 24 * 3600

#: ``.<target name>.<host>.<pid>.<random>.tmp``: what :func:`new_temporary` and :func:`new_temporary_dir` create.
_TEMPORARY = re.compile(r"^\.(?P<target>.+)\.(?P<host>[0-9a-f]{8})\.(?P<pid>\d+)\.[0-9a-f]{16}\.tmp$")
#: Temporaries of versions up to 0.3 (``tempfile.mkstemp`` / ``mkdtemp``: no process recorded), removed by age: an
#: ONNX graph's ``.<model>-<40 hex key>-<8 random>.onnx`` and the EfficientNet folder's ``.efficientnet-...-<8>``.
_LEGACY = re.compile(r"^\.(.+-[0-9a-f]{40}-[a-z0-9_]{8}\.onnx|efficientnet-lite0-imagenet-v\d+-[a-z0-9_]{8})$")


def cache_root() -> Path:
    """``$XAITK_WCAM_CACHE``, else ``~/.cache/xaitk_wcam``."""
    env = os.environ.get("XAITK_WCAM_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "xaitk_wcam"


def _host() -> str:
    return hashlib.blake2b(socket.gethostname().encode(), digest_size=4).hexdigest()


def _temporary_name(target: Path) -> Path:
    return target.parent / f".{target.name}.{_host()}.{os.getpid()}.{secrets.token_hex(8)}.tmp"


def new_temporary(target: Path) -> Path:
    """A new, empty, exclusively created sibling file of ``target`` (to be renamed onto it), mode ``0o666`` less the
    umask. The caller removes it on failure; a killed process's is removed by :func:`remove_orphans`."""
    while True:
        path = _temporary_name(target)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666))
            return path
        except FileExistsError:  # pragma: no cover - 64 random bits collided
            continue


def new_temporary_dir(target: Path) -> Path:
    """A new sibling folder of ``target`` (to be renamed onto it), mode ``0o777`` less the umask (see
    :func:`new_temporary`)."""
    while True:
        path = _temporary_name(target)
        try:
            os.mkdir(path, 0o777)
            return path
        except FileExistsError:  # pragma: no cover - 64 random bits collided
            continue


def match_folder_mode(folder: Path) -> None:
    """Give every file under ``folder`` (made by :func:`new_temporary_dir`, so with the umask's mode) the mode
    ``open`` would have given it: the folder's, without execute bits. For writers that ignore the umask
    (``save_pretrained`` writes ``model.safetensors`` 0600)."""
    mode = folder.stat().st_mode & 0o666
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            path.chmod(mode)


def _alive(pid: int) -> bool:
    if os.name != "posix":  # no signal 0 elsewhere (os.kill would end the process): trust the age rule
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_orphans(folder: Path) -> list[Path]:
    """Remove the temporaries left in ``folder`` by writers that died: those this host's processes made and that are
    no longer running, and any older than :data:`ORPHAN_AGE` (including 0.3's, which record no process). A running
    writer's temporary is kept. Nothing else in the folder is touched.

    :return: The paths removed.
    """
    removed = []
    host, now = _host(), time.time()
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for path in entries:
        match = _TEMPORARY.match(path.name)
        if match is None and not _LEGACY.match(path.name):
            continue
        try:
            old = now - path.lstat().st_mtime > ORPHAN_AGE
        except OSError:
            continue
        dead = match is not None and match["host"] == host and not _alive(int(match["pid"]))
        if not (old or dead):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed
