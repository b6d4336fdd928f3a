"""Model names and model types that other packages contribute, found through entry points.

The HuggingFace adapter knows nothing of particular models. Packages (this one's :mod:`xaitk_wcam.models`
included) declare, in their ``pyproject.toml``:

- ``[project.entry-points."xaitk_wcam.model_aliases"]``: ``alias = "package.module:function"``, where
  ``function(alias)`` returns the local ``save_pretrained`` folder of the model the alias names (so a config
  can say ``"efficientnet-lite0"`` instead of a machine-specific path);
- ``[project.entry-points."xaitk_wcam.model_types"]``: ``model_type = "package.module:register"``, where
  ``register()`` registers a ``transformers`` config / model pair that ``transformers`` itself does not
  know, so that a folder of that ``model_type`` loads (without ``trust_remote_code``).

Nothing is imported until a name is looked up.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

ALIAS_GROUP = "xaitk_wcam.model_aliases"
MODEL_TYPE_GROUP = "xaitk_wcam.model_types"


def model_aliases() -> list[str]:
    """Every registered model alias, sorted."""
    return sorted({ep.name for ep in entry_points(group=ALIAS_GROUP)})


def resolve_alias(name: str) -> Path | None:
    """The folder of the model alias ``name``, or ``None`` when no package registers that alias."""
    for ep in entry_points(group=ALIAS_GROUP, name=name):
        return Path(ep.load()(name))
    return None


def register_model_type(model_type: str) -> bool:
    """Run the registration of ``model_type`` if a package provides one; return whether one ran."""
    for ep in entry_points(group=MODEL_TYPE_GROUP, name=model_type):
        ep.load()()
        return True
    return False
