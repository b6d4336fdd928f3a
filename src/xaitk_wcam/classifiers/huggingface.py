"""HuggingFace ``transformers`` image classifiers as smqtk ``ClassifyImage`` and MAITE models."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Hashable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from smqtk_classifier import ClassifyImage
from smqtk_classifier.interfaces.classification_element import CLASSIFICATION_DICT_T
from smqtk_classifier.interfaces.classify_image import IMAGE_ITER_T

from xaitk_wcam.classifiers._inputs import chw_batches, hwc_batches, tensor_from_numpy
from xaitk_wcam.classifiers.model_registry import register_model_type, resolve_alias
from xaitk_wcam.classifiers.onnx_runtime import EXECUTION_MODES
from xaitk_wcam.classifiers.preprocessing import (
    PreprocessingSpec,
    TorchImagePreprocessor,
    check_against_processor,
)
from xaitk_wcam.utils.checks import check_choice, check_int
from xaitk_wcam.utils.extras import has_extra, require_extra

__all__ = [
    "BACKENDS",
    "HuggingFaceImageClassifier",
    "check_task",
    "load_config",
    "load_processor",
    "resolve_device",
    "unique_labels",
]

#: Inference backends of :class:`HuggingFaceImageClassifier`.
BACKENDS = ("torch", "onnxruntime")

#: Above this max-abs difference on the load-time self-check the torch preprocessing is reported as
#: approximate (one uint8 grey level after normalisation with std 0.229 is 0.0175).
_SELF_CHECK_TOLERANCE = 0.05


def unique_labels(id2label: dict[Any, Any]) -> list[str]:
    """Labels in id order; a name that several ids share gets its id appended (``"crane (134)"``).

    :param id2label: ``config.id2label``, ids as int or numeric str.
    """
    items = sorted((int(k), str(v)) for k, v in id2label.items())
    counts: dict[str, int] = {}
    for _, name in items:
        counts[name] = counts.get(name, 0) + 1
    return [name if counts[name] == 1 else f"{name} ({i})" for i, name in items]


def resolve_device(device: str) -> torch.device:
    """The torch device of a ``device`` keyword: ``"auto"`` (CUDA, then MPS, then CPU) or a torch device string.

    :raises ValueError: An unknown device, or CUDA / MPS asked where it is not available.
    """
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device: expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'; got {device!r}") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r}: CUDA is not available (this torch build or machine); use 'cpu' or 'auto'")
    if resolved.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device={device!r}: MPS is not available on this machine; use 'cpu' or 'auto'")
    return resolved


def _looks_like_path(name: str) -> bool:
    return (
        name.startswith((".", "/", "~", "\\"))
        or Path(name).is_absolute()
        or name.count("/") > 1
        or (os.sep != "/" and os.sep in name)
    )


def _offline() -> bool:
    try:
        from huggingface_hub import constants

        return bool(constants.HF_HUB_OFFLINE)
    except Exception:  # pragma: no cover - very old huggingface_hub
        return os.environ.get("HF_HUB_OFFLINE", "0").upper() in {"1", "ON", "YES", "TRUE"}


def _register_model_type(folder: Path) -> None:
    """Let a package register the folder's ``model_type`` with transformers when transformers lacks it."""
    try:
        model_type = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError):
        return  # _load_config reports the unreadable config
    if isinstance(model_type, str):
        register_model_type(model_type)


def load_config(model_name_or_path: str) -> tuple[str, Any]:
    """Resolve a model alias, a ``save_pretrained`` folder or a Hub id and read its transformers config.

    Shared by the HuggingFace classifier and detector adapters. A folder's ``model_type`` unknown to transformers
    is registered first when a package provides it (:mod:`xaitk_wcam.classifiers.model_registry`).

    :return: ``(source, config)``: what ``from_pretrained`` should load (a local folder or the Hub id) and the
        config.
    :raises ValueError: ``model_name_or_path`` is not a non-empty string.
    :raises OSError: A file instead of a folder, a folder without a readable config, or a Hub id that cannot be
        fetched (``FileNotFoundError`` for a path that does not exist).
    """
    if not isinstance(model_name_or_path, (str, os.PathLike)) or not str(model_name_or_path):
        raise ValueError(
            f"model_name_or_path: expected a save_pretrained folder or a Hub id string; got {model_name_or_path!r}"
        )
    name = str(model_name_or_path)
    path = resolve_alias(name) or Path(name).expanduser()
    local = path.is_dir()
    if path.exists() and not local:
        raise OSError(f"model_name_or_path={name!r} is a file; expected a save_pretrained folder")
    if not local and _looks_like_path(name):
        raise FileNotFoundError(
            f"model_name_or_path={name!r}: folder {path} does not exist; expected a folder written "
            "by save_pretrained or a Hub id 'org/name'"
        )
    if local:
        _register_model_type(path)
    source = str(path) if local else name
    return source, _load_config(source, local)


def check_task(config: Any, mapping: Any, name: str, task: str, examples: str) -> None:
    """Refuse a model whose config is not in the ``transformers`` auto ``mapping`` of the task.

    :raises ValueError: Naming the model type, the task (``"image classifier"``) and ``examples`` of types.
    """
    if type(config) not in mapping:
        raise ValueError(
            f"model_name_or_path={name!r} is a {config.model_type!r} model ({type(config).__name__}), not an {task}; "
            f"expected a model type its transformers Auto class supports (e.g. {examples})"
        )


def load_processor(source: str, name: str) -> Any:
    """The model's ``AutoImageProcessor`` (no remote code).

    :raises OSError: The folder or Hub id has no usable ``preprocessor_config.json``.
    """
    from transformers import AutoImageProcessor

    try:
        return AutoImageProcessor.from_pretrained(source, trust_remote_code=False)
    except (OSError, ValueError, KeyError) as exc:
        raise OSError(
            f"model_name_or_path={name!r}: no usable image processor (preprocessor_config.json); expected one saved "
            f"with the model ({exc})"
        ) from exc


@contextlib.contextmanager
def transformers_bars_off(*descriptions: str) -> Iterator[None]:
    """Inside the block, transformers draws none of its progress bars whose ``desc`` is one of ``descriptions``; its
    other bars (the Hub's downloads) are unchanged, and its tqdm hook is restored on exit. A no-op with transformers
    before 5, which has neither these bars nor ``set_tqdm_hook``.

    The bars turned off here ("Loading weights", "Writing model shards") only copy tensors already in memory, well
    under a second for the models of this package, and in a notebook without ipywidgets each printed an
    ``IProgress not found`` warning too.
    """
    from transformers.utils import logging as hf_logging

    def hook(factory: Any, args: tuple, kwargs: dict) -> Any:
        if kwargs.get("desc") in descriptions:
            kwargs = {**kwargs, "disable": True}
        return previous(factory, args, kwargs) if previous is not None else factory(*args, **kwargs)

    set_hook = getattr(hf_logging, "set_tqdm_hook", lambda hook: None)
    previous = set_hook(hook)
    try:
        yield
    finally:
        set_hook(previous)


def load_model(auto_class: Any, source: str) -> Any:
    """``auto_class.from_pretrained(source)`` in float32, no remote code, without transformers' "Loading weights" bar
    (:func:`transformers_bars_off`)."""
    with transformers_bars_off("Loading weights"):
        return auto_class.from_pretrained(source, trust_remote_code=False, dtype=torch.float32)


def _load_config(name: str, local: bool) -> Any:
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(name, trust_remote_code=False)
    except (OSError, ValueError, KeyError) as exc:
        if local:
            raise OSError(
                f"model_name_or_path={name!r}: the folder has no readable transformers config.json; expected a "
                f"folder written by save_pretrained ({exc})"
            ) from exc
        reason = (
            "HF_HUB_OFFLINE=1 and the model is not in the local HuggingFace cache"
            if _offline()
            else "the HuggingFace Hub could not provide it"
        )
        raise OSError(
            f"model_name_or_path={name!r}: no such local folder, and {reason}; expected an existing "
            "save_pretrained folder or a reachable Hub id 'org/name' (nothing was written to the working "
            "directory)"
        ) from exc


class HuggingFaceImageClassifier(ClassifyImage):
    """A HuggingFace image classifier (``AutoModelForImageClassification`` + ``AutoImageProcessor``).

    It is an smqtk ``ClassifyImage`` (images ``H x W [x C]``, labels from ``config.id2label`` in id order)
    and a MAITE ``image_classification.Model`` (``__call__`` on ``C x H x W`` images returns one probability
    vector per image; ``metadata`` holds ``id`` and ``index2label``). Preprocessing runs batched in torch
    (:mod:`xaitk_wcam.classifiers.preprocessing`) and inference under ``torch.inference_mode()``.

    Pixel-value convention: ``uint8`` images are in ``[0, 255]`` and are rescaled with the processor's
    ``rescale_factor``; floating images must lie in ``[0, 1]`` and are treated as already rescaled
    (``uint8 / 255``). Grayscale images (``H x W`` or one channel) are repeated to three channels; RGBA
    and grayscale + alpha images lose their alpha channel.

    Outputs are softmax probabilities, or independent sigmoids when ``config.problem_type`` is
    ``"multi_label_classification"``.

    Remote code is never executed (``trust_remote_code=False``); a Hub id needs network access or a
    populated HuggingFace cache (``HF_HUB_OFFLINE=1`` makes a missing model fail at once).

    Two inference backends give the same probabilities (within 1e-5) and the same top-1: ``"torch"`` (eager
    torch; BatchNorm folded into the convolutions at inference for the offline EfficientNet-Lite0) and
    ``"onnxruntime"`` (the model exported once to ONNX with its normalisation and softmax and run by ONNX
    Runtime on the CPU, :mod:`xaitk_wcam.classifiers.onnx_runtime`; 4-8x the throughput on CPU; needs the
    ``onnx`` extra). Either way :attr:`model`, :meth:`preprocess` and :meth:`probabilities` stay torch, so
    white-box (gradient) methods work the same.

    Cost: one forward pass per ``batch_size`` images.

    :param model_name_or_path: A folder written by ``save_pretrained`` (weights, ``config.json``,
        ``preprocessor_config.json``), a Hub id such as ``"google/vit-base-patch16-224"``, or the name of an
        registered model alias (:mod:`xaitk_wcam.classifiers.model_registry`; this package registers its
        offline models ``"efficientnet-lite0"``, ``"scale-shapes-standard"``, ``"scale-shapes-robust"``).
    :param device: ``"auto"`` (CUDA, then MPS, then CPU), or any torch device string.
    :param batch_size: Images per forward pass (positive).
    :param backend: ``"torch"`` or ``"onnxruntime"`` (``pip install "xaitk-wcam[onnx]"``; the first use of a
        model exports it, later ones read the cached graph). The ONNX Runtime path needs a model whose
        preprocessed input size is fixed (a fixed resize or a centre crop).
    :param threads: ONNX Runtime intra-op threads (``backend="onnxruntime"`` only); ``None`` follows
        ``torch.get_num_threads()`` at each call (torch's threads are set with ``torch.set_num_threads``).
    :param execution_mode: ONNX Runtime execution mode, ``"sequential"`` or ``"parallel"``
        (``backend="onnxruntime"`` only).
    :param cache_dir: Folder of the exported ONNX graphs (``backend="onnxruntime"`` only); ``None``:
        ``$XAITK_WCAM_CACHE/onnx``, else ``~/.cache/xaitk_wcam/onnx``. A graph is found again only for the
        same model weights, config and code, library versions, preprocessing and export settings; any change exports
        anew, and a cached graph that is not its key's (corrupt, another model's) is exported again when the
        classifier is built. :attr:`model` changed in place (through torch) is followed: the next call uses the
        graph of the model as it is then (:mod:`xaitk_wcam.classifiers.onnx_runtime`).
    :raises ValueError: Wrong keyword values (before anything is loaded).
    :raises ImportError: ``backend="onnxruntime"`` without the ``onnx`` extra.
    :raises RuntimeError: ``backend="onnxruntime"`` and the model cannot be exported (``backend="torch"``
        runs it).
    """

    @classmethod
    def is_usable(cls) -> bool:
        """Usable when transformers (the ``hf`` extra) is installed."""
        return has_extra("hf")

    @classmethod
    def check_config(cls, config: dict[str, Any]) -> None:
        """Refuse wrong keywords without loading anything: the constructor calls it, and so does a study config when
        it is read (a torch classifier given ONNX Runtime's ``threads`` fails there, before any worker starts).

        :raises ValueError: A non-positive ``batch_size``, an unknown ``backend`` or ``execution_mode``, a ``threads``
            below 1, a ``cache_dir`` that is no path, or ONNX Runtime's keywords with ``backend="torch"``.
        """
        batch_size = config.get("batch_size", 32)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size: expected a positive int; got {batch_size!r}")
        backend = check_choice("backend", config.get("backend", "torch"), BACKENDS)
        execution_mode = check_choice("execution_mode", config.get("execution_mode", "sequential"), EXECUTION_MODES)
        threads = check_int("threads", config.get("threads"), 1, allow_none=True)
        cache_dir = config.get("cache_dir")
        if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
            raise ValueError(f"cache_dir: expected a folder path or None; got {cache_dir!r}")
        if backend == "torch" and (threads is not None or execution_mode != "sequential" or cache_dir is not None):
            raise ValueError(
                "threads, execution_mode and cache_dir apply to backend='onnxruntime' only; with backend='torch' "
                "leave them at their defaults (torch's threads: torch.set_num_threads)"
            )

    def __init__(
        self,
        model_name_or_path: str,
        device: str = "auto",
        batch_size: int = 32,
        *,
        backend: str = "torch",
        threads: int | None = None,
        execution_mode: str = "sequential",
        cache_dir: str | None = None,
    ) -> None:
        require_extra("hf", "HuggingFaceImageClassifier")
        self.check_config(
            {"batch_size": batch_size, "backend": backend, "threads": threads, "execution_mode": execution_mode,
             "cache_dir": cache_dir}
        )  # fmt: skip
        self._backend, self._execution_mode, self._threads = backend, execution_mode, threads
        self._cache_dir = None if cache_dir is None else str(cache_dir)
        if backend == "onnxruntime":
            require_extra("onnx", "HuggingFaceImageClassifier(backend='onnxruntime')")  # before the model loads
        self._device_arg = device
        self._batch_size = batch_size
        self._device = resolve_device(device)
        source, config = load_config(model_name_or_path)
        self._name = str(model_name_or_path)

        from transformers import AutoModelForImageClassification
        from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING

        check_task(
            config, MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING, self._name, "image classifier", "vit, resnet, convnext"
        )
        processor = load_processor(source, self._name)
        self._spec = PreprocessingSpec.from_processor(processor, num_channels=int(getattr(config, "num_channels", 3)))
        self._preprocessor = TorchImagePreprocessor(self._spec)
        #: Max-abs difference between the torch preprocessing and the processor on a synthetic image.
        self.preprocessing_check = check_against_processor(processor, self._preprocessor)
        if self.preprocessing_check > _SELF_CHECK_TOLERANCE:
            import warnings

            warnings.warn(
                f"{self._name}: torch preprocessing differs from {type(processor).__name__} by up to "
                f"{self.preprocessing_check:.3g} on the self-check image",
                stacklevel=2,
            )

        self._model = load_model(AutoModelForImageClassification, source)
        self._model.eval().to(self._device)
        self._labels = unique_labels(config.id2label)
        self._multi_label = getattr(config, "problem_type", None) == "multi_label_classification"
        self.metadata: dict[str, Any] = {"id": self._name, "index2label": dict(enumerate(self._labels))}
        self._graph = self._onnx_graph() if backend == "onnxruntime" else None

    def _onnx_graph(self) -> Any:
        from xaitk_wcam.classifiers.onnx_runtime import OnnxRuntimeGraph

        size = self._preprocessor.output_size()
        if size is None:
            raise ValueError(
                f"backend='onnxruntime': {self._name!r} resizes images to a size that depends on each image "
                "(shortest_edge without a crop), which one exported graph cannot take; use backend='torch'"
            )
        scale, shift = self._preprocessor.uint8_affine
        return OnnxRuntimeGraph(
            self._model,
            scale=scale,
            shift=shift,
            input_shape=(*size, self._spec.num_channels),
            multi_label=self._multi_label,
            name=self._name,
            cache_dir=self._cache_dir,
            threads=self._threads,
            execution_mode=self._execution_mode,
        )

    # ------------------------------------------------------------------ properties
    @property
    def model(self) -> torch.nn.Module:
        """The underlying ``transformers`` model (``PreTrainedModel``, in eval mode)."""
        return self._model

    def with_model(self, model: torch.nn.Module) -> HuggingFaceImageClassifier:
        """The same classifier (labels, preprocessing, device, batch size) around another torch module of the same
        architecture and device, e.g. a randomised copy of :attr:`model` (Adebayo et al.'s sanity check,
        :func:`xaitk_wcam.evaluation.sanity.cascading_randomisation`). Nothing is loaded or copied; ``model`` is used
        as given. It runs on the torch backend (an exported ONNX graph holds the original weights), and its
        ``get_config()`` still names the original model folder.

        :raises TypeError: ``model`` is not a ``torch.nn.Module``.
        """
        import copy

        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module of the same architecture, got {type(model).__name__}")
        view = copy.copy(self)
        view._model = model
        view._graph, view._backend = None, "torch"
        view._threads, view._execution_mode, view._cache_dir = None, "sequential", None
        return view

    @property
    def device(self) -> torch.device:
        """The torch device the model runs on."""
        return self._device

    @property
    def batch_size(self) -> int:
        """Images per forward pass."""
        return self._batch_size

    @property
    def backend(self) -> str:
        """The inference backend of :meth:`classify_images` and ``__call__`` (``"torch"`` or ``"onnxruntime"``)."""
        return self._backend

    @property
    def preprocessing(self) -> PreprocessingSpec:
        """The preprocessing steps read from the image processor."""
        return self._spec

    # ------------------------------------------------------------------ torch API (differentiable)
    def preprocess(self, images: Any, *, channels_first: bool = False) -> torch.Tensor:
        """Preprocess a batch into the model's ``pixel_values``.

        :param images: ``N x H x W x C`` (or ``N x C x H x W`` with ``channels_first=True``) numpy array or
            torch tensor, or a sequence of same-size images; ``uint8`` in ``[0, 255]`` or floating in
            ``[0, 1]``. A floating torch tensor keeps its autograd graph (resize, crop, rescale and
            normalise are differentiable torch operations).
        :param channels_first: Whether the channel axis precedes the spatial axes.
        :return: ``N x C x H' x W'`` float32 tensor on :attr:`device`.
        """
        if isinstance(images, np.ndarray):
            images = tensor_from_numpy(images)
        elif not isinstance(images, torch.Tensor):
            images = torch.stack(
                [img if isinstance(img, torch.Tensor) else tensor_from_numpy(np.asarray(img)) for img in images]
            )
        if channels_first:
            if images.ndim != 4:
                raise ValueError(f"images: expected N x C x H x W; got shape {tuple(images.shape)}")
            batch = images
        else:
            if images.ndim == 3:
                images = images[..., None]
            if images.ndim != 4:
                raise ValueError(f"images: expected N x H x W x C or N x H x W; got shape {tuple(images.shape)}")
            batch = images.permute(0, 3, 1, 2)
        return self._preprocessor(batch, device=self._device)

    def probabilities(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Class probabilities for preprocessed inputs, differentiable (no ``inference_mode``).

        :param pixel_values: ``N x C x H' x W'`` output of :meth:`preprocess`.
        :return: ``N x n_labels`` softmax (or sigmoid, multi-label) probabilities.
        """
        logits = self._model(pixel_values=pixel_values).logits
        return torch.sigmoid(logits) if self._multi_label else torch.softmax(logits, dim=-1)

    def _predict(self, runs: list[torch.Tensor]) -> np.ndarray:
        """Probabilities ``n x n_labels`` (float32) for a chunk given as ``N x C x H x W`` runs."""
        if self._graph is not None:
            return self._graph(np.concatenate([self._graph_pixels(run) for run in runs]))
        with torch.inference_mode():
            pixels = [self._preprocessor(run, device=self._device) for run in runs]
            if len(pixels) > 1 and all(p.shape[1:] == pixels[0].shape[1:] for p in pixels):
                pixels = [torch.cat(pixels)]
            probs = [self.probabilities(p).float().cpu() for p in pixels]
        return (probs[0] if len(probs) == 1 else torch.cat(probs)).numpy()

    def _graph_pixels(self, run: torch.Tensor) -> np.ndarray:
        """``N x H' x W' x C`` float32 pixels in uint8 units: the ONNX graph's input (resize and crop in torch)."""
        with torch.inference_mode():
            x = self._preprocessor.resized(run).permute(0, 2, 3, 1)
            if x.dtype == torch.uint8:
                return np.ascontiguousarray(x.numpy(), dtype=np.float32)
            return torch.mul(x, 255.0).to(torch.float32).contiguous().numpy()

    # ------------------------------------------------------------------ smqtk ClassifyImage
    def get_labels(self) -> Sequence[Hashable]:
        """Labels from ``config.id2label``, in id order (duplicated names get their id appended)."""
        return list(self._labels)

    def classify_images(self, img_iter: IMAGE_ITER_T) -> Iterator[CLASSIFICATION_DICT_T]:
        """Classify images.

        :param img_iter: A stacked ``N x H x W x C`` / ``N x H x W`` array (fast path: one zero-copy
            conversion, batched preprocessing) or an iterable of ``H x W [x C]`` arrays (``C`` in 1, 2, 3, 4);
            ``uint8`` in ``[0, 255]`` or floating in ``[0, 1]``. The caller's arrays are not modified.
        :return: One ``{label: probability}`` dict per image, keys in :meth:`get_labels` order.
        :raises ValueError: Wrong rank, channel count, dtype or value range.
        """
        labels = self._labels
        for runs in hwc_batches(img_iter, self._batch_size):
            for row in self._predict(runs).tolist():
                yield dict(zip(labels, row, strict=True))

    def classify_array(self, img_iter: IMAGE_ITER_T) -> np.ndarray:
        """:meth:`classify_images` as one ``N x n_labels`` float32 array, columns in :meth:`get_labels` order,
        without a dict per image (:func:`xaitk_wcam.utils.confidences.confidences` reads it). Same input."""
        parts = [self._predict(runs) for runs in hwc_batches(img_iter, self._batch_size)]
        return np.concatenate(parts) if parts else np.empty((0, len(self._labels)), dtype=np.float32)

    # ------------------------------------------------------------------ MAITE Model
    def __call__(self, batch: Any) -> list[np.ndarray]:
        """MAITE ``image_classification.Model`` call.

        :param batch: An ``N x C x H x W`` array/tensor or a sequence of ``C x H x W`` arrays (``uint8`` in
            ``[0, 255]`` or floating in ``[0, 1]``).
        :return: One ``(n_labels,)`` float32 probability array per image.
        """
        out: list[np.ndarray] = []
        for runs in chw_batches(batch, self._batch_size):
            out.extend(self._predict(runs))
        return out

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        return {
            "model_name_or_path": self._name,
            "device": self._device_arg,
            "batch_size": self._batch_size,
            "backend": self._backend,
            "threads": self._threads,
            "execution_mode": self._execution_mode,
            "cache_dir": self._cache_dir,
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self._name!r}, device={str(self._device)!r}, batch_size={self._batch_size}, "
            f"backend={self._backend!r})"
        )
