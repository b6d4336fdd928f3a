"""What a study's model *is*, beyond its config: the files it loads, the code that runs it and the libraries under it.

A study folder is guarded by its config hash, but a config names a model by a path or an alias, and what lies there
can change (new weights saved at the same path, a library upgraded, the plugin's code edited). A resumed study that
mixed items of two models would give a table whose rows disagree without any sign of it. So the study records its
model's identity in ``study.json`` when it starts (:func:`model_identity`), and ``--resume`` refuses a folder whose
recorded identity differs, naming what changed.

The identity is computed from the resolved config, without loading the model:

- ``files``: every file under a parameter of the model's plugin that names an existing local file or folder, or a
  registered model alias (``xaitk_wcam.model_aliases``: ``"efficientnet-lite0"``), with its SHA-256;
- ``code``: the SHA-256 of the source of the plugin class's module;
- ``versions``: the versions of the distributions the model runs on (the plugin's own package, ``xaitk-wcam``,
  ``torch``, ``transformers``, ``onnxruntime``, where installed).

A model given by a hub id (online) is identified by its id and the libraries only: its files are wherever the hub's
cache keeps them.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

#: Distributions whose versions are part of every model's identity (where installed).
RUNTIME_DISTRIBUTIONS = ("xaitk-wcam", "torch", "transformers", "onnxruntime", "smqtk-classifier", "smqtk-detection")
#: Bytes read at a time when hashing a file.
CHUNK = 1 << 20


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _local_paths(value: Any) -> list[Path]:
    """The existing local files or folders a parameter value names (a path, or a registered model alias)."""
    if isinstance(value, Mapping):
        return [p for v in value.values() for p in _local_paths(v)]
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in _local_paths(v)]
    if not isinstance(value, str) or not value or len(value) > 4096:
        return []
    from xaitk_wcam.classifiers.model_registry import resolve_alias

    path = Path(value).expanduser()
    try:
        if path.exists():
            return [path]
    except OSError:  # a name too long for the file system, or unreadable: not a path
        return []
    alias = resolve_alias(value)
    return [alias] if alias is not None and alias.exists() else []


def file_digests(paths: list[Path]) -> dict[str, str]:
    """``{path: sha256}`` of every file under ``paths`` (folders walked in sorted order; dot-files skipped)."""
    out = {}
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for file in files:
            if not any(part.startswith(".") for part in file.relative_to(root).parts if part):
                out[str(file)] = _sha256_file(file)
    return out


def _versions(cls: type) -> dict[str, str]:
    names = list(RUNTIME_DISTRIBUTIONS)
    top = cls.__module__.split(".")[0]
    names += metadata.packages_distributions().get(top, [])
    out = {}
    for name in dict.fromkeys(names):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def _code_digest(cls: type) -> str:
    try:
        source = inspect.getsource(sys.modules[cls.__module__])
    except (OSError, TypeError, KeyError):  # no source (compiled, built in the session): the class's name only
        source = f"{cls.__module__}.{cls.__qualname__}"
    return hashlib.sha256(source.encode()).hexdigest()


def model_identity(cls: type, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The identity of a model plugin of class ``cls`` configured with ``parameters`` (see the module doc), with its
    ``digest``: the SHA-256 of the rest."""
    import json

    identity = {
        "type": f"{cls.__module__}.{cls.__qualname__}",
        "files": file_digests(_local_paths(dict(parameters))),
        "code": _code_digest(cls),
        "versions": _versions(cls),
    }
    identity["digest"] = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return identity


def identity_changes(stored: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """What differs between two identities, in words (empty: the same model)."""
    changes = []
    old_files, new_files = stored.get("files", {}), current.get("files", {})
    changed = sorted(f for f in set(old_files) | set(new_files) if old_files.get(f) != new_files.get(f))
    if changed:
        names = ", ".join(Path(f).name for f in changed[:3]) + (" ..." if len(changed) > 3 else "")
        changes.append(f"the model's files changed ({names})")
    if stored.get("code") != current.get("code"):
        changes.append(f"the code of {current.get('type')} changed")
    old_versions, new_versions = stored.get("versions", {}), current.get("versions", {})
    for name in sorted(set(old_versions) | set(new_versions)):
        if old_versions.get(name) != new_versions.get(name):
            changes.append(f"{name} {old_versions.get(name, 'absent')} -> {new_versions.get(name, 'absent')}")
    if stored.get("type") != current.get("type"):
        changes.append(f"the model's class {stored.get('type')} -> {current.get('type')}")
    return changes
