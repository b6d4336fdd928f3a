"""What an explanation is: per-class maps, each declared in the space it lives in.

A saliency map is only meaningful with its coordinate system. This package's methods return maps in
three spaces, and every consumer (metrics, the study, the report, figures) dispatches on the declared
space, never on a method's class or name:

- ``"pixel"`` (:data:`PIXEL`): ``H x W``, aligned with the image (overlays it);
- ``"wavelet"`` (:data:`WAVELET`): ``H x W`` in the layout of ``pywt.coeffs_to_array`` of a ``levels``-level
  DWT of the image padded to ``padded_shape`` (:mod:`xaitk_wcam.wavelets.layout`);
- ``"spectrum"`` (:data:`SPECTRUM`): ``H x W`` on the centred Fourier spectrum (``numpy.fft.fftshift``: the DC
  component at ``(H // 2, W // 2)``).

Maps read from an explanation (:meth:`Explanation.maps_in`, :attr:`Explanation.maps`, ``wavelet_maps``,
``spatial_maps``) carry their space and geometry (:class:`SpaceMaps`, a numpy array with two attributes, also on
each map sliced from them), so a metric handed one directly (``compute(image, result.spatial_maps[0], ...)``)
refuses a map of a space it does not read, or of other ``levels``, as ``compute_explanation`` does
(:func:`check_map_space`). A plain array carries nothing and is taken as the caller says.

An :class:`Explanation` holds one or more of them (WCAM gives a wavelet map and its pixel reprojection);
:attr:`Explanation.space` is the one ``generate`` returns. :class:`WaveletExplanation` is the one code path of
every wavelet-domain method (WCAM, WAM): importance on a grid of cells over the coefficient layout, from which
the wavelet map, its pixel reprojection and the scale profile all follow. Metrics declare the spaces they accept with a
``map_spaces`` class attribute (:func:`accepted_spaces`; a metric without it accepts any map), so a pixel
metric is never handed a spectrum map. ``explain(ref_image, classifier, ...) -> Explanation`` is the one
verb of this package's saliency methods; ``generate`` stays xaitk-saliency's.
"""

from __future__ import annotations

import abc
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

PIXEL, WAVELET, SPECTRUM = "pixel", "wavelet", "spectrum"
#: Every map space, in the order a consumer that accepts several prefers them.
MAP_SPACES: tuple[str, ...] = (PIXEL, WAVELET, SPECTRUM)


class SpaceMaps(np.ndarray):
    """A numpy array of maps that knows its map space (:attr:`space`) and geometry (:attr:`geometry`, e.g.
    ``{"levels": 3}``); slices, copies and element-wise results keep both, reductions give plain numbers, and it
    pickles (and saves) as a plain array. Made by :func:`with_space`."""

    space: str | None = None
    geometry: dict[str, Any] = {}  # noqa: RUF012 - replaced per instance, never mutated

    def __array_finalize__(self, obj: Any) -> None:
        if obj is not None:
            self.space = getattr(obj, "space", None)
            self.geometry = getattr(obj, "geometry", {})

    def __array_wrap__(self, array: Any, context: Any = None, return_scalar: bool = False) -> Any:
        if return_scalar or array.ndim == 0:  # a reduction: a number, not a 0-d map
            return array.view(np.ndarray)[()]
        return super().__array_wrap__(array, context, return_scalar)

    def __reduce__(self) -> Any:
        return np.asarray(self).__reduce__()


def with_space(maps: np.ndarray, space: str, geometry: dict[str, Any] | None = None) -> SpaceMaps:
    """A view of ``maps`` that carries ``space`` and ``geometry`` (no copy)."""
    tagged = np.asarray(maps).view(SpaceMaps)
    tagged.space, tagged.geometry = space, dict(geometry or {})
    return tagged


def check_map_space(metric: Any, sal_map: Any, name: str = "sal_map") -> None:
    """Refuse a map that says it lives in a space ``metric`` does not read, or (wavelet maps) has other ``levels``.

    A map carries its space when it comes from an explanation (:class:`SpaceMaps`); a plain array passes. The
    metric's own ``check_geometry`` decides when it has one (the faithfulness metrics), else its declared spaces
    (:func:`accepted_spaces`) and levels (:func:`accepted_levels`).

    :raises ValueError: Naming the metric, the map's space (and levels) and what the metric reads.
    """
    space = getattr(sal_map, "space", None)
    if space is None:
        return
    geometry = getattr(sal_map, "geometry", {})
    check = getattr(metric, "check_geometry", None)
    if callable(check):
        check(space, geometry)
        return
    metric_name = getattr(metric, "name", type(metric).__name__)
    accepted = accepted_spaces(metric)
    if space not in accepted:
        raise ValueError(f"{metric_name} reads {', '.join(accepted)} maps; {name} is a {space} map")
    levels, map_levels = accepted_levels(metric), geometry.get("levels")
    if space == WAVELET and levels is not None and map_levels is not None and int(map_levels) != levels:
        raise ValueError(
            f"{metric_name} has levels={levels} but {name} is a wavelet map of levels={map_levels}: its layout "
            "orders other coefficients; configure the metric with the method's levels"
        )


class Explanation(abc.ABC):
    """Per-class maps of one image in one or more spaces.

    Subclasses (dataclasses) provide the attributes ``labels`` (class labels, the maps' first axis),
    ``n_evaluations`` (forward passes spent; 0 for a method that needs none) and ``space`` (the space of
    :attr:`maps`), and implement :attr:`spaces` and :meth:`_maps_in`.

    Stochastic methods may fill ``stability`` (a number in ``[-1, 1]``; see each method) so that a
    consumer can tell a stable map from a noisy one; it is ``None`` where the method does not measure it.
    """

    labels: list[Hashable]
    n_evaluations: int
    space: str
    stability: float | None = None

    @property
    @abc.abstractmethod
    def spaces(self) -> tuple[str, ...]:
        """Spaces this explanation has maps in, :attr:`space` first."""

    @abc.abstractmethod
    def _maps_in(self, space: str) -> np.ndarray:
        """``n_classes x H x W`` maps in ``space`` (one of :attr:`spaces`)."""

    def maps_in(self, space: str) -> np.ndarray:
        """``n_classes x H x W`` maps in ``space``.

        :raises ValueError: The explanation has no map in ``space``.
        """
        if space not in self.spaces:
            raise ValueError(f"this explanation has {', '.join(self.spaces)} maps, not {space!r} maps")
        return with_space(self._maps_in(space), space, self.geometry(space))

    @property
    def maps(self) -> np.ndarray:
        """The maps in :attr:`space` (what the method's ``generate`` returns)."""
        return self.maps_in(self.space)

    def geometry(self, space: str) -> dict[str, Any]:
        """What a consumer needs to read a map of ``space`` beyond its shape (``levels`` for wavelet maps)."""
        return {}

    def level_shares(self) -> np.ndarray | None:
        """``n_classes x (levels + 1)`` share of the non-negative importance per wavelet level, coarse to fine
        (the WCAM scale profile), or ``None`` without a wavelet map. Rows sum to 1, or are all 0."""
        if WAVELET not in self.spaces:
            return None
        from xaitk_wcam.wavelets.layout import level_index_map
        from xaitk_wcam.wavelets.reprojection import layout_map

        levels = int(self.geometry(WAVELET)["levels"])
        maps = layout_map(np.clip(np.asarray(self.maps_in(WAVELET)), 0.0, None), levels)  # any image shape
        level_of = level_index_map(*maps.shape[1:], levels).ravel()
        mass = np.stack([np.bincount(level_of, m.ravel(), minlength=levels + 1) for m in maps])
        total = mass.sum(axis=1, keepdims=True)
        return np.divide(mass, total, out=np.zeros_like(mass), where=total > 0)


@dataclass
class MapExplanation(Explanation):
    """An explanation made of ready maps, e.g. the output of any xaitk ``generate``.

    :param maps_by_space: Space -> ``n_classes x H x W`` maps; the first key is :attr:`space`.
    :param labels: Class labels, the maps' first axis.
    :param n_evaluations: Forward passes spent (0 when unknown or none).
    :param levels: Decomposition levels, required for a wavelet map.
    """

    maps_by_space: dict[str, np.ndarray]
    labels: list[Hashable]
    n_evaluations: int = 0
    levels: int | None = None
    stability: float | None = None
    space: str = field(init=False)

    def __post_init__(self) -> None:
        if not self.maps_by_space:
            raise ValueError("maps_by_space must hold at least one map space")
        unknown = [s for s in self.maps_by_space if s not in MAP_SPACES]
        if unknown:
            raise ValueError(f"map spaces must be among {list(MAP_SPACES)}, got {unknown}")
        if WAVELET in self.maps_by_space and self.levels is None:
            raise ValueError("a wavelet map needs its decomposition levels")
        self.space = next(iter(self.maps_by_space))

    @property
    def spaces(self) -> tuple[str, ...]:
        return tuple(self.maps_by_space)

    def _maps_in(self, space: str) -> np.ndarray:
        return self.maps_by_space[space]

    def geometry(self, space: str) -> dict[str, Any]:
        return {"levels": self.levels} if space == WAVELET else {}


class WaveletExplanation(Explanation):
    """Importance on a grid of cells over the padded wavelet coefficient layout, and every map that follows.

    The grid is ``rows x cols`` cells over the ``Hp x Wp`` layout of a ``levels``-level DWT of the image padded
    (symmetric) to ``padded_shape`` (:mod:`xaitk_wcam.wavelets.reprojection`): WCAM's ``g x g`` grid of Sobol
    variables, or one cell per coefficient for WAM's full-resolution map. Subclasses (dataclasses) provide
    :attr:`cell_importance` and the attributes ``levels``, ``image_shape``, ``padded_shape`` (and optionally
    ``wavelet``), besides those of :class:`Explanation`; the maps are computed on first access, so a
    1000-class explanation only pays for the maps it reads:

    - :attr:`wavelet_maps` (space ``"wavelet"``): ``n_classes x H x W`` importance in the coefficient layout,
      resampled (nearest) from the padded layout when the image was padded, so that band boundaries keep their
      relative positions; each class divided by its maximum;
    - :attr:`spatial_maps` (space ``"pixel"``): the importance of every coefficient painted over the pixels it
      covers (its ``footprint x footprint`` block) and summed over bands, cropped to ``H x W``; each class
      divided by its maximum. A grid with fewer than 2 cells per side of the approximation band (WCAM's
      ``grid_size < 2**(levels + 1)``) gives a nearly flat pixel map, with a ``RuntimeWarning``;
    - :attr:`scale_profile`: ``n_classes x (levels + 1)`` share of importance per level, coarse to fine (0: the
      approximation band, ``levels``: the finest details); rows sum to 1, or are all 0. A cell straddling two
      levels is split by area.
    """

    levels: int
    image_shape: tuple[int, int]
    padded_shape: tuple[int, int]
    wavelet: str | None = None

    @property
    @abc.abstractmethod
    def cell_importance(self) -> np.ndarray:
        """``n_classes x rows x cols`` non-negative importance of the grid cells over the padded layout."""

    @cached_property
    def wavelet_maps(self) -> np.ndarray:
        from xaitk_wcam.wavelets.reprojection import wavelet_maps

        maps = wavelet_maps(self.cell_importance, self.padded_shape, self.image_shape, normalise=True)
        return with_space(maps, WAVELET, self.geometry(WAVELET))

    @cached_property
    def spatial_maps(self) -> np.ndarray:
        from xaitk_wcam.wavelets.reprojection import spatial_maps, warn_coarse_grid

        warn_coarse_grid(self.cell_importance.shape[-2:], self.levels, stacklevel=3)

        maps = spatial_maps(self.cell_importance, self.padded_shape, self.levels, self.image_shape, normalise=True)
        return with_space(maps, PIXEL)

    @cached_property
    def scale_profile(self) -> np.ndarray:
        from xaitk_wcam.wavelets.reprojection import scale_profile

        return scale_profile(self.cell_importance, self.padded_shape, self.levels)

    @property
    def spaces(self) -> tuple[str, ...]:
        return (WAVELET, PIXEL) if self.space == WAVELET else (PIXEL, WAVELET)

    def _maps_in(self, space: str) -> np.ndarray:
        return self.wavelet_maps if space == WAVELET else self.spatial_maps

    def geometry(self, space: str) -> dict[str, Any]:
        if space != WAVELET:
            return {}
        geometry: dict[str, Any] = {"levels": self.levels, "padded_shape": self.padded_shape}
        if self.wavelet is not None:
            geometry["wavelet"] = self.wavelet
        return geometry

    def level_shares(self) -> np.ndarray:
        return self.scale_profile


def accepted_spaces(metric: object) -> tuple[str, ...]:
    """The map spaces ``metric`` accepts: its ``map_spaces`` attribute, or every space when it declares none.

    This package's metrics declare theirs (faithfulness metrics and ``SpatialSpread``: pixel; ``ScaleShare``,
    ``FineScaleShare``, ``ReconstructionDepth``: wavelet); a metric of another package (xaitk's ``Entropy``)
    is taken to accept any 2-D map.
    """
    declared = getattr(metric, "map_spaces", None)
    return MAP_SPACES if declared is None else tuple(s for s in MAP_SPACES if s in declared)


def accepted_levels(metric: object) -> int | None:
    """The decomposition levels of the wavelet maps ``metric`` reads: its ``levels`` (``ScaleShare``,
    ``FineScaleShare``, ``ReconstructionDepth`` and the wavelet faithfulness metrics take the levels of the maps
    they score as a keyword), or ``None`` for a metric that reads any wavelet map or none."""
    spaces = accepted_spaces(metric)
    if WAVELET not in spaces or spaces == MAP_SPACES:
        return None
    levels = getattr(metric, "levels", None)
    return int(levels) if isinstance(levels, int) else None


def choose_space(available: Sequence[str], accepted: Sequence[str]) -> str | None:
    """The space a metric should score: the explanation's own (``available[0]``) when accepted, else the first
    other available space the metric accepts, else ``None`` (the metric does not apply)."""
    for space in available:
        if space in accepted:
            return space
    return None
