"""The ``SaliencyComparison`` interface: one number comparing a saliency map with a reference map.

A robustness study compares the map of a perturbed image with the map of its reference image;
implementations live in :mod:`xaitk_wcam.impls.comparison`. The interface mirrors xaitk-saliency's
``SaliencyMetric`` (``compute``, ``__call__`` alias, ``name``) with a second, reference map.

Every implementation states its **direction** in the class attribute ``direction``: ``"similarity"`` (higher =
closer, e.g. a correlation) or ``"distance"`` (higher = further, e.g. SSD). A study orients every comparison as
a change (positive = the perturbed map is further from the reference) with
:func:`xaitk_wcam.statistics.change.as_change`; nothing downstream guesses the direction from a class name. A
class that implements ``_compute`` without a valid ``direction`` is refused when it is defined (``TypeError``),
so a new comparison cannot forget it.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import numpy as np
from smqtk_core.plugfigurable import Plugfigurable

from xaitk_wcam.statistics.change import DIRECTIONS
from xaitk_wcam.utils.checks import check_map


class SaliencyComparison(Plugfigurable):
    """Compares two saliency maps of the same shape.

    ``compute`` is a template: it checks that both maps are real 2-D arrays of the same shape
    without NaN or infinite values (``ValueError``/``TypeError`` otherwise), then calls
    ``_compute`` with float64 copies, so implementations never modify the caller's arrays.

    Implementations set :attr:`direction`.
    """

    #: ``"similarity"`` (higher = more similar maps; a map compared with itself gives the highest value, 1 for
    #: this package's similarities) or ``"distance"`` (higher = more different; a map compared with itself gives
    #: the lowest value, 0 for this package's distances). Required of every implementation.
    direction: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Refuse a class that implements ``_compute`` without a ``direction`` in :data:`DIRECTIONS`."""
        super().__init_subclass__(**kwargs)
        if getattr(cls._compute, "__isabstractmethod__", False):
            return  # still abstract: an intermediate base may leave the direction to its subclasses
        direction = getattr(cls, "direction", None)
        if not isinstance(direction, str) or direction not in DIRECTIONS:
            raise TypeError(
                f"{cls.__name__}.direction must be one of {list(DIRECTIONS)} (a class attribute saying whether "
                f"higher values mean more similar or more different maps), got {direction!r}"
            )

    def compute(self, sal_map: np.ndarray, ref_sal_map: np.ndarray) -> float:
        """Compare ``sal_map`` with ``ref_sal_map``.

        :param sal_map: Map ``H x W`` (e.g. of a perturbed image).
        :param ref_sal_map: Reference map ``H x W`` (e.g. of the unperturbed image).
        :return: The comparison value (see each implementation for its range; :attr:`direction` says which
            way it points).
        :raises ValueError: Maps of different shapes, or two maps that carry their space (read from explanations)
            in different spaces or wavelet levels.
        """
        spaces = {(getattr(m, "space", None), getattr(m, "geometry", {}).get("levels")) for m in (sal_map, ref_sal_map)}
        if len(spaces) > 1 and all(space is not None for space, _ in spaces):
            (first, first_levels), (second, second_levels) = sorted(spaces, key=str)
            raise ValueError(
                f"sal_map and ref_sal_map must be maps of one space (and wavelet levels); got a {first} map"
                f"{'' if first_levels is None else f' of levels={first_levels}'} and a {second} map"
                f"{'' if second_levels is None else f' of levels={second_levels}'}"
            )
        a = check_map(sal_map, "sal_map")
        b = check_map(ref_sal_map, "ref_sal_map")
        if a.shape != b.shape:
            raise ValueError(f"sal_map and ref_sal_map must have the same shape, got {a.shape} and {b.shape}")
        return float(self._compute(a, b))

    def __call__(self, sal_map: np.ndarray, ref_sal_map: np.ndarray) -> float:
        """Alias of :meth:`compute`."""
        return self.compute(sal_map, ref_sal_map)

    @property
    def name(self) -> str:
        """The implementation's class name."""
        return self.__class__.__name__

    @abc.abstractmethod
    def _compute(self, sal_map: np.ndarray, ref_sal_map: np.ndarray) -> float:
        """Compare two validated float64 maps of the same shape."""
