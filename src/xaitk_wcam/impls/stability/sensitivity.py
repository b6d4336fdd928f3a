"""Max- and Avg-Sensitivity (Yeh et al. 2019) and the Local Lipschitz Estimate (Alvarez-Melis & Jaakkola 2018).

Each re-explains the image under ``n_samples`` seeded noise draws and compares every map with the map of the image
itself, with Quantus 0.6's definitions, defaults and norms (``MaxSensitivity``, ``AvgSensitivity``,
``LocalLipschitzEstimate``; a test checks the numbers on the same draws). ``MaxSensitivity(reference="captum")``
calls ``captum.metrics.sensitivity_max`` instead (Captum's noise, radius, sample count and zero-norm rule).

Noise: draw ``j`` of a metric with seed ``s`` comes from ``numpy.random.default_rng([s, j])``, so the same seed gives
the same draws whatever the batching (:meth:`NoiseStability.perturbed`). Quantus perturbs an image in whatever range
it is given and never clips; here images are in ``[0, 1]`` (the classifiers of this package refuse a float image
outside it), so perturbed images are clipped to ``[0, 1]`` unless ``clip=False`` (Quantus' behaviour).
"""

from __future__ import annotations

import abc
import warnings
from typing import Any, ClassVar

import numpy as np

from xaitk_wcam.interfaces.stability import ExplainFn, LocalStabilityMetric, PredictFn
from xaitk_wcam.utils.checks import check_choice, check_float, check_int

__all__ = ["AvgSensitivity", "LocalLipschitzEstimate", "MaxSensitivity", "NoiseStability"]

#: ``reference`` values: whose definition (and defaults) the metric follows.
REFERENCES = ("quantus", "captum")


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r} ({type(value).__name__})")
    return bool(value)


class NoiseStability(LocalStabilityMetric):
    """Shared machinery: seeded draws, batched re-explanation, the prediction-changed rule, normalisation.

    Cost of one :meth:`compute`: :attr:`n_explanations` explanations (``n_samples``, plus the image's own unless
    ``reference_map`` is given) in batches of ``batch_size`` images, and :attr:`n_forward_passes` images through
    ``predict`` (``n_samples + 1`` with ``nan_when_prediction_changes``, else none).
    """

    #: Quantus 0.6's ``nr_samples`` default.
    N_SAMPLES: ClassVar[int] = 200

    needs = frozenset({"explain"})

    def __init__(
        self,
        *,
        n_samples: int | None = None,
        seed: int = 0,
        batch_size: int = 16,
        clip: bool = True,
        normalise: bool = False,
        absolute: bool = False,
        nan_when_prediction_changes: bool = False,
    ) -> None:
        self._n_samples = check_int("n_samples", n_samples, 1, allow_none=True)
        self.seed = check_int("seed", seed, 0)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.clip = _check_bool("clip", clip)
        self.normalise = _check_bool("normalise", normalise)
        self.absolute = _check_bool("absolute", absolute)
        self.nan_when_prediction_changes = _check_bool("nan_when_prediction_changes", nan_when_prediction_changes)
        self.needs = type(self).needs | ({"predict"} if self.nan_when_prediction_changes else set())

    # -- what it costs ------------------------------------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        """Noise draws (re-explanations) per image."""
        return self.N_SAMPLES if self._n_samples is None else self._n_samples

    @property
    def n_explanations(self) -> int:  # type: ignore[override]
        """Explanations per :meth:`compute` call: ``n_samples + 1`` (``n_samples`` when ``reference_map`` is given
        to a Quantus-reference metric)."""
        return self.n_samples + 1

    @property
    def n_forward_passes(self) -> int:  # type: ignore[override]
        """Images through ``predict`` per call: ``n_samples + 1`` under the prediction-changed rule, else 0."""
        return self.n_samples + 1 if self.nan_when_prediction_changes else 0

    # -- the draws ----------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """One draw of noise of ``shape``."""

    def perturbed(self, image: np.ndarray, j: int) -> np.ndarray:
        """Draw ``j`` (``0 <= j < n_samples``) around ``image`` (float in ``[0, 1]``, not modified): ``image +
        noise``, clipped to ``[0, 1]`` when ``clip``; the same for the same seed, ``j`` and image."""
        rng = np.random.default_rng([self.seed, int(j)])
        values = np.asarray(image, dtype=np.float64) + self.noise(rng, np.shape(image))
        return np.clip(values, 0.0, 1.0) if self.clip else values

    def prepare(self, maps: np.ndarray) -> np.ndarray:
        """Quantus' post-processing of maps: each divided by its maximum absolute value (``normalise``; an all-zero
        map is kept), then the absolute value (``absolute``, Quantus' ``abs``). ``maps``: ``N x H x W``.

        Quantus' ``normalise_by_max`` divides a whole batch by the batch's maximum; per map, as here, is the same for
        one image, which is how these metrics run (one image per ``compute``)."""
        out = np.array(maps, dtype=np.float64)
        if self.normalise:
            peak = np.abs(out).reshape(len(out), -1).max(axis=1)
            out = out / np.where(peak == 0, 1.0, peak)[:, None, None]
        return np.abs(out) if self.absolute else out

    def _explain(self, explain: ExplainFn, batch: np.ndarray, shape: tuple[int, ...] | None) -> np.ndarray:
        maps = np.asarray(explain(batch.copy()))
        expected = (len(batch), *shape) if shape is not None else None
        if maps.ndim != 3 or len(maps) != len(batch) or (expected is not None and maps.shape != expected):
            want = "N x H' x W'" if expected is None else f"{expected} (the reference map's shape)"
            raise ValueError(f"explain must return one map per image, {want}; got shape {maps.shape}")
        if not np.issubdtype(maps.dtype, np.number) or not np.isfinite(maps).all():
            raise ValueError("explain returned non-numeric, NaN or infinite map values; accepted: finite maps")
        return self.prepare(maps)

    def _labels(self, predict: PredictFn, batch: np.ndarray) -> np.ndarray:
        outputs = np.asarray(predict(batch.copy()))
        if outputs.ndim != 2 or len(outputs) != len(batch):
            raise ValueError(f"predict must return N x K outputs for N images, got shape {outputs.shape}")
        return outputs.argmax(axis=1)

    # -- the work -----------------------------------------------------------------------------------------------
    def _compute(
        self,
        image: np.ndarray,
        *,
        explain: ExplainFn | None,
        predict: PredictFn | None,
        target: int | None,
        reference_map: np.ndarray | None,
    ) -> float:
        assert explain is not None  # checked by the template (needs)
        if reference_map is None:
            reference = self._explain(explain, image[None], None)[0]
        else:
            reference = self.prepare(reference_map[None])[0]
        label = self._labels(predict, image[None])[0] if self.nan_when_prediction_changes else None
        values = np.full(self.n_samples, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            for start in range(0, self.n_samples, self.batch_size):
                draws = range(start, min(start + self.batch_size, self.n_samples))
                batch = np.stack([self.perturbed(image, j) for j in draws])
                maps = self._explain(explain, batch, reference.shape)
                for k, j in enumerate(draws):
                    values[j] = self.score(reference, maps[k], image, batch[k])
                if label is not None:
                    changed = self._labels(predict, batch) != label  # type: ignore[arg-type]
                    values[np.asarray(draws)[changed]] = np.nan
        return self.aggregate(values)

    @abc.abstractmethod
    def score(self, reference: np.ndarray, explanation: np.ndarray, image: np.ndarray, perturbed: np.ndarray) -> float:
        """The value of one draw (see each metric)."""

    @abc.abstractmethod
    def aggregate(self, values: np.ndarray) -> float:
        """The value over the draws (see each metric); ``nan`` draws are those whose prediction changed."""

    def _reduce(self, strict: Any, lenient: Any, values: np.ndarray) -> float:
        """Quantus' rule: ``strict`` (a ``nan`` draw makes the value ``nan``) under the prediction-changed rule,
        else ``lenient`` (``nan`` draws ignored; ``nan`` when every draw is)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return float((strict if self.nan_when_prediction_changes else lenient)(values))

    def get_config(self) -> dict[str, Any]:
        return {
            "n_samples": self._n_samples,
            "seed": self.seed,
            "batch_size": self.batch_size,
            "clip": self.clip,
            "normalise": self.normalise,
            "absolute": self.absolute,
            "nan_when_prediction_changes": self.nan_when_prediction_changes,
        }


class _Sensitivity(NoiseStability):
    """``||e_x - e_x'||_F / ||e_x||_F`` per draw (Quantus' ``difference`` and ``fro_norm``), uniform noise in
    ``[-radius, radius]`` on every pixel value (Quantus' ``batch_uniform_noise`` with ``lower_bound=radius``)."""

    #: Quantus 0.6's ``lower_bound`` default.
    RADIUS: ClassVar[float] = 0.2

    def __init__(self, *, radius: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._radius = check_float("radius", radius, 0.0, strict=False, allow_none=True)

    @property
    def radius(self) -> float:
        """Half-width of the uniform noise (L-infinity radius), in ``[0, 1]`` image units."""
        return self.RADIUS if self._radius is None else self._radius

    def noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.uniform(-self.radius, self.radius, size=shape)

    def score(self, reference: np.ndarray, explanation: np.ndarray, image: np.ndarray, perturbed: np.ndarray) -> float:
        return float(np.linalg.norm((reference - explanation).ravel()) / np.linalg.norm(reference.ravel()))

    def get_config(self) -> dict[str, Any]:
        return {"radius": self._radius, **super().get_config()}


class MaxSensitivity(_Sensitivity):
    """Max-Sensitivity (Yeh et al., "On the (In)fidelity and Sensitivity of Explanations", NeurIPS 2019, Eq. 6):
    ``max_j ||e(x) - e(x_j)||_F / ||e(x)||_F`` over ``n_samples`` draws ``x_j = x + u``, ``u`` uniform in
    ``[-radius, radius]`` per pixel value; lower is more stable, 0 when the map never moves.

    ``reference="quantus"`` (default): Quantus 0.6's ``MaxSensitivity`` (``radius`` 0.2, ``n_samples`` 200, no
    normalisation, no absolute value; an all-zero ``e(x)`` gives ``inf`` or ``nan``, as Quantus' division by zero).
    ``reference="captum"``: ``captum.metrics.sensitivity_max`` is called (Captum's defaults: ``radius`` 0.02,
    ``n_samples`` 10; its own uniform draws from torch's generator seeded with ``seed``, restored afterwards; a zero
    ``||e(x)||`` divides by 1; it explains the image itself, ``reference_map`` is not used; the prediction-changed
    rule does not exist there). Needs the ``whitebox`` extra (Captum).

    Cost: ``n_samples`` explanations, plus one for ``x`` unless ``reference_map`` is given (always, for Captum), in
    batches of ``batch_size``; :attr:`n_explanations`.

    :param reference: ``"quantus"`` or ``"captum"``: whose definition and defaults.
    :param radius: Half-width of the uniform noise (``None``: 0.2 for Quantus, 0.02 for Captum).
    :param n_samples: Draws (``None``: 200 for Quantus, 10 for Captum).
    :param seed: Seed of the draws (same seed, same value).
    :param batch_size: Images per call of ``explain`` (Captum: ``max_examples_per_batch``).
    :param clip: Clip perturbed images to ``[0, 1]`` (Quantus and Captum do not clip: ``False`` reproduces them).
    :param normalise: Divide each map by its maximum absolute value first (Quantus' ``normalise_by_max``).
    :param absolute: Compare absolute maps (Quantus' ``abs``).
    :param nan_when_prediction_changes: A draw whose top class differs from ``x``'s is ``nan``, and so is the
        maximum (Quantus' rule, ``np.max``); needs ``predict``. Otherwise ``nan`` draws are ignored.
    """

    def __init__(
        self,
        *,
        reference: str = "quantus",
        radius: float | None = None,
        n_samples: int | None = None,
        seed: int = 0,
        batch_size: int = 16,
        clip: bool = True,
        normalise: bool = False,
        absolute: bool = False,
        nan_when_prediction_changes: bool = False,
    ) -> None:
        self.reference = check_choice("reference", reference, REFERENCES)
        if reference == "captum":
            from xaitk_wcam.utils.extras import require_extra

            if nan_when_prediction_changes:
                raise ValueError(
                    "nan_when_prediction_changes is Quantus' rule; captum.metrics.sensitivity_max has none: use "
                    "reference='quantus' or nan_when_prediction_changes=False"
                )
            require_extra("whitebox", "MaxSensitivity(reference='captum')")
        super().__init__(
            radius=radius,
            n_samples=n_samples,
            seed=seed,
            batch_size=batch_size,
            clip=clip,
            normalise=normalise,
            absolute=absolute,
            nan_when_prediction_changes=nan_when_prediction_changes,
        )

    @property
    def n_samples(self) -> int:
        if self._n_samples is not None:
            return self._n_samples
        return 10 if self.reference == "captum" else self.N_SAMPLES

    @property
    def radius(self) -> float:
        if self._radius is not None:
            return self._radius
        return 0.02 if self.reference == "captum" else self.RADIUS

    def aggregate(self, values: np.ndarray) -> float:
        return self._reduce(np.max, np.nanmax, values)

    def _compute(self, image: np.ndarray, **inputs: Any) -> float:
        if self.reference == "quantus":
            return super()._compute(image, **inputs)
        return self._captum(image, inputs["explain"])

    def _captum(self, image: np.ndarray, explain: ExplainFn) -> float:
        import torch
        from captum.metrics import sensitivity_max

        shape: list[tuple[int, ...]] = []

        def explanation_func(inputs: torch.Tensor | tuple[torch.Tensor]) -> torch.Tensor | tuple[torch.Tensor]:
            tensor = inputs[0] if isinstance(inputs, tuple) else inputs  # Captum passes x as a 1-tuple, draws bare
            batch = tensor.detach().cpu().numpy()
            if self.clip:
                batch = np.clip(batch, 0.0, 1.0)
            with torch.enable_grad():  # Captum calls it under no_grad; a gradient explainer needs autograd
                maps = self._explain(explain, batch, shape[0] if shape else None)
            shape.append(maps.shape[1:])
            return (torch.from_numpy(maps),) if isinstance(inputs, tuple) else torch.from_numpy(maps)  # as Captum's

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            value = sensitivity_max(
                explanation_func,
                torch.from_numpy(image[None].copy()),
                perturb_radius=self.radius,
                n_perturb_samples=self.n_samples,
                max_examples_per_batch=min(self.batch_size, self.n_samples),
            )
        return float(value[0])

    def get_config(self) -> dict[str, Any]:
        return {"reference": self.reference, **super().get_config()}


class AvgSensitivity(_Sensitivity):
    """Avg-Sensitivity (Yeh et al., NeurIPS 2019, the average counterpart of Eq. 6, as Quantus 0.6's
    ``AvgSensitivity``): ``mean_j ||e(x) - e(x_j)||_F / ||e(x)||_F`` over ``n_samples`` draws ``x_j = x + u``, ``u``
    uniform in ``[-radius, radius]``; lower is more stable. Quantus' defaults: ``radius`` 0.2, ``n_samples`` 200, no
    normalisation. Captum has no average sensitivity, so there is no ``reference`` option.

    Cost: ``n_samples`` explanations, plus one for ``x`` unless ``reference_map`` is given; :attr:`n_explanations`.

    :param radius: Half-width of the uniform noise (``None``: 0.2).
    :param n_samples: Draws (``None``: 200).
    :param seed: Seed of the draws.
    :param batch_size: Images per call of ``explain``.
    :param clip: Clip perturbed images to ``[0, 1]`` (``False``: Quantus).
    :param normalise: Divide each map by its maximum absolute value first.
    :param absolute: Compare absolute maps (Quantus' ``abs``).
    :param nan_when_prediction_changes: A draw whose top class changes is ``nan``, and so is the mean (Quantus'
        ``np.mean``); needs ``predict``. Otherwise ``nan`` draws are ignored.
    """

    def __init__(
        self,
        *,
        radius: float | None = None,
        n_samples: int | None = None,
        seed: int = 0,
        batch_size: int = 16,
        clip: bool = True,
        normalise: bool = False,
        absolute: bool = False,
        nan_when_prediction_changes: bool = False,
    ) -> None:
        super().__init__(
            radius=radius,
            n_samples=n_samples,
            seed=seed,
            batch_size=batch_size,
            clip=clip,
            normalise=normalise,
            absolute=absolute,
            nan_when_prediction_changes=nan_when_prediction_changes,
        )

    def aggregate(self, values: np.ndarray) -> float:
        return self._reduce(np.mean, np.nanmean, values)


class LocalLipschitzEstimate(NoiseStability):
    """Local Lipschitz Estimate (Alvarez-Melis & Jaakkola, "On the Robustness of Interpretability Methods", ICML
    2018 WHI workshop, Eq. 2; Quantus 0.6's ``LocalLipschitzEstimate``): ``max_j ||e(x) - e(x_j)||_2 / (||x -
    x_j||_2 + 1e-10)`` over ``n_samples`` draws ``x_j = x + g``, ``g`` Gaussian with mean 0 and standard deviation
    ``noise_std`` per pixel value (Quantus' ``batch_gaussian_noise``); lower is more stable.

    Quantus' defaults: ``noise_std`` 0.1, ``n_samples`` 200, and ``normalise=True`` (each map divided by its
    maximum absolute value before the comparison). Captum has no such estimate, so there is no ``reference`` option.

    Cost: ``n_samples`` explanations, plus one for ``x`` unless ``reference_map`` is given; :attr:`n_explanations`.

    :param noise_std: Standard deviation of the Gaussian noise, in ``[0, 1]`` image units.
    :param n_samples: Draws (``None``: 200).
    :param seed: Seed of the draws.
    :param batch_size: Images per call of ``explain``.
    :param clip: Clip perturbed images to ``[0, 1]`` (``False``: Quantus); the denominator uses the clipped image.
    :param normalise: Divide each map by its maximum absolute value first (Quantus' default: ``True``).
    :param absolute: Compare absolute maps (Quantus' ``abs``).
    :param nan_when_prediction_changes: A draw whose top class changes is ``nan``, and so is the maximum; needs
        ``predict``. Otherwise ``nan`` draws are ignored.
    """

    #: Added to the denominator (Quantus' ``lipschitz_constant``).
    EPS: ClassVar[float] = 1e-10

    def __init__(
        self,
        *,
        noise_std: float = 0.1,
        n_samples: int | None = None,
        seed: int = 0,
        batch_size: int = 16,
        clip: bool = True,
        normalise: bool = True,
        absolute: bool = False,
        nan_when_prediction_changes: bool = False,
    ) -> None:
        super().__init__(
            n_samples=n_samples,
            seed=seed,
            batch_size=batch_size,
            clip=clip,
            normalise=normalise,
            absolute=absolute,
            nan_when_prediction_changes=nan_when_prediction_changes,
        )
        self.noise_std = check_float("noise_std", noise_std, 0.0, strict=False)

    def noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.normal(0.0, self.noise_std, size=shape)

    def score(self, reference: np.ndarray, explanation: np.ndarray, image: np.ndarray, perturbed: np.ndarray) -> float:
        numerator = np.linalg.norm((reference - explanation).ravel())
        return float(numerator / (np.linalg.norm((image - perturbed).ravel()) + self.EPS))

    def aggregate(self, values: np.ndarray) -> float:
        return self._reduce(np.max, np.nanmax, values)

    def get_config(self) -> dict[str, Any]:
        return {"noise_std": self.noise_std, **super().get_config()}
