"""How many perturbers an nrtk factory makes, read from its parameters without building it.

Asking a built factory (``len``) can cost what ``max_perturbations`` guards against: nrtk's step factory lists
every theta to count them (a 5e8-step sweep: 77 s and 4.9 GB in issue 20's probe), the multivariate factory
builds its whole product in its constructor, and the deprecated factories of ``nrtk.impls.perturb_image_factory``
(still registered) are not subclasses of the current ones. So the study counts each factory from its config, by
the rule of its nrtk class (current or deprecated, or a subclass), and refuses a factory that no rule counts.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from typing import Any

#: nrtk modules whose factories are counted: the current one and the deprecated one (nrtk 1.1).
FACTORY_MODULES = ("nrtk.impls.perturb_factory", "nrtk.impls.perturb_image_factory")


def _step(params: Mapping[str, Any]) -> int:
    """``PerturberStepFactory``: ``ceil((stop - start) / step)`` thetas (nrtk's own formula), none when negative."""
    return max(0, math.ceil((float(params["stop"]) - float(params["start"])) / float(params["step"])))


def _linspace(params: Mapping[str, Any]) -> int:
    """``PerturberLinspaceFactory``: ``num`` thetas."""
    return max(0, int(params["num"]))


def _one_step(params: Mapping[str, Any]) -> int:
    """``PerturberOneStepFactory``: one theta."""
    return 1


def _product(params: Mapping[str, Any]) -> int:
    """``PerturberMultivariateFactory``: the product of the lengths of its ``thetas`` lists."""
    thetas = params["thetas"]
    if isinstance(thetas, (str, bytes)) or any(isinstance(values, (str, bytes)) for values in thetas):
        raise TypeError(f"thetas must be a list of lists of values, got {thetas!r}")
    return math.prod(len(values) for values in thetas)


#: nrtk factory class name -> how many perturbers its parameters make.
COUNTERS: dict[str, Callable[[Mapping[str, Any]], int]] = {
    "PerturberStepFactory": _step,
    "PerturberLinspaceFactory": _linspace,
    "PerturberOneStepFactory": _one_step,
    "PerturberMultivariateFactory": _product,
}


def factory_counter(cls: type) -> Callable[[Mapping[str, Any]], int] | None:
    """The counting rule of factory class ``cls`` (one of nrtk's, or a subclass), or ``None`` when none applies."""
    for module_name in FACTORY_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # an nrtk without that module
            continue
        for name, count in COUNTERS.items():
            known = getattr(module, name, None)
            if isinstance(known, type) and issubclass(cls, known):
                return count
    return None
