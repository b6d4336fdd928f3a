"""Load, validate and resolve a study config; hash it.

A study config is a JSON (or YAML) mapping::

    {"classifier": C, "images": I, "perturbers": [P, ...], "saliency": {"name": S, ...},
     "metrics": [M, ...] or {"name": M, ...}, "target": "reference_prediction",
     "max_perturbations": 10000, "noise_floor": true, "memory_budget_mb": 4096}

or, for a *detection study*, ``"detector": D`` (an smqtk ``DetectImageObjects``) instead of ``"classifier"``
(exactly one of the two) and ``"detections"`` instead of ``"target"``: which of the detector's detections on
each reference image the study explains and follows, ``"all"``, an int ``K`` (the ``K`` best scores) or a class
label (default :data:`~xaitk_wcam.study.tasks.detection.DEFAULT_DETECTIONS`); its ``saliency`` methods are
object-detector generators (xaitk-saliency's ``GenerateObjectDetectorBlackboxSaliency``:
:class:`~xaitk_wcam.WCAMDetector`, ``DRISEStack``). The model sections and their settings are those of the
registered model kinds (:mod:`xaitk_wcam.study.tasks`).

where each of ``C, I, P, S, M`` is what ``smqtk_core.configuration.to_config_dict(obj)`` returns for a
configured plugin (``{"type": T, T: {...parameters}}``); ``perturbers`` may also be a single nrtk
``PerturbFactory`` (or ``PerturbImage``) config, and may mix factories and perturbers in its list. Named
metrics (a mapping) give their names to their results columns (``name``, or ``name_score`` for each score
of a faithfulness metric); a list keeps the 0.1 column names (the metric's ``name``, suffixed where two
collide). ``max_perturbations`` bounds the perturbations (factories are counted before anything is
built); ``noise_floor: false`` turns off the second-seed explanations of the reference images;
``memory_budget_mb`` (default 4096) refuses, per row, an explanation whose estimated working memory is larger;
``sanity_check`` (``true`` or ``{"images": 3, "checkpoints": 4}``) runs Adebayo et al.'s cascading randomisation of
the model on the first images (:mod:`xaitk_wcam.study.sanity`).

Resolution looks each ``type`` up among registered implementations only (:mod:`.plugins`), checks the
parameter names against the constructor, merges the constructor defaults (what ``from_config`` does), runs the
plugin's own ``check_config(parameters)`` classmethod when it has one (keyword checks that need nothing loaded)
and gives the *resolved* config: the same structure with every parameter spelled out, in canonical
JSON form. Its SHA-256 is the config hash that guards an output folder.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from smqtk_core.configuration import from_config_dict

from xaitk_wcam.study.errors import StudyConfigError
from xaitk_wcam.study.plugins import implementations, public_names, role_of, type_key
from xaitk_wcam.study.tasks import model_tasks
from xaitk_wcam.utils.imports import is_import_path, parse_dotted_name

#: The config keys of every study, beside the model sections and settings of the model kinds (:func:`config_keys`).
STUDY_KEYS: tuple[str, ...] = (
    "images",
    "perturbers",
    "saliency",
    "metrics",
    "max_perturbations",
    "noise_floor",
    "memory_budget_mb",
    "sanity_check",
)
#: Most nodes (mappings, lists, values) a config may hold: a guard against documents that expand.
MAX_CONFIG_NODES = 100_000
#: Default bound on the perturbations of a study (factories are counted before any perturber is built).
MAX_PERTURBATIONS = 10_000
#: Default memory budget of one explanation, in MB (see :meth:`xaitk_wcam.interfaces.explainer.Explainer.check_memory`).
MEMORY_BUDGET_MB = 4096
REQUIRED_KEYS: tuple[str, ...] = ("images", "perturbers", "saliency")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def config_keys() -> tuple[str, ...]:
    """Every key a study config accepts: each registered model kind's section and settings, then
    :data:`STUDY_KEYS`."""
    kinds = model_tasks().values()
    return (*(t.section for t in kinds), *(key for t in kinds for key in t.setting_keys), *STUDY_KEYS)


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a study config from a ``.json``, ``.yaml`` or ``.yml`` file.

    YAML is read with ``yaml.safe_load``'s rules (no Python objects) and without aliases (``*name``): an alias
    repeats a node, and nested aliases make a small file expand to billions of values. Any document of more
    than :data:`MAX_CONFIG_NODES` nodes is refused before it is used.

    :param path: Config file.
    :return: The parsed mapping (not yet validated).
    :raises StudyConfigError: Unknown extension, unparsable text, an alias, too many nodes, not a mapping.
    :raises OSError: The file cannot be read.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise StudyConfigError(f"config file must end in .json, .yaml or .yml, got {path.name!r}")
    text = path.read_text(encoding="utf-8")
    if suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as err:
            raise StudyConfigError(f"cannot parse config {str(path)!r}: {err}") from err
    else:
        data = _load_yaml(text, path)
    check_size(data)
    if not isinstance(data, dict):
        raise StudyConfigError(f"config {str(path)!r} must hold a mapping, got {type(data).__name__}")
    return data


def _load_yaml(text: str, path: Path) -> Any:
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise StudyConfigError(
                    f"config {str(path)!r}, line {event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are "
                    "not accepted in study configs; write the values out"
                )
            return super().compose_node(parent, index)

    try:
        return yaml.load(text, Loader=NoAliasLoader)
    except yaml.YAMLError as err:
        raise StudyConfigError(f"cannot parse config {str(path)!r}: {' '.join(str(err).split())}") from err


def check_size(config: Any, limit: int = MAX_CONFIG_NODES) -> None:
    """Refuse a config of more than ``limit`` nodes, counting shared sub-objects each time they appear (as a
    JSON dump would) and stopping at the limit, so the check itself stays cheap.

    :raises StudyConfigError: Too many nodes.
    """
    count, stack = 0, [config]
    while stack:
        node = stack.pop()
        count += 1
        if count > limit:
            raise StudyConfigError(
                f"config holds more than {limit:,} values (MAX_CONFIG_NODES); a study config is a few hundred"
            )
        if isinstance(node, Mapping):
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)


def _to_json(value: Any) -> Any:
    """Canonical JSON form of a config value (tuples -> lists, numpy scalars -> Python)."""

    def default(obj: Any) -> Any:
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        raise TypeError(f"config value of type {type(obj).__name__} is not JSON-serialisable: {obj!r}")

    return json.loads(json.dumps(value, default=default))


def config_hash(resolved: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces) of a resolved config."""
    text = json.dumps(resolved, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _constructor_params(cls: type) -> tuple[list[str], list[str], bool]:
    """(all parameter names, required ones, whether ``**kwargs`` is accepted) of ``cls.__init__``."""
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return [], [], True
    names, required, var_kw = [], [], False
    for name, param in sig.parameters.items():
        if name == "self" or param.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            var_kw = True
            continue
        names.append(name)
        if param.default is inspect.Parameter.empty:
            required.append(name)
    return names, required, var_kw


def _strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string inside a parameter block, with its dotted path."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, Mapping):
        return [s for k, v in value.items() for s in _strings(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, (list, tuple)):
        return [s for i, v in enumerate(value) for s in _strings(v, f"{path}[{i}]")]
    return []


def resolve_plugin(section: str, cfg: Any, where: str) -> tuple[dict[str, Any], type]:
    """Check one ``{"type": T, T: {...}}`` entry and spell out its parameters.

    :param section: Config section (selects the accepted interfaces, see :mod:`.plugins`).
    :param cfg: The entry as written.
    :param where: Human-readable location for messages, e.g. ``"metrics[2]"``.
    :return: ``({"type": key, key: parameters-with-defaults}, class)`` in canonical JSON form.
    :raises StudyConfigError: Malformed entry, unknown type (the message lists the available ones),
        unknown or missing parameter (the message names the plugin and the parameter).
    """
    if not isinstance(cfg, Mapping) or not isinstance(cfg.get("type"), str):
        raise StudyConfigError(
            f"{where}: expected a plugin config {{'type': TYPE, TYPE: {{...parameters}}}}, got {cfg!r}"
        )
    name = cfg["type"]
    _parse_name(name, f"{where}: type")
    impls = implementations(section)
    if name not in impls:
        impls = implementations(section, refresh=True)
    if name not in impls:
        raise StudyConfigError(
            f"{where}: unknown plugin type {name!r} for {section!r}; available: {public_names(section)}"
        )
    cls = impls[name]
    block = cfg.get(name, {})
    if block is None:
        block = {}
    if not isinstance(block, Mapping):
        raise StudyConfigError(f"{where}: parameters of {name} must be a mapping, got {type(block).__name__}")
    extra = sorted(set(cfg) - {"type", name} - set(impls))
    if extra:
        raise StudyConfigError(f"{where}: unexpected keys {extra} beside the type {name!r}")
    params, required, var_kw = _constructor_params(cls)
    if not var_kw:
        unknown = sorted(set(block) - set(params))
        if unknown:
            raise StudyConfigError(
                f"{where}: plugin {name} has no parameter {unknown[0]!r}; accepted parameters: {params}"
            )
    missing = [p for p in required if p not in block]
    if missing:
        raise StudyConfigError(f"{where}: plugin {name} is missing the required parameter {missing[0]!r}")
    for path, value in _strings(block):
        if is_import_path(value):
            raise StudyConfigError(
                f"{where}: parameter {path!r} of {name} is an import path ({value!r}); a study config only "
                "names registered plugins and never imports modules: build such objects in Python instead"
            )
    if section == "perturbers" and isinstance(block.get("perturber"), str):
        _check_swept_perturber(block["perturber"], f"{where}: parameter 'perturber' of {name}")
    resolved_block = copy.deepcopy(cls.get_default_config())
    resolved_block.update(copy.deepcopy(dict(block)))
    check = getattr(cls, "check_config", None)  # a plugin that checks its keywords without being built
    if callable(check):
        try:
            check(resolved_block)
        except (TypeError, ValueError) as err:
            raise StudyConfigError(f"{where}: plugin {name}: {err}") from err
    key = type_key(cls)
    try:
        resolved = _to_json({"type": key, key: resolved_block})
    except TypeError as err:
        raise StudyConfigError(f"{where}: plugin {name}: {err}") from err
    return resolved, cls


def _parse_name(name: str, where: str) -> None:
    """Refuse a malformed dotted name (:func:`~xaitk_wcam.utils.imports.parse_dotted_name`) before it is looked up."""
    try:
        parse_dotted_name(name, where)
    except (TypeError, ValueError) as err:
        raise StudyConfigError(str(err)) from err


def _check_swept_perturber(name: str, where: str) -> None:
    """The perturber an nrtk factory sweeps, named by its type string: well formed and registered (nrtk looks it
    up among the registered perturbers; nothing is imported by name)."""
    _parse_name(name, where)
    cls = implementations("perturbers").get(name)
    if cls is None or role_of(cls, "perturbers") != "perturber":
        raise StudyConfigError(
            f"{where}: {name!r} is not a registered perturber; `xaitk-wcam plugins` lists the perturbers"
        )


def build_plugin(section: str, resolved: Mapping[str, Any], where: str) -> Any:
    """Instantiate a resolved plugin entry with ``smqtk_core.configuration.from_config_dict``.

    :raises StudyConfigError: The constructor rejected the parameters (the message names the plugin).
    """
    impls = implementations(section)
    key = resolved["type"]
    cls = impls[key]
    smqtk_key = f"{cls.__module__}.{cls.__name__}"
    try:
        return from_config_dict({"type": smqtk_key, smqtk_key: resolved[key]}, [cls])
    except (TypeError, ValueError, KeyError) as err:
        raise StudyConfigError(f"{where}: plugin {key} rejected its parameters {resolved[key]}: {err}") from err


def resolve_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a study config and return its resolved form (every parameter spelled out).

    Nothing heavy is built: types and parameter names are checked against the registered plugins'
    constructors. :func:`validate_buildable` additionally instantiates the cheap parts.

    :param config: The config as written (see the module docstring).
    :return: ``{"classifier", "images", "perturbers" (a list), "saliency" (name -> entry),
        "metrics" (a list), "target", ...}`` (a detection study: ``"detector"`` and ``"detections"`` in place of
        ``"classifier"`` and ``"target"``), JSON-serialisable.
    :raises StudyConfigError: On any malformed part, naming where it is.
    """
    if not isinstance(config, Mapping):
        raise StudyConfigError(f"config must be a mapping, got {type(config).__name__}")
    check_size(config)
    unknown = sorted(set(config) - set(config_keys()))
    if unknown:
        raise StudyConfigError(f"unknown config key {unknown[0]!r}; accepted keys: {list(config_keys())}")
    missing = [k for k in REQUIRED_KEYS if k not in config]
    if missing:
        raise StudyConfigError(f"config is missing the key {missing[0]!r}; required keys: {list(REQUIRED_KEYS)}")
    model_key, settings = _model_settings(config)
    model, _ = resolve_plugin(model_key, config[model_key], model_key)
    images, _ = resolve_plugin("images", config["images"], "images")

    perturbers_cfg = config["perturbers"]
    if isinstance(perturbers_cfg, Mapping):
        perturbers_cfg = [perturbers_cfg]
    if not isinstance(perturbers_cfg, list):
        raise StudyConfigError(
            "perturbers must be a list of PerturbImage/PerturbFactory configs or one such config, "
            f"got {type(perturbers_cfg).__name__}"
        )
    perturbers = [resolve_plugin("perturbers", p, f"perturbers[{i}]")[0] for i, p in enumerate(perturbers_cfg)]

    saliency_cfg = config["saliency"]
    if not isinstance(saliency_cfg, Mapping) or not saliency_cfg:
        raise StudyConfigError("saliency must be a non-empty mapping {name: saliency generator config}")
    saliency: dict[str, Any] = {}
    for name, entry in saliency_cfg.items():
        _check_name("saliency", name)
        saliency[name] = resolve_plugin("saliency", entry, f"saliency[{name!r}]")[0]

    metrics_cfg = config.get("metrics", [])
    if isinstance(metrics_cfg, Mapping) and isinstance(metrics_cfg.get("type"), str):
        raise StudyConfigError(
            "metrics must be a list of metric configs or a mapping {name: metric config}; got one metric config "
            "(put it in a list, or give it a name)"
        )
    if isinstance(metrics_cfg, Mapping):  # named metrics: the names are the column prefixes
        metrics: list[Any] | dict[str, Any] = {}
        for name, entry in metrics_cfg.items():
            _check_name("metric", name)
            metrics[name] = resolve_plugin("metrics", entry, f"metrics[{name!r}]")[0]
    elif isinstance(metrics_cfg, list):
        metrics = [resolve_plugin("metrics", m, f"metrics[{i}]")[0] for i, m in enumerate(metrics_cfg)]
    else:
        raise StudyConfigError(
            f"metrics must be a list of metric configs or a mapping {{name: metric config}}, got "
            f"{type(metrics_cfg).__name__}"
        )
    max_perturbations = config.get("max_perturbations", MAX_PERTURBATIONS)
    if isinstance(max_perturbations, bool) or not isinstance(max_perturbations, int) or max_perturbations < 1:
        raise StudyConfigError(f"max_perturbations must be a positive int, got {max_perturbations!r}")
    noise_floor = config.get("noise_floor", True)
    if not isinstance(noise_floor, bool):
        raise StudyConfigError(f"noise_floor must be true or false, got {noise_floor!r}")
    memory_budget_mb = config.get("memory_budget_mb", MEMORY_BUDGET_MB)
    if isinstance(memory_budget_mb, bool) or not isinstance(memory_budget_mb, (int, float)) or memory_budget_mb <= 0:
        raise StudyConfigError(f"memory_budget_mb must be a positive number, got {memory_budget_mb!r}")

    sanity = {} if "sanity_check" not in config else {"sanity_check": _sanity_settings(config["sanity_check"])}

    return {
        model_key: model,
        "images": images,
        "perturbers": perturbers,
        "saliency": saliency,
        "metrics": metrics,
        **settings,
        "max_perturbations": max_perturbations,
        "noise_floor": noise_floor,
        "memory_budget_mb": memory_budget_mb,
        **sanity,  # only when asked for: the config hash of a study without it is unchanged
    }


def _model_settings(config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The config's model section (exactly one of the registered kinds': ``classifier`` or ``detector``) and that
    kind's settings (``target`` for a classifier, ``detections`` for a detector).

    :raises StudyConfigError: Several models or none; a setting of another kind of study; a wrong value.
    """
    kinds = model_tasks()
    given = [section for section in kinds if section in config]
    if len(given) != 1:
        found = " and ".join(given) if given else "neither"
        names = " or ".join(repr(section) for section in kinds)
        raise StudyConfigError(f"config must name exactly one model, {names}; got {found}")
    task = kinds[given[0]]
    for other in kinds.values():
        wrong = [key for key in other.setting_keys if key in config and key not in task.setting_keys]
        if wrong:
            raise StudyConfigError(
                f"{wrong[0]} applies to a {other.study_name} study ({other.section!r}); this is a {task.study_name} "
                f"study, whose settings are {list(task.setting_keys)}"
            )
    try:
        return task.section, task.resolve_settings(config)
    except (TypeError, ValueError) as err:
        raise StudyConfigError(str(err)) from err


#: The defaults of ``sanity_check``: the first 3 images, the layers cut into 4 checkpoints.
SANITY_DEFAULTS = {"images": 3, "checkpoints": 4}


def _sanity_settings(value: Any) -> dict[str, int]:
    """The resolved ``sanity_check`` setting: ``{"images": N, "checkpoints": K}`` (``true``: the defaults).

    :raises StudyConfigError: Not a mapping of positive ints (or ``true``), or an unknown key.
    """
    if value is True:
        return dict(SANITY_DEFAULTS)
    if not isinstance(value, Mapping):
        raise StudyConfigError(
            f"sanity_check must be true or a mapping {{'images': N, 'checkpoints': K}}, got {value!r}"
        )
    unknown = sorted(set(value) - set(SANITY_DEFAULTS))
    if unknown:
        raise StudyConfigError(f"sanity_check has no key {unknown[0]!r}; accepted: {list(SANITY_DEFAULTS)}")
    out = {**SANITY_DEFAULTS, **value}
    for key, number in out.items():
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise StudyConfigError(f"sanity_check: {key} must be a positive int, got {number!r}")
    return out


def _check_name(kind: str, name: Any) -> None:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise StudyConfigError(
            f"{kind} name {name!r} must start with a letter or digit and hold only letters, digits, '_', '.', '-'"
        )
