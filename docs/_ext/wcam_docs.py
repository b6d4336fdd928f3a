"""Two checks and one addition that keep the API reference whole as the package grows.

- Every smqtk plugin class documented by autodoc gets a "Config keys" section: its config ``type`` (the string a
  study config names) and the keys of ``get_default_config()`` with their defaults, read from the constructor as
  smqtk reads it (a key without a default is marked *required*).
- When the build ends, every public name of the package (``xaitk_wcam.__all__``), every smqtk plugin class the
  package registers (entry-point group ``smqtk_plugins``) and every study executor (``xaitk_wcam.executors``)
  must be documented somewhere in the API reference, and every metric plugin must be listed in the metric table
  (``reference/metrics.md``); a missing one is a warning, so ``-W`` fails the build.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from importlib.metadata import entry_points
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

PACKAGE = "xaitk_wcam"


def _is_plugin(obj: Any) -> bool:
    from smqtk_core import Plugfigurable

    return inspect.isclass(obj) and issubclass(obj, Plugfigurable) and not inspect.isabstract(obj)


def _is_metric(obj: Any) -> bool:
    """A metric: faithfulness, map metric, map comparison or stability (the kinds of the metric table)."""
    from xaitk_saliency.interfaces.saliency_metric import SaliencyMetric

    from xaitk_wcam.interfaces.faithfulness import FaithfulnessMetric
    from xaitk_wcam.interfaces.saliency_comparison import SaliencyComparison
    from xaitk_wcam.interfaces.stability import LocalStabilityMetric, RelativeStabilityMetric

    kinds = (FaithfulnessMetric, SaliencyComparison, SaliencyMetric, LocalStabilityMetric, RelativeStabilityMetric)
    return inspect.isclass(obj) and issubclass(obj, kinds) and not inspect.isabstract(obj)


def _default(value: Any) -> str:
    try:
        return f"``{json.dumps(value)}``"
    except TypeError:
        return f"``{value!r}``"


def config_keys(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """Append the config ``type`` and keys of a plugin class to its docstring."""
    if what != "class" or not _is_plugin(obj) or not obj.__module__.startswith(PACKAGE):
        return
    defaults = obj.get_default_config()
    try:
        parameters = inspect.signature(obj.__init__).parameters
    except (TypeError, ValueError):
        parameters = {}
    type_name = f"{obj.__module__}.{obj.__qualname__}"
    lines += ["", ".. rubric:: Config keys", ""]
    lines += [f"Config ``type``: ``{type_name}`` (what a study config names; see :doc:`/reference/config`).", ""]
    if not defaults:
        lines += ["No keys.", ""]
        return
    lines += [".. list-table::", "   :header-rows: 1", "   :widths: 30 70", "", "   * - key", "     - default"]
    for key, value in defaults.items():
        parameter = parameters.get(key)
        required = parameter is not None and parameter.default is inspect.Parameter.empty
        lines += [f"   * - ``{key}``", "     - *required*" if required else f"     - {_default(value)}"]
    lines.append("")


def required_objects() -> dict[str, Any]:
    """Public name -> object: the package's ``__all__``, its registered plugin classes and its executors."""
    package = importlib.import_module(PACKAGE)
    required = {f"{PACKAGE}.{name}": getattr(package, name) for name in package.__all__}
    for point in entry_points(group="smqtk_plugins"):
        if not point.value.startswith(PACKAGE):
            continue
        module = importlib.import_module(point.value)
        for attr in getattr(module, "__all__", dir(module)):
            obj = getattr(module, attr)
            if _is_plugin(obj) and obj.__module__.startswith(PACKAGE) and obj.is_usable():
                required.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    for point in entry_points(group=f"{PACKAGE}.executors"):
        obj = point.load()
        required.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return required


def _resolve(name: str) -> Any:
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def check_complete(app: Sphinx, env: Any) -> None:
    """Warn about every public name or plugin that no API page documents."""
    documented = env.get_domain("py").objects
    ids = {id(obj) for name in documented if (obj := _resolve(name)) is not None}
    metric_page = (app.srcdir / "reference" / "metrics.md").read_text(encoding="utf-8")
    reported: set[int] = set()
    for name, obj in sorted(required_objects().items()):
        if id(obj) in reported:
            continue
        if id(obj) not in ids:
            reported.add(id(obj))
            logger.warning(
                "%s is public (package __all__, a registered plugin or an executor) but no page of "
                "docs/reference/api/ documents it; add it to the autosummary of its section",
                name,
                type="wcam_docs",
                subtype="missing",
            )
        if _is_metric(obj) and not re.search(rf"[`.<]{obj.__name__}\b", metric_page):
            reported.add(id(obj))
            logger.warning(
                "%s is a metric plugin but docs/reference/metrics.md does not list it (its columns, the maps it "
                "reads, its direction and its paper)",
                name,
                type="wcam_docs",
                subtype="missing",
            )


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("autodoc-process-docstring", config_keys)
    app.connect("env-check-consistency", check_complete)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
