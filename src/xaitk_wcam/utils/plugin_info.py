"""What a plugin takes, read off its class: parameters with defaults, descriptions, the first paragraph of its doc.

``xaitk-wcam plugins NAME`` prints it and ``xaitk-wcam plugins --json`` holds it for every plugin, so that a study
config's parameters are looked up, not guessed. The parameters are the constructor's (what a config block may
hold, as smqtk's ``get_default_config`` reads them); their descriptions come from the class and constructor
docstrings, in either of the two styles of the stack: reST ``:param name: text`` (xaitk-saliency, this package)
or Google ``Args:`` sections (nrtk). Nothing is imported or built here: the classes come from plugin discovery.
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

#: ``:param name: text`` (reST), up to the next field or blank line.
_REST_PARAM = re.compile(r"^\s*:param\s+(?:[^:\s]+\s+)?(\w+):(.*)$")
_GOOGLE_SECTION = re.compile(r"^(\s*)(Args|Arguments|Parameters|Keyword Args|Keyword Arguments):\s*$")
_GOOGLE_PARAM = re.compile(r"^(\s*)(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:(.*)$")
#: A Sphinx cross-reference, ``:role:`~module.Name``` or ``:role:`text <target>```.
_ROLE = re.compile(r":[\w:]+:`~?([^`<]*?)\s*(?:<[^>]*>)?`")


def plain_text(text: str) -> str:
    """reST markup a terminal does not render, removed: ``:class:`~a.b.C``` -> ``C``, ````x```` -> ``x``."""

    def name(match: re.Match[str]) -> str:
        target = match.group(1)
        return target.rsplit(".", 1)[-1] if match.group(0).split("`", 1)[1].startswith("~") else target

    return _ROLE.sub(name, text).replace("``", "")


def first_paragraph(doc: str | None) -> str:
    """The first paragraph of a docstring, on one line (``""`` for none)."""
    if not doc:
        return ""
    paragraph = inspect.cleandoc(doc).strip().split("\n\n", 1)[0]
    return plain_text(" ".join(paragraph.split()))


def parameter_descriptions(*docs: str | None) -> dict[str, str]:
    """Parameter name -> description, on one line without reST markup (:func:`plain_text`), from reST ``:param:``
    fields and Google ``Args:`` sections of ``docs`` (the first description of a name wins)."""
    found: dict[str, str] = {}
    for doc in docs:
        for name, text in [*_rest_params(doc or ""), *_google_params(doc or "")]:
            if text and name not in found:
                found[name] = text
    return found


def _rest_params(doc: str) -> list[tuple[str, str]]:
    params: list[tuple[str, list[str]]] = []
    current: list[str] | None = None
    for line in inspect.cleandoc(doc).splitlines():
        match = _REST_PARAM.match(line)
        if match:
            current = [match.group(2).strip()]
            params.append((match.group(1), current))
        elif current is not None and line.startswith((" ", "\t")) and line.strip():
            current.append(line.strip())
        else:
            current = None
    return [(name, plain_text(" ".join(" ".join(parts).split()))) for name, parts in params]


def _google_params(doc: str) -> list[tuple[str, str]]:
    params: list[tuple[str, list[str]]] = []
    lines = inspect.cleandoc(doc).splitlines()
    section_indent: int | None = None
    name_indent: int | None = None
    current: list[str] | None = None
    for line in lines:
        if section_indent is None:
            match = _GOOGLE_SECTION.match(line)
            if match:
                section_indent, name_indent, current = len(match.group(1)), None, None
            continue
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= section_indent:  # the section ended (next heading or text)
            section_indent = None
            match = _GOOGLE_SECTION.match(line)
            if match:
                section_indent, name_indent, current = len(match.group(1)), None, None
            continue
        match = _GOOGLE_PARAM.match(line)
        if match and (name_indent is None or indent == name_indent):
            name_indent = indent
            current = [match.group(3).strip()]
            params.append((match.group(2).lstrip("*"), current))
        elif current is not None:
            current.append(line.strip())
    return [(name, plain_text(" ".join(" ".join(parts).split()))) for name, parts in params]


def _json_value(value: Any) -> Any:
    """``value`` in its JSON form (a tuple becomes a list, as in a config), or its ``repr`` when JSON cannot hold it."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        return repr(value)


def plugin_parameters(cls: type) -> dict[str, dict[str, Any]]:
    """The constructor parameters of ``cls``, in order: ``{name: {"default", "required", "description"}}``
    (``default`` is ``None`` for a required parameter; a value JSON cannot hold is given as its ``repr``). A
    constructor that takes ``**kwargs`` adds ``"**kwargs"`` (any further key is accepted)."""
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return {}
    descriptions = parameter_descriptions(inspect.getdoc(cls), inspect.getdoc(cls.__init__))
    parameters: dict[str, dict[str, Any]] = {}
    for name, parameter in signature.parameters.items():
        if name == "self" or parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            parameters[f"**{name}"] = {"default": None, "required": False, "description": "further keywords"}
            continue
        required = parameter.default is inspect.Parameter.empty
        parameters[name] = {
            "default": None if required else _json_value(parameter.default),
            "required": required,
            "description": descriptions.get(name),
        }
    return parameters


def plugin_info(cls: type) -> dict[str, Any]:
    """``{"class", "summary", "parameters"}`` of a plugin class (see :func:`plugin_parameters`)."""
    return {
        "class": f"{cls.__module__}.{cls.__name__}",
        "summary": first_paragraph(inspect.getdoc(cls)),
        "parameters": plugin_parameters(cls),
    }
