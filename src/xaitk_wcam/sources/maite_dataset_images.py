"""Images from a MAITE image-classification dataset."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Any

import numpy as np

from xaitk_wcam.interfaces.image_source import DEFAULT_MAX_PIXELS, ImageSource
from xaitk_wcam.utils.arrays import to_numpy

__all__ = ["MaiteDatasetImages"]


class MaiteDatasetImages(ImageSource):
    """A MAITE ``image_classification.Dataset`` (``dataset[i] -> (C x H x W image, (n_classes,) target,
    metadata)``).

    ``image_id`` is ``str(metadata["id"])``; ``label`` is the arg-max class of the target, mapped through
    ``dataset.metadata["index2label"]`` when present (else the class index). Images are converted from
    ``C x H x W`` to ``H x W x C`` ``uint8`` (floating images must lie in ``[0, 1]``).

    Configuration: a dataset object cannot be written to a config. ``get_config`` round-trips only when
    ``dataset`` is given as an import path ``"package.module:attribute"`` (a dataset, or a zero-argument
    factory returning one); for an object it returns ``{"dataset": None, ...}`` and ``from_config`` of that
    raises ``ValueError`` (build such sources programmatically).

    :param dataset: A MAITE image-classification dataset, or an import path to one.
    :param limit: Yield at most this many images.
    :param max_pixels: Refuse larger images (see :class:`~xaitk_wcam.interfaces.image_source.ImageSource`).
    """

    def __init__(self, dataset: Any, limit: int | None = None, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        super().__init__(limit=limit, max_pixels=max_pixels)
        from xaitk_wcam.classifiers.maite import resolve_object

        self._dataset_spec, self._dataset = resolve_object(dataset, "dataset", "MAITE image-classification dataset")
        if not (hasattr(self._dataset, "__getitem__") and hasattr(self._dataset, "__len__")):
            raise ValueError(
                f"dataset: expected a MAITE dataset (with __getitem__ and __len__); got {type(self._dataset).__name__}"
            )
        metadata = dict(getattr(self._dataset, "metadata", {}) or {})
        self._index2label = metadata.get("index2label")

    @property
    def dataset(self) -> Any:
        return self._dataset

    def _count(self) -> int:
        return len(self._dataset)

    def _iter_images(self) -> Iterator[tuple[str, Any, Hashable | None]]:
        for index in range(len(self._dataset)):
            try:
                image, target, datum_metadata = self._dataset[index]
            except Exception as err:  # one unreadable datum is one error record
                yield str(index), err, None
                continue
            image = to_numpy(image)
            if image.ndim == 3:
                image = np.moveaxis(image, 0, -1)
            target = np.asarray(to_numpy(target)).reshape(-1)
            label: Hashable | None = None
            if target.size:
                k = int(np.argmax(target))
                label = self._index2label.get(k, k) if self._index2label else k
            image_id = datum_metadata.get("id", index) if isinstance(datum_metadata, dict) else index
            yield str(image_id), image, label

    def get_config(self) -> dict[str, Any]:
        return {"dataset": self._dataset_spec, **super().get_config()}
