"""``BlackboxExplainer``: an xaitk-saliency black-box generator whose maps come with their space.

Every black-box method of this package (WCAM, pixel Sobol, Fourier-Sobol, the random baseline) is an
xaitk-saliency ``GenerateImageClassifierBlackboxSaliency`` (``generate`` returns ``n_classes x H x W`` maps,
as xaitk's tools expect) and a ``BlackboxExplainer``: ``explain(ref_image, blackbox)`` returns the whole
:class:`~xaitk_wcam.interfaces.explanation.Explanation`, whose declared space tells a consumer how to read
the maps. ``generate`` is ``explain(...).maps``.
"""

from __future__ import annotations

import abc

import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from xaitk_saliency.interfaces.gen_image_classifier_blackbox_sal import GenerateImageClassifierBlackboxSaliency

from xaitk_wcam.interfaces.explanation import PIXEL, Explanation


class BlackboxExplainer(GenerateImageClassifierBlackboxSaliency):
    """A black-box saliency generator that returns :class:`Explanation` objects.

    Subclasses implement :meth:`explain` and, when their maps are not pixel maps, override
    :attr:`map_spaces` (and :attr:`wavelet_levels` for wavelet maps), so that a study knows what it will get
    before it runs anything.
    """

    @property
    def map_spaces(self) -> tuple[str, ...]:
        """Spaces of the maps :meth:`explain` returns, the space of ``generate``'s maps first."""
        return (PIXEL,)

    @property
    def wavelet_levels(self) -> int | None:
        """Decomposition levels of the wavelet maps, or ``None`` when there are none."""
        return None

    @property
    def seeded(self) -> bool:
        """Whether the maps depend on a random seed (``seed`` in :meth:`get_config`)."""
        return "seed" in self.get_config()

    @abc.abstractmethod
    def explain(self, ref_image: np.ndarray, blackbox: ClassifyImage) -> Explanation:
        """Explain every class of ``blackbox`` on ``ref_image`` (see each implementation for the cost)."""

    def _generate(self, ref_image: np.ndarray, blackbox: ClassifyImage) -> np.ndarray:
        return self.explain(ref_image, blackbox).maps
