"""What each part of a study config may name (``study/plugins.py``): sections, their interfaces and roles, and the
implementations discovery finds under both of their type strings."""

from __future__ import annotations

import pytest
from nrtk.impls.perturb_factory import PerturberStepFactory
from nrtk.impls.perturb_image.photometric.blur import AverageBlurPerturber
from nrtk.interfaces import PerturbFactory, PerturbImage
from xaitk_saliency.impls.gen_image_classifier_blackbox_sal.slidingwindow import SlidingWindowStack

from xaitk_wcam.impls.comparison import SSD
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal import WCAM
from xaitk_wcam.interfaces.image_source import ImageSource
from xaitk_wcam.sources import FolderImages, SkimageImages
from xaitk_wcam.study.plugins import (
    UPSTREAM_PLUGIN_MODULES,
    implementations,
    plugin_table,
    public_names,
    role_of,
    section_interfaces,
    sections,
    type_key,
)


def test_sections_and_their_interfaces():
    assert sections() == ("classifier", "detector", "images", "perturbers", "saliency", "metrics")
    assert section_interfaces("images") == [(ImageSource, "images")]
    assert section_interfaces("perturbers") == [(PerturbImage, "perturber"), (PerturbFactory, "factory")]
    assert all(role == "metric" for _, role in section_interfaces("metrics"))


def test_roles():
    assert role_of(PerturberStepFactory, "perturbers") == "factory"
    assert role_of(AverageBlurPerturber, "perturbers") == "perturber"
    assert role_of(WCAM, "saliency") == "saliency" and role_of(SSD, "metrics") == "metric"
    assert role_of(WCAM, "metrics") is None


def test_type_keys_and_implementations_under_both():
    assert type_key(SkimageImages) == "xaitk_wcam.sources.skimage_images.SkimageImages"
    assert type_key(PerturberStepFactory) == "nrtk.impls.perturb_factory.PerturberStepFactory"  # nrtk's public path
    found = implementations("perturbers")
    assert found[type_key(PerturberStepFactory)] is PerturberStepFactory
    assert found[f"{PerturberStepFactory.__module__}.PerturberStepFactory"] is PerturberStepFactory
    assert list(found) == sorted(found)
    assert implementations("perturbers") is found  # discovered once per process and section
    assert implementations("perturbers", refresh=True) == found
    with pytest.raises(ValueError, match="section must be one of"):
        implementations("classifiers")


def test_upstream_plugins_and_the_table():
    assert SlidingWindowStack.__module__ in UPSTREAM_PLUGIN_MODULES  # shipped, not registered: imported by name
    assert type_key(SlidingWindowStack) in public_names("saliency")
    table = plugin_table(["images", "metrics"])
    assert set(table) == {"images", "metrics"}
    assert {type_key(FolderImages), type_key(SkimageImages)} <= set(table["images"])
    assert type_key(SSD) in table["metrics"] and table["images"] == sorted(table["images"])
