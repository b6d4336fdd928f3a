"""ONNX Runtime inference for :class:`~xaitk_wcam.classifiers.huggingface.HuggingFaceImageClassifier`.

The torch model is exported once with ``torch.onnx.export`` (the ``torch.export``-based exporter, which
needs ``onnx`` and ``onnxscript``), together with the exact part of the preprocessing (channels-first
layout, rescale and normalise: one multiply-add per channel) and the softmax / sigmoid, so the graph maps
``N x H' x W' x C`` float32 pixels in ``uint8`` units (``[0, 255]``) to probabilities. The resize and crop
stay in torch before it (:meth:`TorchImagePreprocessor.resized`): torch's ``uint8`` kernels reproduce PIL,
ONNX's ``Resize`` does not.

The exported graph is cached on disk (:func:`graph_path`), under a key that hashes everything it depends on
(:func:`graph_key`): the model's config and every weight (what they hold, so a changed file gives a new key and a new
export), the model's code (the source files of its classes and the code of their methods, so an edited or patched
``forward`` gives a new key), the versions of torch, transformers, onnx and onnxscript, the normalisation constants,
the input size and the export settings (opset, this module's format number). The key is written into the graph
(ONNX metadata) and a cached graph is read only when it holds its own key and classifies the check images as the
torch model does; otherwise (another model's graph copied under the key, a corrupt file) it is exported again, with
a warning, when the classifier is built, never discovered item by item. Before a graph enters the cache, ONNX
Runtime and torch classify the same images and must agree within :data:`EXPORT_TOLERANCE`; otherwise the export is
refused with an error (never a silent fallback to torch).

The torch model stays live (white-box methods use it): before each call the graph checks, cheaply, that the model
is the one it was exported from (its modules, their patched methods and hooks, and the identity, storage and version
counter of every parameter and buffer, which every in-place change made through torch bumps: ``load_state_dict``,
an optimizer step, ``weight.add_`` under ``no_grad``, replacing a module); if not, it finds or exports the graph of
the model as it is now. A write that bypasses torch's version counter (``weight.data.zero_()``, a numpy view of the
weights) cannot be seen without hashing every weight on every call: after one, build the classifier again.

Files enter the cache through temporaries renamed into place, with the user's umask; a temporary left by a killed
export is removed by the next one (:mod:`xaitk_wcam.utils.cache`).

Cost: one export per model and cache folder (seconds to a minute: about 30 s for EfficientNet-Lite0 on a
loaded 2-core machine); afterwards loading a graph takes a fraction of a second, and inference is the
forward passes only (3-8x faster than eager torch on CPU for the offline models, see the README).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import re
import sys
import types
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xaitk_wcam.utils.cache import cache_root, new_temporary, remove_orphans
from xaitk_wcam.utils.extras import MissingExtraError, require_extra

__all__ = [
    "EXECUTION_MODES",
    "EXPORT_TOLERANCE",
    "EXTRA_HINT",
    "OnnxRuntimeGraph",
    "code_digest",
    "graph_key",
    "graph_path",
    "import_onnxruntime",
    "model_fingerprint",
]

#: How to install what this backend needs.
EXTRA_HINT = 'pip install "xaitk-wcam[onnx]"'
#: ONNX Runtime execution modes (``SessionOptions.execution_mode``) by keyword value.
EXECUTION_MODES = ("sequential", "parallel")
#: Max abs difference of probabilities between ONNX Runtime and torch accepted at export time.
EXPORT_TOLERANCE = 1e-5
#: Bump when the exported graph's inputs, outputs or contents change (2: the graph holds its key).
_FORMAT = 2
#: The ONNX metadata property that holds the graph's key.
_KEY_PROPERTY = "xaitk_wcam.graph_key"
#: Libraries whose versions are part of the key (torch's exporter, transformers' model code, the ONNX writers).
_LIBRARIES = ("transformers", "onnx", "onnxscript")
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


def _stable(value: Any) -> Any:
    """``value`` (a code object's constant) as something whose ``repr`` is the same in every process (a frozenset's
    order follows string hashing, which changes from process to process)."""
    if isinstance(value, (frozenset, set)):
        return ("set", sorted(repr(_stable(v)) for v in value))
    if isinstance(value, tuple):
        return tuple(_stable(v) for v in value)
    if isinstance(value, types.CodeType):
        return _code_bytes(value)
    return value


def _code_bytes(code: types.CodeType) -> bytes:
    """What a code object does, the same in every process: bytecode, names, constants (nested code included)."""
    parts = (code.co_code, code.co_names, code.co_varnames, code.co_freevars, _stable(code.co_consts))
    return repr(parts).encode()


def _function_code(value: Any) -> bytes | None:
    """The code of a function, method, property or staticmethod (decorators unwrapped), else ``None``."""
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    elif isinstance(value, property):
        value = value.fget
    elif isinstance(value, types.MethodType):
        value = value.__func__
    try:
        value = inspect.unwrap(value) if callable(value) else value
    except ValueError:  # a __wrapped__ cycle
        pass
    code = getattr(value, "__code__", None)
    return _code_bytes(code) if isinstance(code, types.CodeType) else None


def _hook_functions(module: torch.nn.Module) -> list[Any]:
    return [*module._forward_pre_hooks.values(), *module._forward_hooks.values()]


def code_digest(model: torch.nn.Module) -> str:
    """Hex digest of the code the model runs, beyond torch's own (torch's version is in the key): the source file of
    every class of its modules and of their bases, the code of the methods those classes hold now (a method patched
    at run time), and the functions set on a module itself (a patched ``forward``) or hooked to it."""
    digest = hashlib.blake2b(digest_size=20)
    classes: dict[str, type] = {}
    for name, module in model.named_modules():
        for cls in type(module).__mro__:
            if cls.__module__.partition(".")[0] not in ("builtins", "torch"):
                classes.setdefault(f"{cls.__module__}.{cls.__qualname__}", cls)
        own = [(key, _function_code(value)) for key, value in vars(module).items() if not key.startswith("_")]
        own += [(f"hook {i}", _function_code(hook)) for i, hook in enumerate(_hook_functions(module))]
        for key, code in own:
            if code is not None:
                digest.update(f"{name}.{key}".encode() + code)
    files: set[str] = set()
    for qualified, cls in sorted(classes.items()):
        digest.update(qualified.encode())
        file = getattr(sys.modules.get(cls.__module__), "__file__", None)
        if file and file not in files:
            files.add(file)
            try:
                digest.update(Path(file).read_bytes())
            except OSError:  # a zipped or frozen module: its methods' code below still counts
                pass
        for key, value in vars(cls).items():
            code = _function_code(value)
            if code is not None:
                digest.update(key.encode() + code)
    return digest.hexdigest()


def _library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"torch": torch.__version__}
    for package in _LIBRARIES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def graph_key(
    model: torch.nn.Module,
    scale: torch.Tensor,
    shift: torch.Tensor,
    input_shape: tuple[int, int, int],
    multi_label: bool,
) -> str:
    """Hex digest of everything the exported graph depends on (see the module docstring): the library versions,
    the model's code (:func:`code_digest`), config and weights, the normalisation, the input and the settings.

    :param input_shape: ``(H', W', C)`` of the graph's input.
    """
    digest = hashlib.blake2b(digest_size=20)
    config = getattr(model, "config", None)
    settings = {
        "format": _FORMAT,
        "opset": _OPSET,
        "libraries": _library_versions(),
        "model": f"{type(model).__module__}.{type(model).__qualname__}",
        "code": code_digest(model),
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


def model_fingerprint(model: torch.nn.Module) -> list:
    """What changes when the model is changed in place through torch, cheap enough for every call (measured 1 ms
    for EfficientNet-Lite0's 260 modules and 296 tensors, against 20 ms to hash its weights): each module's identity
    (a replaced module is another object) and its class's ``forward``, the functions set on it (a patched
    ``forward``) or hooked to it, and each parameter's and buffer's identity, storage and version counter (bumped by
    every in-place operation; ``.to()``, ``.half()`` and ``load_state_dict`` change one or the other). Equal
    fingerprints: the graph's key is unchanged."""
    parts: list = []
    for module in model.modules():
        state = module.__dict__
        parts.append((id(module), id(getattr(type(module), "forward", None))))  # a class's forward patched too
        parts.extend((key, id(value)) for key, value in state.items() if key[0] != "_" and callable(value))
        parts.extend(id(hook) for hook in (*state["_forward_pre_hooks"].values(), *state["_forward_hooks"].values()))
        for tensors in (state["_parameters"], state["_buffers"]):
            parts.extend((id(t), t.data_ptr(), t._version) for t in tensors.values() if t is not None)
    return parts


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
    """An exported, cached classifier graph of a live torch model, and the ONNX Runtime sessions that run it.

    :param model: The torch model (``model(pixel_values=x).logits``), in eval mode, on any device (it is exported
        from a CPU copy of its weights only when the cache lacks the graph). The graph follows it: changed in place,
        the model's graph is found or exported again before the next call (see the module docstring).
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
        self._model, self._scale, self._shift, self._multi_label = model, scale, shift, multi_label
        self._name, self._cache_dir = name, cache_dir
        self._sessions: dict[int, Any] = {}
        #: The key of the graph in use (:func:`graph_key`) and its file.
        self.key: str | None = None
        self.path = Path()
        #: Whether this instance exported the graph in use (``False``: it was read from the cache).
        self.exported = False
        self._open()

    def _open(self) -> None:
        """Use the graph of the model as it is now: the one in use when its key has not changed, else the cached one
        when it holds the key and agrees with torch, else a new export. A cached file that fails is reported (a
        warning) and exported again, here, before any image is classified."""
        key = graph_key(self._model, self._scale, self._shift, self.input_shape, self._multi_label)
        if key != self.key:
            self.key, self.path, self._sessions = key, graph_path(self._cache_dir, self._name, key), {}
            remove_orphans(self.path.parent)
            self.exported = not self._read_cached()
            if self.exported:
                self._export()
        self._fingerprint = model_fingerprint(self._model)  # after the export, which moves a GPU model and back

    def _read_cached(self) -> bool:
        """Whether the cached graph of :attr:`key` was read (a session opened on it); a file that fails the check is
        reported (a warning) and left to be exported again."""
        if not self.path.is_file():
            return False
        try:
            self._sessions[self._threads()] = self._check(self.path)
            return True
        except RuntimeError as exc:
            warnings.warn(f"{exc}; exporting the model again", RuntimeWarning, stacklevel=4)
            return False

    def _graph_module(self) -> _ExportedGraph:
        return _ExportedGraph(self._model, self._scale, self._shift, self._multi_label)

    def _export(self) -> None:
        graph, name = self._graph_module(), self._name
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = new_temporary(self.path)  # the user's umask, not mkstemp's 0600; a killed export's is removed later
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
            _write_key(tmp, self.key)
            session = self._new_session(tmp, self._threads())
            self._verify(session, repr(name))
            os.replace(tmp, self.path)
            self._sessions[self._threads()] = session  # ONNX Runtime has read the file: the rename does not matter
        finally:
            tmp.unlink(missing_ok=True)

    def _check(self, path: Path) -> Any:
        """A session on the cached graph at ``path`` after checking that it holds its key and agrees with torch.

        :raises RuntimeError: An unreadable file, another key, or other probabilities (naming the file).
        """
        try:
            session = self._new_session(path, self._threads())
        except Exception as exc:
            raise RuntimeError(f"ONNX Runtime could not read the cached graph {path} ({exc})") from exc
        held = session.get_modelmeta().custom_metadata_map.get(_KEY_PROPERTY)
        if held != self.key:
            raise RuntimeError(
                f"the cached graph {path} holds the key {held!r}, not its file's: another model's graph (or one of "
                "an older format)"
            )
        self._verify(session, f"{self._name!r} (cached graph {path})")
        return session

    def _verify(self, session: Any, name: str) -> None:
        graph = self._graph_module()
        device = next((p.device for p in graph.parameters()), torch.device("cpu"))
        pixels = _check_pixels(self.input_shape)
        with torch.inference_mode():
            expected = graph(torch.from_numpy(pixels).to(device)).float().cpu().numpy()
        got = session.run([_OUTPUT], {_INPUT: pixels})[0]
        error = float(np.abs(got - expected).max())
        if not error <= EXPORT_TOLERANCE:
            raise RuntimeError(
                f"model {name}: the ONNX graph's probabilities differ from torch's by {error:.3g} "
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

    def _threads(self) -> int:
        return int(self.threads) if self.threads is not None else torch.get_num_threads()

    def session(self) -> Any:
        """The session for the current thread count (created on first use; the file was checked at start)."""
        threads = self._threads()
        session = self._sessions.get(threads)
        if session is None:
            session = self._sessions[threads] = self._new_session(self.path, threads)
        return session

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        """Probabilities ``N x n_labels`` (float32) of ``N x H' x W' x C`` float32 pixels in uint8 units, from the
        graph of the model as it is now (changed in place since the last call: its graph is found or exported)."""
        if model_fingerprint(self._model) != self._fingerprint:
            self._open()
        return self.session().run([_OUTPUT], {_INPUT: pixels})[0]


def _write_key(path: Path, key: str | None) -> None:
    """Write ``key`` into the ONNX file's metadata (rewritten in place: the file keeps its mode)."""
    import onnx

    model = onnx.load(str(path))
    entry = model.metadata_props.add()
    entry.key, entry.value = _KEY_PROPERTY, str(key)
    onnx.save(model, str(path))
