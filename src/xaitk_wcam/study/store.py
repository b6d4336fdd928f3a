"""The results store of a study: one folder, committed item by item, assembled into tables.

Layout of ``OUT_DIR``::

    config.json        the resolved config (its SHA-256 is the config hash, kept in study.json)
    study.json         {"config_hash": ..., "format": 3}
    items/<key>.json   one committed work item: its rows and metadata (the commit marker)
    maps/<key>.npz     the item's image and maps (compressed, written before the item's JSON)
    results.csv        rows of every committed item, in study order
    results.parquet    the same table
    verdicts.csv       per method x comparison x perturbation: does the map move beyond its noise (study.verdicts)
    robustness.csv     per method x perturbation x feature: does that movement go with the model breaking

``<key>`` is ``<image index:06d>-<perturbation index:04d>`` (perturbation 0 is the reference, the last
index the noise floor). Every file
is written to a temporary name in the same folder and renamed into place (``os.replace``, atomic on POSIX
and Windows), the maps before the item's JSON: a work item is done exactly when its JSON exists, so a
study killed at any moment leaves only whole items behind.

An item's arrays are an :class:`ItemArrays`: its image and ``{method: {space: map}}``. Inside the ``.npz`` they
get opaque names (``image``, ``map_0``, ``map_1``, ...) and the item's JSON lists which ``(method, space)`` each
``map_<i>`` is, so method names are data, never parts of a key: no name a user chooses can collide with another
or with the image.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 3
#: The status of an item or row computed without error.
OK = "ok"


@dataclass
class ItemArrays:
    """The arrays of one work item.

    :param image: The item's image (``None`` for items without one, e.g. the noise floor's).
    :param maps: Method -> space -> ``H x W`` map.
    """

    image: np.ndarray | None = None
    maps: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


class OutDirError(ValueError):
    """An output folder that holds something other than this study's results."""


#: The lock file of a running study (see :meth:`ResultsStore.lock`).
LOCK_NAME = ".lock"


def _lock_file(handle: Any) -> None:
    """Take a non-blocking exclusive lock on an open file (``OSError`` when another process holds it)."""
    if os.name == "nt":  # pragma: no cover - Windows
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def item_key(image_index: int, perturbation_index: int) -> str:
    """File key of a work item: ``<image index:06d>-<perturbation index:04d>``."""
    return f"{image_index:06d}-{perturbation_index:04d}"


def _create_temporary(path: Path) -> tuple[int, str]:
    """A new, exclusively created sibling of ``path`` (``.<name>.<random>.tmp``) and its descriptor.

    Created with mode ``0o666`` less the process's umask, as ``open`` creates files: every output gets the mode
    the user's umask gives (``tempfile.mkstemp`` would give ``0o600``, whatever the umask).
    """
    while True:
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:  # pragma: no cover - 64 random bits collided
            continue


def atomic_write(path: Path, write: Callable[[Any], None], mode: str = "w") -> None:
    """Write through ``write(file)`` into a temporary sibling of ``path`` then rename it onto ``path`` (the file
    gets the process's normal mode: :func:`_create_temporary`). A symbolic link at ``path`` is replaced by the file,
    never written through."""
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def item_ok(record: Mapping[str, Any]) -> bool:
    """Whether a committed item and every one of its rows have status :data:`OK`."""
    return record.get("item_status") == OK and all(row.get("status") == OK for row in record.get("rows", ()))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot store {type(obj).__name__} in an item file")


class ResultsStore:
    """Reads and writes one study's output folder.

    :param out_dir: The folder (created when missing).
    """

    def __init__(self, out_dir: str | Path) -> None:
        self.root = Path(out_dir)
        self.items_dir = self.root / "items"
        self.maps_dir = self.root / "maps"

    # -- the config guard -------------------------------------------------------------------------
    def check(self, digest: str, resume: bool, model: Mapping[str, Any] | None = None) -> None:
        """Check, writing nothing, that the folder may receive the study of config hash ``digest``.

        A folder with a ``study.json`` of another config but no committed item (a start that failed before its
        first item) is accepted: it holds nothing to protect.

        :param model: The identity of the study's model (:func:`~xaitk_wcam.study.identity.model_identity`): a folder
            whose items were computed with another one is refused (a folder of 0.3, which recorded none, is resumed
            with a warning).
        :raises OutDirError: The folder holds results of another config (whatever ``resume`` says), or of another
            model (its files, code or libraries changed), or results of this config without ``resume``, or files
            that are not a study's.
        """
        meta_path = self.root / "study.json"
        if self.root.exists() and not self.root.is_dir():
            raise OutDirError(f"OUT_DIR {str(self.root)!r} exists and is not a folder")
        existing = next(p for p in (self.root, *self.root.absolute().parents) if p.exists())
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            raise OutDirError(
                f"OUT_DIR {str(self.root)!r} cannot be written: {str(existing)!r} is not a writable folder"
            )
        if meta_path.exists():
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            stored = meta.get("config_hash")
            committed = self.committed_keys()
            if committed and meta.get("format") != FORMAT_VERSION:
                raise OutDirError(
                    f"OUT_DIR {str(self.root)!r} holds results in format {meta.get('format')} of another xaitk-wcam "
                    f"version (this one writes format {FORMAT_VERSION}); choose another OUT_DIR"
                )
            if stored != digest and committed:
                raise OutDirError(
                    f"OUT_DIR {str(self.root)!r} holds results of a different config (hash {stored}, this "
                    f"config's is {digest}); choose another OUT_DIR"
                )
            if not resume and committed:
                raise OutDirError(
                    f"OUT_DIR {str(self.root)!r} already holds results of this config; pass --resume to "
                    "continue it, or choose another OUT_DIR"
                )
            if committed and model is not None:
                self._check_model(meta.get("model"), model)
        elif self.root.exists() and any(p.name != LOCK_NAME for p in self.root.iterdir()):
            raise OutDirError(
                f"OUT_DIR {str(self.root)!r} is not empty and holds no study (no study.json); choose an "
                "empty or new folder"
            )

    def _check_model(self, stored: Mapping[str, Any] | None, model: Mapping[str, Any]) -> None:
        from xaitk_wcam.study.identity import identity_changes

        if stored is None:
            warnings.warn(
                f"OUT_DIR {str(self.root)!r} does not record its model (an earlier version wrote it): resuming "
                "without checking that the model's files, code and libraries are those of its items",
                RuntimeWarning,
                stacklevel=3,
            )
            return
        if stored.get("digest") != model.get("digest"):
            changes = "; ".join(identity_changes(stored, model)) or "its identity differs"
            raise OutDirError(
                f"OUT_DIR {str(self.root)!r} holds results of another model than this config's now ({changes}): "
                "resuming would mix two models in one table; choose another OUT_DIR"
            )

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold ``OUT_DIR/.lock`` (an OS advisory lock, released even when the process is killed) while a study
        runs here; a second study started in the same folder meanwhile is refused. A start that fails before it
        writes ``study.json`` leaves nothing behind: the lock file, and the folder when this call created it.

        :raises OutDirError: Another study holds the lock.
        """
        created = not self.root.exists()
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_NAME, "a+") as handle:
            try:
                _lock_file(handle)
            except OSError as err:
                raise OutDirError(f"OUT_DIR {str(self.root)!r} is in use by another study run; wait for it") from err
            try:
                yield
            finally:  # still holding the lock: a start that failed before study.json leaves nothing behind
                if not (self.root / "study.json").exists():
                    (self.root / LOCK_NAME).unlink(missing_ok=True)
                    if created and not any(self.root.iterdir()):
                        self.root.rmdir()

    def prepare(
        self, resolved: Mapping[str, Any], digest: str, resume: bool, model: Mapping[str, Any] | None = None
    ) -> None:
        """:meth:`check` the folder, then create it and write ``config.json`` and ``study.json``.

        :param resolved: The resolved config, written to ``config.json``.
        :param digest: Its config hash.
        :param resume: Whether finished items may be kept and skipped.
        :param model: The identity of the study's model, recorded in ``study.json``.
        """
        self.check(digest, resume, model)
        self.items_dir.mkdir(parents=True, exist_ok=True)
        self.maps_dir.mkdir(parents=True, exist_ok=True)
        self.write_json("config.json", resolved)
        meta: dict[str, Any] = {"config_hash": digest, "format": FORMAT_VERSION}
        if model is not None:
            meta["model"] = dict(model)
        self.write_json("study.json", meta)

    def write_json(self, name: str, data: Any) -> Path:
        """Atomically write ``data`` as indented JSON to ``OUT_DIR/name``."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda fh: json.dump(data, fh, indent=2, sort_keys=False, default=_json_default))
        return path

    def write_table(self, name: str, frame: Any) -> Path:
        """Atomically write a ``pandas.DataFrame`` as ``OUT_DIR/name`` (CSV, no index)."""
        path = self.root / name
        atomic_write(path, lambda fh: frame.to_csv(fh, index=False), mode="w")
        return path

    def write_file(self, name: str, write: Callable[[Any], None], mode: str = "w") -> Path:
        """Write ``OUT_DIR/name`` through ``write(file)`` atomically: into a new temporary file renamed onto the name,
        so a symbolic link at the name is replaced, never written through (a report, a figure)."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, write, mode=mode)
        return path

    # -- items --------------------------------------------------------------------------------------
    def commit(self, key: str, record: Mapping[str, Any], arrays: ItemArrays | None = None) -> None:
        """Commit one work item: its arrays to ``maps/<key>.npz`` then its record to ``items/<key>.json``.

        :param key: :func:`item_key` of the item.
        :param record: JSON-serialisable record (rows and metadata); stored with the index of its maps.
        :param arrays: The item's image and maps (none for a failed item); stored losslessly, compressed.
        """
        arrays = ItemArrays() if arrays is None else arrays
        index = [[method, space] for method, spaces in arrays.maps.items() for space in spaces]
        named = {f"map_{i}": arrays.maps[method][space] for i, (method, space) in enumerate(index)}
        if arrays.image is not None:
            named["image"] = arrays.image
        self.maps_dir.mkdir(parents=True, exist_ok=True)
        self.items_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(self.maps_dir / f"{key}.npz", lambda fh: np.savez_compressed(fh, **named), mode="wb")
        atomic_write(
            self.items_dir / f"{key}.json",
            lambda fh: json.dump({**record, "maps": index}, fh, default=_json_default, allow_nan=True),
        )

    def committed_keys(self) -> set[str]:
        """Keys of every committed item."""
        if not self.items_dir.is_dir():
            return set()
        return {p.stem for p in self.items_dir.glob("*.json")}

    def load_item(self, key: str) -> dict[str, Any] | None:
        """The committed record of ``key``, or ``None``."""
        path = self.items_dir / f"{key}.json"
        if not path.exists():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def load_arrays(self, key: str) -> ItemArrays:
        """The committed image and maps of ``key`` (empty when the item is not committed or has none).

        :raises OutDirError: The folder is of another format (its maps are stored another way: reading them as this
            format would give empty maps).
        """
        self._check_format()
        record, path = self.load_item(key), self.maps_dir / f"{key}.npz"
        if record is None or not path.exists():
            return ItemArrays()
        arrays = ItemArrays()
        with np.load(path, allow_pickle=False) as data:
            if "image" in data.files:
                arrays.image = data["image"]
            for i, (method, space) in enumerate(record.get("maps", [])):
                arrays.maps.setdefault(method, {})[space] = data[f"map_{i}"]
        return arrays

    def _check_format(self) -> None:
        meta_path = self.root / "study.json"
        if meta_path.exists():
            found = json.loads(meta_path.read_text(encoding="utf-8")).get("format")
            if found != FORMAT_VERSION:
                raise OutDirError(
                    f"OUT_DIR {str(self.root)!r} holds results in format {found} of another xaitk-wcam version "
                    f"(this one reads format {FORMAT_VERSION}); read it with that version"
                )

    def done(self, key: str, image_id: str, image_hash: str | None = None, retry_failed: bool = False) -> bool:
        """Whether ``key`` is committed for this image: same id and, when both are known, same content hash (an
        image changed under its name is recomputed, with a warning); with ``retry_failed``, an item with any row
        that is not ok (the item failed, or one method or metric of an ok item did) counts as not done."""
        record = self.load_item(key)
        if record is None or record.get("image_id") != image_id:
            return False
        stored = record.get("image_hash")
        if image_hash is not None and stored is not None and stored != image_hash:
            warnings.warn(
                f"image {image_id!r} changed since item {key} was computed (content hash differs); recomputing it",
                RuntimeWarning,
                stacklevel=2,
            )
            return False
        return not (retry_failed and not item_ok(record))

    def records(self, keys: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Committed records (of ``keys``, or all), sorted by image then perturbation index."""
        wanted = sorted(self.committed_keys() if keys is None else set(keys) & self.committed_keys())
        out = [r for r in (self.load_item(k) for k in wanted) if r is not None]
        return sorted(out, key=lambda r: (r["image_index"], r["perturbation_index"]))

    # -- tables -------------------------------------------------------------------------------------
    def assemble(self, columns: list[str], text_columns: Iterable[str], keys: Iterable[str] | None = None) -> Any:
        """Write ``results.csv`` and ``results.parquet`` from the committed items, in study order.

        Rows are ordered by image index, perturbation index (the reference first) and method order of the
        config, whatever order the items were committed in.

        :param columns: Column order (:meth:`xaitk_wcam.study.plan.StudyPlan.row_columns`).
        :param text_columns: The columns that hold text; every other one is float64.
        :param keys: Items to include (default: all committed).
        :return: The ``pandas.DataFrame`` written.
        """
        import pandas as pd

        rows: list[dict[str, Any]] = []
        for record in self.records(keys):
            rows.extend(sorted(record["rows"], key=lambda r: r["_method_index"]))
        frame = pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns)
        text_columns = [c for c in text_columns if c in frame.columns]
        for col in frame.columns:
            if col not in text_columns:
                frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
        for col in text_columns:
            texts = [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in frame[col]]
            frame[col] = pd.Series(texts, index=frame.index, dtype=object)
            if int(pd.__version__.split(".")[0]) >= 3:  # pandas 3's text dtype, as read back from parquet
                frame[col] = frame[col].astype("str")
        atomic_write(self.root / "results.csv", lambda fh: frame.to_csv(fh, index=False), mode="w")
        atomic_write(self.root / "results.parquet", lambda fh: frame.to_parquet(fh, index=False), mode="wb")
        return frame
