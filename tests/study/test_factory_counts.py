"""How many perturbers an nrtk factory makes, from its parameters (``study/factory_counts.py``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from nrtk.impls.perturb_factory import (
    PerturberLinspaceFactory,
    PerturberMultivariateFactory,
    PerturberOneStepFactory,
    PerturberStepFactory,
)
from nrtk.impls.perturb_image.photometric.blur import AverageBlurPerturber

from xaitk_wcam.study.factory_counts import COUNTERS, factory_counter


def test_each_rule_equals_the_built_factorys_length():
    cases = [
        (
            PerturberStepFactory,
            {"perturber": AverageBlurPerturber, "theta_key": "ksize", "start": 3, "stop": 12, "step": 2},
        ),
        (
            PerturberLinspaceFactory,
            {"perturber": AverageBlurPerturber, "theta_key": "ksize", "start": 1, "stop": 9, "num": 4},
        ),
        (
            PerturberMultivariateFactory,
            {"perturber": AverageBlurPerturber, "theta_keys": ["ksize"], "thetas": [[1, 3, 5]]},
        ),
    ]
    for cls, params in cases:
        count = factory_counter(cls)
        assert count is COUNTERS[cls.__name__]
        assert count(params) == len(cls(**params)), cls.__name__


def test_rules_by_hand():
    step = COUNTERS["PerturberStepFactory"]
    assert step({"start": 3, "stop": 1e9, "step": 2}) == math.ceil((1e9 - 3) / 2)  # counted, never listed
    assert step({"start": 5, "stop": 1, "step": 1}) == 0
    assert COUNTERS["PerturberLinspaceFactory"]({"num": -2}) == 0
    assert COUNTERS["PerturberMultivariateFactory"]({"thetas": [[1, 2], [3, 4, 5], np.arange(4)]}) == 24
    with pytest.raises(TypeError, match="list of lists"):
        COUNTERS["PerturberMultivariateFactory"]({"thetas": ["abc"]})


def test_subclasses_and_deprecated_factories_are_counted_and_others_are_not():
    class MyStep(PerturberStepFactory):
        pass

    assert factory_counter(MyStep) is COUNTERS["PerturberStepFactory"]
    assert COUNTERS["PerturberOneStepFactory"]({"theta_value": 3}) == 1
    assert factory_counter(PerturberOneStepFactory) is not None  # nrtk's one-step factory subclasses the step one
    import importlib
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        deprecated = importlib.import_module("nrtk.impls.perturb_image_factory")
    assert factory_counter(deprecated.PerturberLinspaceFactory) is COUNTERS["PerturberLinspaceFactory"]
    assert factory_counter(AverageBlurPerturber) is None and factory_counter(int) is None
