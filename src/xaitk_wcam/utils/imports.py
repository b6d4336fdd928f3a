"""Names of code in configs, parsed and checked completely before anything is imported.

A config names code in two forms: an import path ``"package.module:attribute"`` (the MAITE adapters'
``model`` and ``dataset``) and a dotted name ``"package.module.Class"`` (plugin ``type`` strings, the perturber
an nrtk factory sweeps). Both are parsed here, by one grammar, before any import: every part is an ASCII Python
identifier (a letter or ``_``, then letters, digits, ``_``), not a keyword, parts are joined by single dots,
and nothing else is allowed: no whitespace or control character anywhere (a trailing space, tab, CR or
newline included), no non-ASCII letter, no empty part (``..``, a leading or trailing dot: relative imports),
no leading digit, one colon at most. ``importlib.import_module`` would strip or accept some of these, so a
string that only looks right (``"this:x "``) would import its module before its attribute is found wrong;
here it is refused first, and :func:`import_object` imports only what parsed.
"""

from __future__ import annotations

import importlib
import keyword
import re
from typing import Any

__all__ = ["MAX_NAME_LENGTH", "import_object", "is_import_path", "parse_dotted_name", "parse_import_path"]

#: Longest name accepted (a Python import path is a few dozen characters).
MAX_NAME_LENGTH = 512

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _parts(text: str, what: str, whole: str, kind: str) -> tuple[str, ...]:
    """The identifiers of one dotted name, or ``ValueError`` naming the first rule ``text`` breaks."""
    parts = tuple(text.split("."))
    for part in parts:
        if not part:
            raise ValueError(f"{what}: the {kind} {whole!r} has an empty part (a leading, trailing or double dot)")
        if not _IDENTIFIER.fullmatch(part):
            raise ValueError(
                f"{what}: the {kind} {whole!r} has the part {part!r}, which is not an ASCII Python identifier (a "
                "letter or '_' then letters, digits or '_'; no space, control character or non-ASCII letter)"
            )
        if keyword.iskeyword(part):
            raise ValueError(f"{what}: the {kind} {whole!r} has the part {part!r}, a Python keyword")
    return parts


def _check_text(text: Any, what: str, form: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{what}: expected {form} as a string; got {type(text).__name__}")
    if not text:
        raise ValueError(f"{what}: expected {form}; got an empty string")
    if len(text) > MAX_NAME_LENGTH:
        raise ValueError(f"{what}: expected {form} of at most {MAX_NAME_LENGTH} characters; got {len(text)}")
    return text


def parse_dotted_name(text: Any, what: str = "name") -> tuple[str, ...]:
    """The parts of a dotted name such as ``"package.module.Class"``, checked (see the module docstring).

    :param text: The name.
    :param what: What it names, for messages (``"perturbers[0]: type"``).
    :return: Its identifiers, in order.
    :raises TypeError: ``text`` is not a string.
    :raises ValueError: ``text`` breaks a rule (the message names the rule and the offending part).
    """
    form = "a dotted name 'package.module.Name'"
    text = _check_text(text, what, form)
    if ":" in text:
        raise ValueError(f"{what}: expected {form}; got {text!r}, which holds a ':'")
    return _parts(text, what, text, "dotted name")


def parse_import_path(text: Any, what: str = "import path") -> tuple[str, tuple[str, ...]]:
    """Module and attribute path of ``"package.module:attribute[.attribute...]"``, checked before any import.

    :param text: The import path.
    :param what: What it names, for messages (``"model"``).
    :return: ``(module name, attribute names)``.
    :raises TypeError: ``text`` is not a string.
    :raises ValueError: No colon or more than one, or a part that breaks a rule (see the module docstring).
    """
    form = "an import path 'package.module:attribute'"
    text = _check_text(text, what, form)
    if text.count(":") != 1:
        raise ValueError(f"{what}: expected {form} with exactly one ':'; got {text!r}")
    module, attribute = text.split(":")
    return ".".join(_parts(module, what, text, "import path")), _parts(attribute, what, text, "import path")


def is_import_path(text: Any) -> bool:
    """Whether ``text`` parses as an import path (:func:`parse_import_path`), i.e. whether an importer would
    import it."""
    try:
        parse_import_path(text)
    except (TypeError, ValueError):
        return False
    return True


def import_object(text: str, what: str = "import path") -> Any:
    """The object at ``"package.module:attribute"``: parsed completely first, then imported.

    :param text: The import path.
    :param what: What it names, for messages.
    :raises TypeError: ``text`` is not a string.
    :raises ValueError: ``text`` does not parse (nothing is imported), or its module or attribute does not exist.
    """
    module_name, attributes = parse_import_path(text, what)
    try:
        obj: Any = importlib.import_module(module_name)
        for name in attributes:
            obj = getattr(obj, name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"{what}: could not import {text!r}: {exc}") from exc
    return obj
