"""The statistics of a robustness-versus-saliency study: pure numpy/scipy, no knowledge of studies, files or plugins.

- :mod:`~xaitk_wcam.statistics.change`: a comparison's direction and its values oriented as changes
  (0 = identical maps, positive = further from the reference);
- :mod:`~xaitk_wcam.statistics.paired`: the paired, one-sided verdict of one method x comparison x perturbation
  over images (``moves`` / ``within noise`` / ``too few images``);
- :mod:`~xaitk_wcam.statistics.association`: does a feature (a map's change, a scale share) go with the model's
  outcome (Spearman correlation with the confidence drop, AUROC for a flip), with bootstrap intervals;
- :mod:`~xaitk_wcam.statistics.margin`: per image, did the map move beyond its noise, and did it move before,
  with or after the prediction flipped along a sweep of strengths (the warning margin).

Names are resolved on first use (as the package's facade), so importing this package loads no scipy module.
"""

from __future__ import annotations

import lazy_loader

_SUBMOD_ATTRS = {
    "change": ["DIRECTIONS", "DISTANCE", "IDENTICAL", "SIMILARITY", "as_change"],
    "paired": [
        "ALPHA",
        "ATOL",
        "METHOD",
        "MIN_IMAGES",
        "MOVES",
        "TOO_FEW_IMAGES",
        "VERDICTS",
        "WITHIN_NOISE",
        "PairedVerdict",
        "minimum_images",
        "paired_verdict",
    ],
    "association": [
        "AUROC",
        "CONFIDENCE_LEVEL",
        "N_RESAMPLES",
        "SPEARMAN",
        "Association",
        "auroc_association",
        "spearman_association",
    ],
    "margin": [
        "FLIP_ONLY",
        "INCOMPLETE",
        "MAP_AFTER",
        "MAP_FIRST",
        "MAP_ONLY",
        "MARGIN_CLASSES",
        "NEITHER",
        "SAME_STRENGTH",
        "NoiseThreshold",
        "WarningMargin",
        "noise_threshold",
        "warning_margin",
    ],
}

__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submod_attrs=_SUBMOD_ATTRS)
