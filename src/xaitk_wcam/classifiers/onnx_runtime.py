"""ONNX Runtime inference for :class:`~xaitk_wcam.classifiers.huggingface.HuggingFaceImageClassifier`.

The torch model is exported once with ``torch.onnx.export`` (the ``torch.export``-based exporter, which
needs ``onnx`` and ``onnxscript``), together with the exact part of the preprocessing (channels-first
layout, rescale and normalise: one multiply-add per channel) and the softmax / sigmoid, so the graph maps
``N x H' x W' x C`` float32 pixels in ``uint8`` units (``[0, 255]``) to probabilities. The resize and crop
stay in torch before it (:meth:`TorchImagePreprocessor.resized`): torch's ``uint8`` kernels reproduce PIL,
ONNX's ``Resize`` does not.

The exported graph is cached on disk (:func:`graph_path`), under a key that hashes everything it depends on:
the model's ``config.json`` and every weight (what its files hold, so a changed file gives a new key and a
new export; the stale graph is never read), the normalisation constants, the input size and the export
settings (torch and onnxscript versions, opset, this module's format number). Before a graph enters the
cache, ONNX Runtime and torch classify the same images and must agree within :data:`EXPORT_TOLERANCE`;
otherwise the export is refused with an error (never a silent fallback to torch).

Cost: one export per model and cache folder (seconds to a minute: about 30 s for EfficientNet-Lite0 on a
loaded 2-core machine); afterwards loading a graph takes a fraction of a second, and inference is the
forward passes only (3-8x faster than eager torch on CPU for the offline models, see the README).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xaitk_wcam.utils.cache import cache_root
from xaitk_wcam.utils.extras import MissingExtraError, require_extra

__all__ = [
    "EXECUTION_MODES",
    "EXPORT_TOLERANCE",
    "EXTRA_HINT",
    "OnnxRuntimeGraph",
    "graph_key",
    "graph_path",
    "import_onnxruntime",
]

#: How to install what this backend needs.
EXTRA_HINT = 'pip install "xaitk-wcam[onnx]"'
#: ONNX Runtime execution modes (``SessionOptions.execution_mode``) by keyword value.
EXECUTION_MODES = ("sequential", "parallel")
#: Max abs difference of probabilities between ONNX Runtime and torch accepted at export time.
EXPORT_TOLERANCE = 1e-5
#: Bump when the exported graph's inputs, outputs or contents change.
_FORMAT = 1
_OPSET = 18
_INPUT, _OUTPUT = "pixels", "probabilities"


def import_onnxruntime(export: bool = False) -> Any:
    """``onnxruntime`` (with ``export``, after checking that the exporter's packages are installed too).

    :raises MissingExtraError: Naming ``pip install "xaitk-wcam[onnx]"`` when a package is missing.
    """
    if export:
        require_extra("onnx", "HuggingFaceImageClassifier(backend='onnxruntime')")
    try:
        import onnxruntime
    except ImportError as exc:
        raise MissingExtraError(
            f"HuggingFaceImageClassifier(backend='onnxruntime') needs the 'onnx' extra: {EXTRA_HINT}"
        ) from exc
    return onnxruntime


class _ExportedGraph(torch.nn.Module):
    """What is exported: ``N x H x W x C`` pixels in uint8 units -> probabilities ``N x n_labels``."""

    def __init__(self, model: torch.nn.Module, scale: torch.Tensor, shift: torch.Tensor, multi_label: bool) -> None:
        super().__init__()
        self.model, self.multi_label = model, multi_label
        self.register_buffer("scale", scale.reshape(1, -1, 1, 1).to(torch.float32).clone())
        self.register_buffer("shift", shift.reshape(1, -1, 1, 1).to(torch.float32).clone())

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        logits = self.model(pixel_values=pixels.permute(0, 3, 1, 2) * self.scale + self.shift).logits
        return torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)


def graph_key(
    model: torch.nn.Module,
    scale: torch.Tensor,
    shift: torch.Tensor,
    input_shape: tuple[int, int, int],
    multi_label: bool,
) -> str:
    """Hex digest of everything the exported graph depends on (see the module docstring).

    :param input_shape: ``(H', W', C)`` of the graph's input.
    """
    import onnxscript

    digest = hashlib.blake2b(digest_size=20)
    config = getattr(model, "config", None)
    settings = {
        "format": _FORMAT,
        "opset": _OPSET,
        "torch": torch.__version__,
        "onnxscript": onnxscript.__version__,
        "model": type(model).__qualname__,
        "config": config.to_json_string(use_diff=False) if config is not None else None,
        "scale": [float(v) for v in scale.flatten()],
        "shift": [float(v) for v in shift.flatten()],
        "input": list(input_shape),
        "multi_label": multi_label,
    }
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for name, tensor in model.state_dict().items():
        array = tensor.detach().cpu().contiguous().numpy()
        digest.update(f"{name}:{array.dtype}:{array.shape}".encode())
        digest.update(memoryview(array.reshape(-1)).cast("B"))
    return digest.hexdigest()


def graph_path(cache_dir: str | os.PathLike[str] | None, name: str, key: str) -> Path:
    """``<cache_dir>/<name slug>-<key>.onnx``; ``cache_dir=None``: ``<cache_root()>/onnx``
    (``$XAITK_WCAM_CACHE/onnx``, else ``~/.cache/xaitk_wcam/onnx``)."""
    folder = Path(cache_dir).expanduser() if cache_dir is not None else cache_root() / "onnx"
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(str(name).rstrip("/\\")).name or "model").strip("._") or "model"
    return folder / f"{slug}-{key}.onnx"


@contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    """Only errors from logger ``name`` in the block (the exporter warns about every optional package)."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _check_pixels(shape: tuple[int, int, int], n: int = 3) -> np.ndarray:
    """``n`` deterministic check images in uint8 units (``N x H x W x C`` float32): one grey, the rest random."""
    pixels = np.random.default_rng(0).integers(0, 256, (n, *shape)).astype(np.float32)
    pixels[0] = 128.0
    return pixels


class OnnxRuntimeGraph:
    """An exported, cached classifier graph and the ONNX Runtime sessions that run it.

    :param model: The torch model (``model(pixel_values=x).logits``), in eval mode, on any device (it is
        exported from a CPU copy of its weights only when the cache lacks the graph).
    :param scale: Per-channel factor of the normalisation of uint8-unit pixels.
    :param shift: Per-channel offset (``pixel_values = pixels * scale + shift``).
    :param input_shape: ``(H', W', C)`` of the graph's input (after the resize and crop).
    :param multi_label: Sigmoid instead of softmax.
    :param name: The model's name (file name of the cached graph).
    :param cache_dir: Folder of the cached graphs; ``None``: :func:`graph_path`'s default.
    :param threads: ONNX Runtime intra-op threads; ``None``: ``torch.get_num_threads()`` at each call (so
        ``torch.set_num_threads`` and the study's ``--threads`` apply to both backends).
    :param execution_mode: ``"sequential"`` or ``"parallel"`` (operators of independent branches at once).
    :raises RuntimeError: The model cannot be exported, or its graph disagrees with torch.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        *,
        scale: torch.Tensor,
        shift: torch.Tensor,
        input_shape: tuple[int, int, int],
        multi_label: bool,
        name: str,
        cache_dir: str | os.PathLike[str] | None,
        threads: int | None,
        execution_mode: str,
    ) -> None:
        self._ort = import_onnxruntime(export=True)
        self.threads, self.execution_mode = threads, execution_mode
        self.input_shape = tuple(int(v) for v in input_shape)
        key = graph_key(model, scale, shift, self.input_shape, multi_label)
        self.path = graph_path(cache_dir, name, key)
        #: Whether this instance exported the graph (``False``: it was read from the cache).
        self.exported = False
        if not self.path.is_file():
            self._export(_ExportedGraph(model, scale, shift, multi_label), name)
            self.exported = True
        self._sessions: dict[int, Any] = {}

    def _export(self, graph: _ExportedGraph, name: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp_name = tempfile.mkstemp(prefix=f".{self.path.stem}-", suffix=".onnx", dir=self.path.parent)
        os.close(handle)
        tmp = Path(tmp_name)
        try:
            device = next((p.device for p in graph.parameters()), torch.device("cpu"))
            example = torch.from_numpy(_check_pixels(self.input_shape, 2))
            try:
                # grad mode on: models that fold layers at inference (EfficientNet-Lite) export their training form
                with warnings.catch_warnings(), torch.enable_grad(), _quiet_logger("torch.onnx"):
                    warnings.simplefilter("ignore")
                    torch.onnx.export(
                        graph.cpu() if device.type != "cpu" else graph,
                        (example,),
                        str(tmp),
                        input_names=[_INPUT],
                        output_names=[_OUTPUT],
                        dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=2**20)},),
                        opset_version=_OPSET,
                        dynamo=True,
                        external_data=False,
                        verbose=False,
                    )
            except Exception as exc:
                root = exc
                while root.__cause__ is not None:  # the exporter wraps the reason in generic advice
                    root = root.__cause__
                reason = re.sub(r"\x1b\[[0-9;]*m", "", str(root)).strip().splitlines() or [""]
                raise RuntimeError(
                    f"model {name!r} could not be exported to ONNX ({type(root).__name__}: {reason[0][:300]}); "
                    "backend='torch' runs it"
                ) from exc
            finally:
                if device.type != "cpu":
                    graph.to(device)
            self._verify(graph, tmp, name, device)
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

    def _verify(self, graph: _ExportedGraph, path: Path, name: str, device: torch.device) -> None:
        pixels = _check_pixels(self.input_shape)
        with torch.inference_mode():
            expected = graph(torch.from_numpy(pixels).to(device)).float().cpu().numpy()
        got = self._new_session(path, 1).run([_OUTPUT], {_INPUT: pixels})[0]
        error = float(np.abs(got - expected).max())
        if not error <= EXPORT_TOLERANCE:
            raise RuntimeError(
                f"model {name!r}: the exported ONNX graph's probabilities differ from torch's by {error:.3g} "
                f"(accepted: {EXPORT_TOLERANCE}); backend='torch' runs it"
            )

    def _new_session(self, path: Path, threads: int) -> Any:
        ort = self._ort
        options = ort.SessionOptions()
        parallel = self.execution_mode == "parallel"
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = threads if parallel else 1  # ONNX Runtime runs sequentially with one
        options.execution_mode = ort.ExecutionMode.ORT_PARALLEL if parallel else ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle intra-op threads sleep instead of spinning: between two batches the caller (WCAM's masking, a
        # metric) needs the cores, and a spinning pool would take them.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def session(self) -> Any:
        """The session for the current thread count (created on first use)."""
        threads = int(self.threads) if self.threads is not None else torch.get_num_threads()
        session = self._sessions.get(threads)
        if session is None:
            try:
                session = self._sessions[threads] = self._new_session(self.path, threads)
            except Exception as exc:  # an unreadable cached file: say where it is
                raise RuntimeError(
                    f"ONNX Runtime could not load the cached graph {self.path} ({exc}); delete it to export again"
                ) from exc
        return session

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        """Probabilities ``N x n_labels`` (float32) of ``N x H' x W' x C`` float32 pixels in uint8 units."""
        return self.session().run([_OUTPUT], {_INPUT: pixels})[0]
