"""``SaliencyRobustnessStudy``: nrtk perturbers x saliency generators x metrics over an image source."""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from xaitk_wcam.interfaces.image_source import ImageSource, SourceRecord, iter_records
from xaitk_wcam.study.config import build_plugin, config_hash, load_config, resolve_config
from xaitk_wcam.study.executors import StudyExecutor, StudySetupError, open_executor, parse_executor
from xaitk_wcam.study.spec import StudySpec
from xaitk_wcam.study.store import ResultsStore, item_key
from xaitk_wcam.study.work import ImageUnit
from xaitk_wcam.utils.checks import check_int

#: Torch intra-op threads per worker unless ``threads`` is given (see :meth:`SaliencyRobustnessStudy.run`).
DEFAULT_THREADS = 1


def iter_source(source: Any) -> Iterator[SourceRecord]:
    """Records of a source: an :class:`~xaitk_wcam.interfaces.image_source.ImageSource`'s own
    :meth:`~xaitk_wcam.interfaces.image_source.ImageSource.records`, or, for any other iterable of
    ``(image_id, image, label)``, :func:`~xaitk_wcam.interfaces.image_source.iter_records` of it."""
    return source.records() if isinstance(source, ImageSource) else iter_records(iter(source))


class SaliencyRobustnessStudy:
    """How saliency maps change when nrtk perturbs the images a classifier sees.

    For every image of the source x perturbation (the unperturbed reference included) x saliency method,
    the study records the classifier's prediction, the map of the target class, every metric (map
    metrics, comparisons with the reference map of the same image and method, faithfulness) and, for
    WCAM, the scale profile. Follows the perturbation-versus-saliency exploration of nrtk's
    ``nrtk_saliency`` notebook, and the spectral (wavelet) view of robustness of Kasmi et al., "Assessment of
    the Reliability of a Model's Decision by Generalizing Attribution to the Wavelet Domain" (2023).

    Cost: per image, ``(1 + P)`` items, each one classification plus, per method, the method's own forward
    passes (WCAM: ``nb_design * (grid_size**2 + 2)`` images) and the faithfulness metrics' passes.

    :param config: A study config (see :mod:`xaitk_wcam.study.config`); validated here, before any model
        is loaded: unknown plugin types, wrong parameters and malformed sections raise
        :class:`~xaitk_wcam.study.config.StudyConfigError` (a ``ValueError``).
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = dict(config)
        self.resolved = resolve_config(config)
        self.config_hash = config_hash(self.resolved)
        self.spec = StudySpec.from_resolved(self.resolved)

    @classmethod
    def from_file(cls, path: str | Path) -> SaliencyRobustnessStudy:
        """Load a ``.json``/``.yaml`` study config."""
        return cls(load_config(path))

    # -- the image stream ---------------------------------------------------------------------------
    def _units(self, source: Any, store: ResultsStore) -> Iterator[ImageUnit]:
        n_items = len(self.spec.perturbations) + 1
        for index, record in enumerate(iter_source(source)):
            unit = ImageUnit(index, record.image_id, record.image, record.label, [], error=record.error)
            unit.todo = [p for p in range(n_items) if not store.done(item_key(index, p), unit.image_id)]
            yield unit

    # -- running ------------------------------------------------------------------------------------
    def run(
        self,
        out_dir: str | Path,
        *,
        resume: bool = False,
        executor: str = "local",
        threads: int | None = None,
        progress: bool = True,
        report: bool = True,
    ) -> Any:
        """Run the study into ``out_dir``; return the results table (a ``pandas.DataFrame``).

        :param out_dir: Output folder (see :mod:`xaitk_wcam.study.store` for its layout).
        :param resume: Keep and skip the items already committed in ``out_dir`` (same config hash only).
        :param executor: ``local``, ``processes:N``, ``dask:local:N`` or ``dask:ADDRESS``
            (:mod:`xaitk_wcam.study.executors`).
        :param threads: Torch intra-op threads per worker (``local``: in this process, restored afterwards).
            Default :data:`DEFAULT_THREADS` (1) for every executor: torch's CPU kernels sum in an order that
            depends on the thread count (last-bit differences), so equal ``threads`` is what makes the results
            of ``local``, ``processes:N`` and Dask identical. Raise it when workers are fewer than cores.
        :param progress: Show a tqdm bar over images x perturbations (with a total and an ETA when the image
            source knows its length).
        :param report: Write ``figures/`` and ``report.html`` after the table.
        :raises xaitk_wcam.study.store.OutDirError: ``out_dir`` holds another study, or this one without
            ``resume``.
        :raises StudySetupError: A worker could not build the classifier.
        """
        parse_executor(executor)  # a wrong value fails before anything is written
        threads = DEFAULT_THREADS if threads is None else check_int("threads", threads, 1)
        store = ResultsStore(out_dir)
        store.check(self.config_hash, resume)
        source = build_plugin("images", self.resolved["images"], "images")
        n_items = len(self.spec.perturbations) + 1
        try:
            total: int | None = len(source) * n_items
        except TypeError:
            total = None
        # The local executor loads the classifier here: a start that fails leaves OUT_DIR untouched.
        with open_executor(executor, self.resolved, self.config_hash, str(store.root), threads) as pool:
            store.prepare(self.resolved, self.config_hash, resume)
            bar = _progress_bar(total, progress)
            try:
                keys = self._dispatch(pool, source, store, bar)
            finally:
                bar.close()
        frame = store.assemble(self.spec.row_columns(), keys)
        if report:
            from xaitk_wcam.study.report import write_report

            write_report(store, self.spec, frame)
        return frame

    def _dispatch(self, pool: StudyExecutor, source: Any, store: ResultsStore, bar: Any) -> list[str]:
        """Submit every unit with work left, at most ``pool.max_in_flight`` at a time; return all item keys."""
        n_items = len(self.spec.perturbations) + 1
        keys: list[str] = []
        pending: set[cf.Future] = set()
        expected: set[str] = set()
        done_before = 0

        def drain(block_until: int) -> None:
            while len(pending) > block_until:
                finished, _ = cf.wait(pending, timeout=0.5, return_when=cf.FIRST_COMPLETED)
                for future in finished:
                    pending.discard(future)
                    future.result()  # a worker that could not build the study, or an I/O error: stop
                bar.n = done_before + len(store.committed_keys() & expected)
                bar.refresh()

        try:
            for unit in self._units(source, store):
                keys += [item_key(unit.image_index, p) for p in range(n_items)]
                done_before += n_items - len(unit.todo)
                if not unit.todo:
                    continue
                expected.update(item_key(unit.image_index, p) for p in unit.todo)
                pending.add(pool.submit(unit, on_commit=lambda _key: bar.update(1)))
                drain(pool.max_in_flight - 1)
            drain(0)
        except BaseException:
            for future in pending:
                future.cancel()
            raise
        return keys


def _progress_bar(total: int | None, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="images x perturbations", unit="item", disable=not enabled, dynamic_ncols=True)


__all__ = ["SaliencyRobustnessStudy", "StudySetupError"]
