"""A study's work items (``study/items.py``): image hashes, failed items and the metadata of an item's record."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from study_helpers import fake_config

from xaitk_wcam.study import resolve_config
from xaitk_wcam.study.items import OK, ImageUnit, Reference, failed_item, image_hash, item_record
from xaitk_wcam.study.plan import StudyPlan
from xaitk_wcam.study.store import item_key


@pytest.fixture(scope="module")
def plan() -> StudyPlan:
    return StudyPlan.from_resolved(resolve_config(fake_config()), "digest")


def test_image_hash_is_the_sha256_of_shape_dtype_and_pixels():
    image = np.arange(6, dtype=np.uint8).reshape(2, 3)
    expected = hashlib.sha256(b"(2, 3)uint8" + image.tobytes()).hexdigest()
    assert image_hash(image) == expected == image_hash(np.asfortranarray(image))
    assert image_hash(image.reshape(3, 2)) != expected and image_hash(image.astype(np.int16)) != expected
    assert image_hash(None) is None


def test_a_failed_item_has_one_row_per_method_with_its_status(plan):
    unit = ImageUnit(4, "img4", None, None, [0, 1, 2], error="OSError: truncated")
    item = failed_item(plan, unit, 2, "OSError: truncated")
    assert item.body["item_status"] == "OSError: truncated"
    assert [(r["method"], r["_method_index"], r["perturbation"]) for r in item.body["rows"]] == [
        ("wcam", 0, plan.item_label(2)), ("sw", 1, plan.item_label(2))
    ]  # fmt: skip
    assert {r["status"] for r in item.body["rows"]} == {"OSError: truncated"}


def test_an_items_record_carries_its_image_and_perturbation(plan):
    unit = ImageUnit(3, "img3", np.zeros((2, 2), np.uint8), "red", [0, 1], image_hash="h")
    reference = item_record(plan, unit, 0, {"rows": [], "item_status": OK})
    assert reference["key"] == item_key(3, 0) and reference["perturbation"] == "reference"
    assert (reference["group"], reference["axis"], reference["strength"]) == (None, None, None)
    assert reference["config_hash"] == "digest" and reference["image_hash"] == "h"
    perturbed = item_record(plan, unit, 2, {"rows": [1], "item_status": OK})
    p = plan.perturbations[1]
    assert (perturbed["group"], perturbed["axis"], perturbed["strength"]) == (p.group, "ksize", 5.0)
    assert perturbed["perturbation_index"] == 2 and perturbed["rows"] == [1]


def test_a_failed_reference_carries_only_its_status(plan):
    reference = Reference.of(plan.task, {"item_status": "ValueError: black image"}, None)
    assert reference.status == "ValueError: black image" and reference.targets is None and reference.maps == {}
