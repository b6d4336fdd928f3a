"""Which plugin interfaces each part of a study config may name, and where their implementations come from.

A study config never imports anything by name: every ``{"type": ...}`` is looked up among the
implementations that smqtk's plugin discovery returns for the section's interface
(``Interface.get_impls()``: ``smqtk_plugins`` entry points, ``SMQTK_PLUGIN_PATH`` and subclasses already
imported). The only modules imported here are the fixed list in :data:`UPSTREAM_PLUGIN_MODULES`: upstream
implementations that their package ships but does not register under an entry point.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from xaitk_wcam.interfaces.explainer import explainer_kinds
from xaitk_wcam.study.errors import StudyConfigError
from xaitk_wcam.study.scorers import scorer_kinds
from xaitk_wcam.study.tasks import model_tasks
from xaitk_wcam.utils.extras import require_extra

#: Upstream modules holding plugins that their package does not register under ``smqtk_plugins``
#: (xaitk-saliency 0.15 registers ``RISEStack`` but not ``SlidingWindowStack``). A fixed list, never
#: taken from a config.
UPSTREAM_PLUGIN_MODULES: tuple[str, ...] = ("xaitk_saliency.impls.gen_image_classifier_blackbox_sal.slidingwindow",)

_upstream_loaded = False

LOG = logging.getLogger(__name__)


def load_upstream_plugins() -> None:
    """Import :data:`UPSTREAM_PLUGIN_MODULES` once so that subclass discovery sees their plugins."""
    global _upstream_loaded
    if _upstream_loaded:
        return
    for module in UPSTREAM_PLUGIN_MODULES:
        try:
            with discovery_messages_at_debug():
                importlib.import_module(module)
        except ImportError:  # an optional upstream package that is not installed: its plugins are absent
            continue
    _upstream_loaded = True


@dataclass(frozen=True)
class Section:
    """One pluggable part of a study config.

    :param key: Config key (``"images"``, ``"perturbers"``, ...).
    :param interfaces: Public names (``module.Class``) of the interfaces whose implementations the key accepts,
        each with the role its implementations play (``"perturber"``, ``"factory"``, ...). The ``saliency`` and
        ``metrics`` sections name none: they accept the implementations of every registered kind of explainer
        (:func:`xaitk_wcam.interfaces.explainer.explainer_kinds`) and of metric
        (:func:`xaitk_wcam.study.scorers.scorer_kinds`).
    """

    key: str
    interfaces: tuple[tuple[str, str], ...] = ()


#: The sections beside the model's (one per registered model kind: :func:`sections`).
SECTIONS: dict[str, Section] = {
    "images": Section("images", (("xaitk_wcam.interfaces.image_source.ImageSource", "images"),)),
    "perturbers": Section(
        "perturbers",
        (("nrtk.interfaces.PerturbImage", "perturber"), ("nrtk.interfaces.PerturbFactory", "factory")),
    ),
    "saliency": Section("saliency"),
    "metrics": Section("metrics"),
}


def sections() -> tuple[str, ...]:
    """Every pluggable section of a study config: the model sections of the registered kinds
    (:func:`xaitk_wcam.study.tasks.model_tasks`), then :data:`SECTIONS`."""
    return (*model_tasks(), *SECTIONS)


def section_interfaces(section: str) -> list[tuple[type, str]]:
    """``(interface, role)`` of every interface ``section`` accepts (see :class:`Section`)."""
    if section == "saliency":
        return [(kind, "saliency") for kind in explainer_kinds()]
    if section == "metrics":
        return [(kind, "metric") for kind in scorer_kinds()]
    task = model_tasks().get(section)
    if task is not None:
        interface = task.model_interface
        return [(_interface(interface) if isinstance(interface, str) else interface, section)]
    return [(_interface(qualname), role) for qualname, role in SECTIONS[section].interfaces]


def _interface(qualname: str) -> type:
    """Import a section's interface by its public name.

    :raises StudyConfigError: It cannot be imported (a missing or incompatible package): the study cannot
        resolve that section, and says so instead of offering no plugin.
    """
    from xaitk_wcam.utils.imports import parse_dotted_name

    *module, attr = parse_dotted_name(qualname, "plugin interface")
    module_name = ".".join(module)
    try:
        interface = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise StudyConfigError(
            f"the plugin interface {qualname} cannot be imported ({type(err).__name__}: {err}); "
            "install or upgrade the package that provides it"
        ) from err
    if not isinstance(interface, type):
        raise StudyConfigError(f"{qualname} is not a class; the installed package changed its interface")
    return interface


@contextlib.contextmanager
def discovery_messages_at_debug() -> Iterator[None]:
    """Log what other packages say while their plugin modules are imported at DEBUG level, on this module's logger.

    smqtk's discovery imports every registered plugin module of every package; some log warnings such as
    ``Failed to import psycopg2`` or emit ``UserWarning``s about optional dependencies they lack. They are not
    this package's errors: they are kept (``xaitk-wcam -v`` shows them) but not printed as warnings. Records of
    ERROR and above pass through unchanged.
    """
    root = logging.getLogger()
    kept: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            kept.append(record)

    handlers, last_resort = root.handlers[:], logging.lastResort
    root.handlers, logging.lastResort = [Keep()], None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        root.handlers, logging.lastResort = handlers, last_resort
        for record in kept:
            if record.levelno >= logging.ERROR:
                root.handle(record)
            else:
                LOG.debug("plugin discovery: %s: %s", record.name, record.getMessage())
        for warning in caught:
            LOG.debug("plugin discovery: %s: %s", warning.category.__name__, warning.message)


def type_key(cls: type) -> str:
    """The ``type`` string that selects ``cls`` in a config (``to_config_dict``'s key for it)."""
    getter = getattr(cls, "get_type_string", None)  # nrtk's public path of a private module
    if callable(getter):
        return str(getter())
    return f"{cls.__module__}.{cls.__name__}"


_CACHE: dict[str, dict[str, type]] = {}


def implementations(section: str, refresh: bool = False) -> dict[str, type]:
    """Registered implementations a config section accepts, by config type string.

    Both ``to_config_dict``'s key (``module.Class``) and nrtk's public ``get_type_string()`` select a
    class, so a config written either way resolves. Discovery runs once per process and section; pass
    ``refresh=True`` to run it again (a plugin imported since).

    :param section: One of :func:`sections`.
    :return: Type string -> class, sorted by type string.
    """
    if section not in sections():
        raise ValueError(f"section must be one of {sorted(sections())}, got {section!r}")
    if not refresh and section in _CACHE:
        return _CACHE[section]
    load_upstream_plugins()
    found: dict[str, type] = {}
    for interface, _ in section_interfaces(section):
        with discovery_messages_at_debug():
            impls = interface.get_impls()
        for cls in impls:
            if cls.__name__.startswith("_"):  # a private base class is no plugin
                continue
            found[f"{cls.__module__}.{cls.__name__}"] = cls
            found[type_key(cls)] = cls
    _CACHE[section] = dict(sorted(found.items()))
    return _CACHE[section]


def public_names(section: str) -> list[str]:
    """Sorted distinct type strings of a section's implementations (the public one where two exist)."""
    return sorted({type_key(cls) for cls in implementations(section).values()})


def role_of(cls: type, section: str) -> str | None:
    """The role (see :data:`SECTIONS`) of the first of ``section``'s interfaces that ``cls`` implements, or ``None``."""
    for interface, role in section_interfaces(section):
        if issubclass(cls, interface):
            return role
    return None


def plugin_table(names: Sequence[str] | None = None) -> dict[str, list[str]]:
    """Every discovered plugin of each section, for ``xaitk-wcam plugins``.

    :param names: Config sections to list (default: :func:`sections`).
    :return: Section -> sorted type strings.
    """
    require_extra("study", "Listing the plugins a study config can name")
    return {section: public_names(section) for section in (sections() if names is None else names)}
