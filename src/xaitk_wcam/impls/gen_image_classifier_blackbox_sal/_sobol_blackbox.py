"""The black-box half of every Sobol attribution method: stream a design through a classifier.

WCAM (masks on wavelet coefficients), pixel-space Sobol (Fel et al. 2021) and Fourier-Sobol differ
only in how a ``g x g`` mask becomes a perturbed image. This module owns everything else: the keywords
(design size, estimator, adaptive budget), the batch loop, handing images to the blackbox in the input's
dtype and range (alpha untouched) and reading its confidences in label order. The designs and estimators
are :mod:`xaitk_wcam.sobol`'s.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.interfaces.blackbox_explainer import BlackboxExplainer
from xaitk_wcam.interfaces.explanation import Explanation
from xaitk_wcam.sobol import BASE_BLOCK, ESTIMATORS, ClassicRun, Estimate, ImportanceRun, check_nb_design
from xaitk_wcam.sobol.design import BLOCK_BYTES
from xaitk_wcam.sobol.importance import Allocation
from xaitk_wcam.sobol.runs import CLASS_BLOCK, importance_schedule
from xaitk_wcam.utils.checks import check_choice, check_float, check_int
from xaitk_wcam.utils.confidences import confidences
from xaitk_wcam.utils.images import split_alpha, value_range, write_input_dtype
from xaitk_wcam.utils.progress import NoProgress, check_progress, progress_bar

#: Bytes of float32 perturbed images built and cast together: a few images, so the temporaries stay in cache.
_CHUNK_BYTES = 1 << 22

#: Bytes per pixel and channel of one image in a batch, counted conservatively: the float32 perturbed image,
#: its copy in the input's dtype (at most 4 bytes) and the classifier's float32 input.
BYTES_PER_PIXEL = 12

#: Bytes per pixel and channel of the explained image's own float copies (padded image, its layout or spectrum).
IMAGE_COPY_BYTES = 16

#: Bytes per dimension of a scrambled Sobol engine while scipy builds it (its ``30 x 30`` int64 scrambling
#: matrices, twice), ``2 d`` dimensions: 22 MB at ``grid_size=28``.
SOBOL_ENGINE_BYTES = 2 * 30 * 30 * 8

#: Bytes per evaluation besides the outputs: the row and cell indices of a design that grows (int64).
INDEX_BYTES = 32

#: Bytes per evaluation and class of the outputs (float32, the old and new ones while a design grows: 6) and of
#: the estimators' float64 temporaries (a copy and ``d x N`` terms, for at most :data:`CLASS_BLOCK` classes: 32).
OUTPUT_BYTES, ESTIMATOR_BYTES = 6, 32

#: Estimator names: the classic ones (Saltelli's design) and ``"importance"`` (:mod:`xaitk_wcam.sobol.importance`).
ESTIMATOR_NAMES = (*ESTIMATORS, "importance")

#: ``nb_design`` value that grows the design until the map is stable (see :class:`SobolSaliency`).
AUTO = "auto"

# masks (n x g x g float32) -> perturbed colour images (n x H x W x C' float32, the input's units)
Perturber = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class SobolResult(Explanation):
    """What every Sobol explanation holds (the maps are each method's: subclasses add them).

    :param sobol_indices: ``n_classes x grid_size x grid_size`` raw total Sobol indices.
    :param labels: Class labels, in the order of ``blackbox.get_labels()``.
    :param n_evaluations: Images sent to the blackbox.
    :param image_shape: ``(H, W)`` of the explained image.
    :param stability: Split-half reliability of the cell ranking (:class:`xaitk_wcam.sobol.Estimate`).
    :param index_std: ``n_classes x grid_size x grid_size`` standard errors of ``sobol_indices``.
    """

    sobol_indices: np.ndarray
    labels: list
    n_evaluations: int
    image_shape: tuple[int, int]
    stability: float | None = None
    index_std: np.ndarray | None = None

    @classmethod
    def from_estimate(cls, estimate: Estimate, labels: list, image_shape: tuple[int, int]) -> SobolResult:
        return cls(
            estimate.indices,
            labels,
            estimate.n_evaluations,
            image_shape,
            stability=estimate.stability,
            index_std=estimate.index_std,
        )

    @property
    def spaces(self) -> tuple[str, ...]:
        return (self.space,)


class SobolSaliency(BlackboxExplainer):
    """The keywords every Sobol method shares, validated; subclasses add theirs and the mask -> image step.

    :param grid_size: Side ``g`` of the grid of Sobol variables (``g**2`` variables).
    :param nb_design: Sobol design size ``N`` (a power of two); cost at most ``N * (g**2 + 2)`` forward passes.
        Or ``"auto"``: start at ``N = 8`` and double (reusing every evaluation) until the map's split-half
        stability reaches ``1 - tolerance`` or the next doubling would exceed ``max_evaluations``.
    :param estimator: ``"importance"`` (importance-sampled base points, :mod:`xaitk_wcam.sobol.importance`) or
        a classic total-order estimator on Saltelli's design: ``"jansen"``, ``"homma"``, ``"janon"``.
    :param batch_size: Perturbed images per call to ``blackbox.classify_images``.
    :param seed: Seed of the Sobol scrambling; the same seed gives bit-identical maps.
    :param max_evaluations: Forward-pass budget of ``nb_design="auto"`` (required then, refused otherwise).
    :param tolerance: Stop ``"auto"`` growth once the stability is at least ``1 - tolerance``; in ``(0, 1)``.
    :param progress: A progress bar of the forward passes (done / total, ETA) on standard error: ``True``,
        ``False``, or ``None`` (auto: in an interactive terminal only; :mod:`xaitk_wcam.utils.progress`). The maps
        do not depend on it, and it is not part of :meth:`get_config` (nor of a study's config hash).
    """

    #: What the progress bar calls the method (default: the class name).
    progress_label: str | None = None

    def __init__(
        self,
        *,
        grid_size: int,
        nb_design: int | str,
        estimator: str,
        batch_size: int,
        seed: int,
        max_evaluations: int | None = None,
        tolerance: float = 0.2,
        progress: bool | None = None,
    ) -> None:
        self.progress = check_progress(progress)
        self.grid_size = check_int("grid_size", grid_size, 1)
        self.estimator = check_choice("estimator", estimator, ESTIMATOR_NAMES)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.seed = check_int("seed", seed, 0)
        self.tolerance = check_float("tolerance", tolerance, 0.0, 1.0)
        if nb_design == AUTO:
            if max_evaluations is None:
                raise ValueError(
                    "max_evaluations is required with nb_design='auto' (the forward-pass budget), "
                    f"e.g. {4 * self.minimal_evaluations}"
                )
            self.max_evaluations = check_int("max_evaluations", max_evaluations, 1)
            if self.max_evaluations < self.minimal_evaluations:
                raise ValueError(
                    f"max_evaluations={max_evaluations} is below one minimal design (nb_design={BASE_BLOCK}: "
                    f"{self.minimal_evaluations} forward passes at grid_size={self.grid_size}); accepted: >= "
                    f"{self.minimal_evaluations}"
                )
        else:
            if isinstance(nb_design, str):
                raise ValueError(f"nb_design must be a power of two or 'auto', got {nb_design!r}")
            check_nb_design(nb_design)
            if max_evaluations is not None:
                raise ValueError("max_evaluations only applies to nb_design='auto'; pass one or the other")
            self.max_evaluations = None
        self.nb_design = nb_design if nb_design == AUTO else int(nb_design)

    @property
    def minimal_evaluations(self) -> int:
        """Forward passes of the smallest design ``nb_design="auto"`` starts from (``N = 8``)."""
        return BASE_BLOCK * (self.grid_size**2 + 2)

    @property
    def n_evaluations(self) -> int:
        """Forward passes per explanation at most: ``nb_design * (grid_size**2 + 2)`` (``max_evaluations``
        for ``"auto"``)."""
        if self.nb_design == AUTO:
            return int(self.max_evaluations)
        return self.nb_design * (self.grid_size**2 + 2)

    @property
    def largest_design(self) -> int:
        """The largest ``nb_design`` an explanation may reach (``"auto"``: the largest power of two whose classic
        design fits ``max_evaluations``, at least ``8``)."""
        if self.nb_design != AUTO:
            return int(self.nb_design)
        size = BASE_BLOCK
        while 2 * size * (self.grid_size**2 + 2) <= int(self.max_evaluations):
            size *= 2
        return size

    def memory_estimate_bytes(self, image_shape: tuple[int, ...], n_classes: int = 1) -> int:
        """Working memory of one explanation of an image of ``image_shape``, counted before anything is allocated.

        The sum of: the perturbed images of one batch (``batch_size x H x W x C x`` :data:`BYTES_PER_PIXEL`) and
        the image's own float copies; the Sobol design held at once (Saltelli's ``A`` and ``B``: ``2 N d``
        float32; an importance design: the pool of its largest block) with its float64 drawing block and the
        scrambling matrices of scipy's engine; and, per
        evaluation, the outputs of ``n_classes`` classes, the estimators' temporaries and the indices of a design
        that grows (``N (d + 2)`` evaluations, ``N`` the largest design: :attr:`largest_design`).

        :param image_shape: ``(H, W)`` or ``(H, W, C)``.
        :param n_classes: Classes explained at once (the blackbox's labels; a study explains one).
        """
        height, width = int(image_shape[0]), int(image_shape[1])
        channels = int(image_shape[2]) if len(image_shape) > 2 else 1
        d, n = self.grid_size**2, self.largest_design
        evaluations = n * (d + 2)
        pixels = height * width * channels
        images = min(self.batch_size, evaluations) * pixels * BYTES_PER_PIXEL + pixels * IMAGE_COPY_BYTES
        if self.estimator == "importance":  # the pool of the largest block, whichever cells are dense
            size = max(importance_schedule(n))
            points = max(Allocation.for_budget(size, dense, d - dense).pool for dense in range(d + 1))
        else:
            points = n
        design = 2 * points * d * 4 + 2 * min(BLOCK_BYTES, 16 * points * d) + 2 * d * SOBOL_ENGINE_BYTES
        per_evaluation = INDEX_BYTES + OUTPUT_BYTES * n_classes + ESTIMATOR_BYTES * min(n_classes, CLASS_BLOCK)
        return int(images + design + evaluations * per_evaluation)

    @classmethod
    def get_default_config(cls) -> dict[str, Any]:
        """The constructor's defaults without ``progress`` (how a run looks, not what it computes: configs and a
        study's config hash stay the same whatever it is)."""
        config = super().get_default_config()
        config.pop("progress", None)
        return config

    def get_config(self) -> dict[str, Any]:
        return {
            "grid_size": self.grid_size,
            "nb_design": self.nb_design,
            "estimator": self.estimator,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "max_evaluations": self.max_evaluations,
            "tolerance": self.tolerance,
        }

    def _total_indices(
        self,
        image: np.ndarray,
        blackbox: ClassifyImage,
        labels: list[Hashable],
        perturb: Perturber,
        dense: np.ndarray | None = None,
    ) -> Estimate:
        """:func:`sobol_total_indices` with this method's keywords (``dense``: see :class:`ImportanceRun`)."""
        return sobol_total_indices(
            image,
            blackbox,
            labels,
            perturb,
            grid_size=self.grid_size,
            nb_design=self.nb_design,
            seed=self.seed,
            estimator=self.estimator,
            batch_size=self.batch_size,
            max_evaluations=self.max_evaluations,
            tolerance=self.tolerance,
            dense=dense,
            progress=self.progress,
            progress_label=self.progress_label or type(self).__name__,
        )


def sobol_total_indices(
    image: np.ndarray,
    blackbox: ClassifyImage,
    labels: list[Hashable],
    perturb: Perturber,
    *,
    grid_size: int,
    nb_design: int | str,
    seed: int,
    estimator: str,
    batch_size: int,
    max_evaluations: int | None = None,
    tolerance: float = 0.2,
    dense: np.ndarray | None = None,
    progress: bool | None = False,
    progress_label: str = "Sobol",
) -> Estimate:
    """Total Sobol index of every mask cell for every class, with its errors, stability and cost.

    :param image: Validated ``H x W [x C]`` image.
    :param perturb: Maps a batch of masks to perturbed colour images (alpha is split off before and
        re-attached after); float, in ``image``'s units, any range (clipped here).
    :param dense: ``g**2`` booleans: cells the importance design estimates on plain rows (WCAM: the
        approximation band); ignored by the classic estimators.
    :param progress: Show a bar of the forward passes (``None``: auto, :mod:`xaitk_wcam.utils.progress`). Its
        total is the design's cost; with ``"auto"`` it grows with each doubling, the stability beside it.
    :param progress_label: The bar's name (the method).
    :return: The :class:`~xaitk_wcam.sobol.Estimate`; its arrays are ``K x g x g`` here.
    """
    evaluate = _Evaluator(image, blackbox, labels, perturb, grid_size, batch_size)
    d = grid_size**2
    run = (
        ImportanceRun(d, seed, evaluate, dense)
        if estimator == "importance"
        else ClassicRun(d, seed, evaluate, estimator)
    )
    size = BASE_BLOCK if nb_design == AUTO else nb_design
    with progress_bar(run.cost_of(size), progress_label, progress) as bar:
        evaluate.bar = bar
        run.grow_to(size)
        estimate = run.estimate()
        while nb_design == AUTO and not _stable(estimate, tolerance) and run.cost_of(2 * size) <= max_evaluations:
            bar.set_postfix_str(f"N={size}, stability {_stability_text(estimate)}")
            size *= 2
            bar.set_total(run.cost_of(size))
            run.grow_to(size)
            estimate = run.estimate()
        if nb_design == AUTO:
            bar.set_postfix_str(f"N={size}, stability {_stability_text(estimate)}")
    constant = int(estimate.constant.sum())
    if constant:
        warnings.warn(
            f"blackbox output does not vary for {constant} of {len(labels)} classes; their maps are all zero",
            RuntimeWarning,
            stacklevel=3,
        )
    shape = (len(labels), grid_size, grid_size)
    estimate.indices = estimate.indices.T.reshape(shape)
    estimate.index_std = estimate.index_std.T.reshape(shape)
    return estimate


def _stable(estimate: Estimate, tolerance: float) -> bool:
    return estimate.stability is not None and estimate.stability >= 1 - tolerance


def _stability_text(estimate: Estimate) -> str:
    return "n/a" if estimate.stability is None else f"{estimate.stability:.2f}"


class _Evaluator:
    """The model outputs at design rows: masks -> perturbed images in the input's dtype -> confidences.

    Rows are built and classified ``batch_size`` at a time, so memory does not grow with the design. Each
    batch is built a few images at a time (:data:`_CHUNK_BYTES` of float32) and each chunk is clipped and
    cast straight into the batch handed to the blackbox (a crop of the perturber's output is a view, not a
    copy). This work runs on one torch thread whatever the caller's setting: its operations are small and
    memory-bound, and with more threads they wait on each other (28x slower at 2 threads on a loaded 2-core
    machine, see ``benchmarks/wcam_overhead.py``); the caller's thread count is restored for the blackbox.
    Each classified batch advances ``bar`` (:func:`xaitk_wcam.utils.progress.progress_bar`) by its size.
    """

    def __init__(
        self,
        image: np.ndarray,
        blackbox: ClassifyImage,
        labels: list[Hashable],
        perturb: Perturber,
        grid_size: int,
        batch_size: int,
        bar: Any = None,
    ) -> None:
        self.image, self.blackbox, self.labels, self.perturb = image, blackbox, labels, perturb
        self.grid_size, self.batch_size = grid_size, batch_size
        self.bar = NoProgress() if bar is None else bar
        self.alpha = split_alpha(image)[1]
        self.low, self.high = value_range(image)
        self.chunk = max(1, _CHUNK_BYTES // (4 * image[..., :1].size * (image.shape[2] if image.ndim == 3 else 1)))

    def __call__(self, n_rows: int, rows: Callable[[int, int], np.ndarray]) -> np.ndarray:
        outputs = np.empty((n_rows, len(self.labels)), dtype=np.float32)  # 25 MB for 6,288 x 1000 classes
        for start in range(0, n_rows, self.batch_size):
            stop = min(start + self.batch_size, n_rows)
            masks = torch.from_numpy(np.ascontiguousarray(rows(start, stop))).view(-1, self.grid_size, self.grid_size)
            batch = self._images(masks)
            outputs[start:stop] = confidences(self.blackbox, batch, self.labels, len(batch))
            self.bar.update(stop - start)
        return outputs

    def _images(self, masks: torch.Tensor) -> np.ndarray:
        image = self.image
        batch = np.empty((len(masks), *image.shape), dtype=image.dtype)
        colour = torch.from_numpy(batch if image.ndim == 3 else batch[..., None])
        if self.alpha is not None:
            colour, alpha = colour[..., :-1], colour[..., -1:]
            alpha.copy_(torch.from_numpy(self.alpha))
        with single_torch_thread():
            for start in range(0, len(masks), self.chunk):
                stop = start + self.chunk
                write_input_dtype(self.perturb(masks[start:stop]), colour[start:stop], self.low, self.high)
        return batch


@contextmanager
def single_torch_thread() -> Iterator[None]:
    """Run the block on one torch intra-op thread, then restore the caller's count."""
    previous = torch.get_num_threads()
    if previous == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
