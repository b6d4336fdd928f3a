"""Draw the README's figure with the package's own functions: WCAM of ``skimage.data.chelsea()`` beside its
scale profile, explaining the offline EfficientNet-Lite0's prediction (ImageNet class 285, Egyptian cat).

    python docs/scripts/readme_figure.py            # -> docs/_static/wcam_chelsea.png

It runs WCAM at its default budget (``grid_size=28``, ``nb_design=8``: 6,288 forward passes), so it takes a few
minutes on a CPU; the output is committed, and nothing builds it at docs-build or test time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import skimage.data

from xaitk_wcam import WCAM
from xaitk_wcam.models import efficientnet_lite0_classifier
from xaitk_wcam.utils.target_class import TargetClassBlackbox
from xaitk_wcam.viz.figures import uncertain_cells, wcam_figure

OUT = Path(__file__).resolve().parents[1] / "_static" / "wcam_chelsea.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--grid-size", type=int, default=28)
    parser.add_argument("--nb-design", type=int, default=8)
    args = parser.parse_args()

    classifier = efficientnet_lite0_classifier()
    image = skimage.data.chelsea()
    labels = list(classifier.get_labels())
    probabilities = classifier.classify_array(image[None])[0]
    index = int(probabilities.argmax())
    start = time.perf_counter()
    wcam = WCAM(grid_size=args.grid_size, nb_design=args.nb_design)
    # Explain the predicted class only (a one-label view of the classifier, as a study does).
    result = wcam.explain(image, TargetClassBlackbox(classifier, labels[index]))
    seconds = time.perf_counter() - start
    fig = wcam_figure(
        image,
        result.wavelet_maps[0],
        result.spatial_maps[0],
        result.scale_profile[0],
        wcam.levels,
        title=f"chelsea: {labels[index]} ({probabilities[index]:.2f}), WCAM with {result.n_evaluations:,} "
        f"forward passes, stability {result.stability:.2f}",
        uncertain=uncertain_cells(result),
        per_level=False,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    profile = ", ".join(f"{share:.3f}" for share in result.scale_profile[0])
    print(f"{args.out}: {labels[index]} ({probabilities[index]:.3f}), {result.n_evaluations} passes in {seconds:.1f} s")
    print(f"scale profile (approximation, coarse -> fine): {profile}; stability {result.stability:.3f}")


if __name__ == "__main__":
    main()
