"""Model names and types other packages contribute through entry points (``classifiers/model_registry.py``)."""

from __future__ import annotations

from xaitk_wcam.classifiers.model_registry import model_aliases, register_model_type, resolve_alias


def test_this_packages_aliases_are_registered():
    aliases = model_aliases()
    assert {"efficientnet-lite0", "scale-shapes-standard", "scale-shapes-robust"} <= set(aliases)
    assert aliases == sorted(aliases)


def test_an_alias_resolves_to_its_folder_and_an_unknown_one_to_none():
    folder = resolve_alias("scale-shapes-robust")  # shipped with the package: nothing is exported
    assert folder is not None and folder.name == "robust" and (folder / "config.json").is_file()
    assert resolve_alias("no-such-model") is None


def test_model_types_register_through_their_entry_point():
    from transformers import AutoConfig

    assert register_model_type("efficientnet_lite")
    assert AutoConfig.for_model("efficientnet_lite").model_type == "efficientnet_lite"
    assert not register_model_type("no_such_type")
