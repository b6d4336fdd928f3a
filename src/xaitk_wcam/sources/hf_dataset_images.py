"""Images from a HuggingFace ``datasets`` dataset (local folder, ``save_to_disk`` folder or Hub id)."""

from __future__ import annotations

import functools
import os
from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Any

from xaitk_wcam.interfaces.image_source import DEFAULT_MAX_PIXELS, ImageSource
from xaitk_wcam.utils.extras import has_extra, require_extra

__all__ = ["HFDatasetImages"]


class HFDatasetImages(ImageSource):
    """One split of a HuggingFace ``datasets`` dataset.

    ``path_or_id`` may be a folder written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk``
    (read with ``load_from_disk``), a local folder of images, optionally with one sub-folder per class
    (the ``imagefolder`` builder; offline), or a Hub dataset id such as ``"uoft-cs/cifar10"`` (needs
    network or the ``datasets`` cache). The dataset is opened at construction, so a wrong path, split or
    column fails early. Requires the ``datasets`` package.

    ``image_id`` is ``"<split>/<row index>"``; ``label`` is the ``label_column`` value (class name for a
    ``ClassLabel`` column) or ``None``.

    Example (online): ``HFDatasetImages("uoft-cs/cifar10", split="test", image_column="img",
    label_column="label", limit=16, streaming=True)``.

    :param path_or_id: Folder or Hub dataset id.
    :param split: Split name (``"train"``, ``"test"``, ...).
    :param image_column: Column holding the images (``datasets.Image`` feature, PIL images or arrays).
    :param label_column: Column holding the labels, or ``None``.
    :param limit: Yield at most this many images.
    :param cache_dir: ``datasets`` cache folder (``None``: the ``datasets`` default,
        ``~/.cache/huggingface/datasets``).
    :param streaming: Stream a Hub dataset instead of downloading it whole (useful with ``limit``).
    :param max_pixels: Refuse larger images (see :class:`~xaitk_wcam.interfaces.image_source.ImageSource`).
    """

    @classmethod
    def is_usable(cls) -> bool:
        """Usable when ``datasets`` (the ``hf`` extra) is installed."""
        return has_extra("hf")

    def __init__(
        self,
        path_or_id: str,
        split: str = "train",
        image_column: str = "image",
        label_column: str | None = None,
        limit: int | None = None,
        cache_dir: str | None = None,
        streaming: bool = False,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        require_extra("hf", "HFDatasetImages")
        super().__init__(limit=limit, max_pixels=max_pixels)
        if not isinstance(path_or_id, (str, os.PathLike)) or not str(path_or_id):
            raise ValueError(f"path_or_id: expected a folder or a Hub dataset id; got {path_or_id!r}")
        self._path_or_id = str(path_or_id)
        self._split = split
        self._image_column = image_column
        self._label_column = label_column
        self._cache_dir = cache_dir
        self._streaming = bool(streaming)
        self._dataset = self._open()
        features = self._dataset.features
        columns = list(features) if features is not None else None
        for name, value in (("image_column", image_column), ("label_column", label_column)):
            if value is not None and columns is not None and value not in columns:
                raise ValueError(f"{name}: no column {value!r} in {self._path_or_id!r}; expected one of {columns}")
        label_feature = features.get(label_column) if (features is not None and label_column) else None
        self._int2str = getattr(label_feature, "int2str", None)

    def _open(self) -> Any:
        try:
            import datasets
        except ImportError as exc:  # pragma: no cover - optional dependency
            raise ImportError("HFDatasetImages needs the 'datasets' package: pip install datasets") from exc
        path = Path(self._path_or_id).expanduser()
        looks_local = path.exists() or self._path_or_id.startswith((".", "/", "~")) or self._path_or_id.count("/") > 1
        if looks_local and not path.is_dir():
            raise FileNotFoundError(
                f"path_or_id: folder {self._path_or_id!r} does not exist; expected a dataset folder or a Hub id"
            )
        try:
            if path.is_dir() and ((path / "dataset_dict.json").is_file() or (path / "state.json").is_file()):
                data = datasets.load_from_disk(str(path))
                if isinstance(data, datasets.DatasetDict):
                    if self._split not in data:
                        raise ValueError(f"split: {self._split!r} not in {list(data)}")
                    data = data[self._split]
                return data
            return datasets.load_dataset(
                str(path) if path.is_dir() else self._path_or_id,
                split=self._split,
                cache_dir=self._cache_dir,
                streaming=self._streaming,
            )
        except ValueError as exc:
            raise ValueError(f"path_or_id={self._path_or_id!r}, split={self._split!r}: {exc}") from exc
        except (OSError, ConnectionError) as exc:
            raise OSError(
                f"path_or_id={self._path_or_id!r}: could not open the dataset ({exc}); expected a local dataset "
                "folder, or a Hub id with network access (HF_DATASETS_OFFLINE / HF_HUB_OFFLINE block downloads)"
            ) from exc

    def _label(self, label: Any) -> Hashable | None:
        if self._int2str is not None and isinstance(label, int):
            return self._int2str(label)
        return label

    def _iter_images(self) -> Iterator[tuple[str, Any, Hashable | None]]:
        if self._streaming:  # no random access: a row that fails to decode ends the stream (one error record)
            for index, row in enumerate(self._dataset):
                label = None if self._label_column is None else self._label(row[self._label_column])
                image_id = f"{self._split}/{index}"  # converted when read: a mode refused costs one record
                yield image_id, functools.partial(_to_array, row[self._image_column], image_id), label
            return
        # Labels are read as a column (no image decoding); each image is decoded on its own, so a corrupt
        # one costs one record.
        n = self._count()
        labels = [None] * n if self._label_column is None else self._dataset[self._label_column]
        for index in range(n):
            read = functools.partial(_read_row, self._dataset, index, self._image_column)
            yield f"{self._split}/{index}", read, None if labels[index] is None else self._label(labels[index])

    def _count(self) -> int | None:
        return None if self._streaming else len(self._dataset)

    def get_config(self) -> dict[str, Any]:
        return {
            "path_or_id": self._path_or_id,
            "split": self._split,
            "image_column": self._image_column,
            "label_column": self._label_column,
            **super().get_config(),
            "cache_dir": self._cache_dir,
            "streaming": self._streaming,
        }


def _read_row(dataset: Any, index: int, column: str) -> Any:
    return _to_array(dataset[index][column], f"row {index}")  # the record carries the split


def _to_array(image: Any, image_id: str) -> Any:
    """PIL image -> array by its mode's rule (:func:`xaitk_wcam.utils.images.pil_image_array`); arrays pass
    through."""
    if isinstance(getattr(image, "mode", None), str):
        from xaitk_wcam.utils.images import pil_image_array

        return pil_image_array(image, image_id)
    return image
