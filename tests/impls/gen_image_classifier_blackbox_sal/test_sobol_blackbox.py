"""The black-box half of every Sobol method (``gen_image_classifier_blackbox_sal/_sobol_blackbox.py``): a design
streamed through a classifier, known answers on a model that reads one cell, the shared keywords and budgets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from smqtk_classifier.interfaces.classify_image import ClassifyImage

from xaitk_wcam.impls.gen_image_classifier_blackbox_sal import WCAM
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal._sobol_blackbox import (
    single_torch_thread,
    sobol_total_indices,
)


class TopLeft(ClassifyImage):
    """Confidence of "corner": the mean of the top-left 4 x 4 pixels of channel 0 / 255; records what it sees."""

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def get_labels(self):
        return ["corner", "flat"]

    def classify_images(self, img_iter):
        for image in img_iter:
            self.seen.append(np.array(image))
            yield {"corner": float(image[:4, :4, 0].mean()) / 255, "flat": 0.5}

    def get_config(self):
        return {}


def pixel_masks(masks: torch.Tensor) -> torch.Tensor:
    """Masks ``n x 2 x 2`` on an 8 x 8 image of 200s: each cell scales its 4 x 4 quarter."""
    return 200.0 * masks.repeat_interleave(4, dim=1).repeat_interleave(4, dim=2)[..., None].expand(-1, -1, -1, 3)


@pytest.mark.parametrize("estimator", ["jansen", "importance"])
def test_only_the_cell_the_model_reads_has_importance(estimator):
    image = np.full((8, 8, 3), 200, np.uint8)
    blackbox = TopLeft()
    with pytest.warns(RuntimeWarning, match="does not vary for 1 of 2 classes"):  # "flat" is constant
        estimate = sobol_total_indices(image, blackbox, ["corner", "flat"], pixel_masks, grid_size=2, nb_design=8,
                                       seed=0, estimator=estimator, batch_size=7)  # fmt: skip
    assert estimate.indices.shape == (2, 2, 2)
    assert estimate.indices[0, 0, 0] > 0.5
    np.testing.assert_array_equal(estimate.indices[0].ravel()[1:], 0.0)  # the other cells change nothing it reads
    np.testing.assert_array_equal(estimate.indices[1], 0.0)
    assert len(blackbox.seen) == 8 * (4 + 2) and all(seen.dtype == np.uint8 for seen in blackbox.seen)


def test_images_keep_their_alpha_and_are_clipped_to_the_input_range():
    image = np.dstack([np.full((8, 8, 3), 200, np.uint8), np.full((8, 8), 7, np.uint8)])
    blackbox = TopLeft()
    sobol_total_indices(image, blackbox, ["corner"], lambda m: 2 * pixel_masks(m), grid_size=2, nb_design=8, seed=1,
                        estimator="jansen", batch_size=16)  # fmt: skip
    assert all(seen.shape == (8, 8, 4) and (seen[..., 3] == 7).all() for seen in blackbox.seen)
    assert max(int(seen[..., :3].max()) for seen in blackbox.seen) == 255  # 400 clipped to uint8's range


def test_the_same_seed_gives_the_same_indices():
    image = np.full((8, 8, 3), 200, np.uint8)
    kwargs = {"grid_size": 2, "nb_design": 8, "estimator": "jansen", "batch_size": 5}
    a = sobol_total_indices(image, TopLeft(), ["corner"], pixel_masks, seed=3, **kwargs).indices
    b = sobol_total_indices(image, TopLeft(), ["corner"], pixel_masks, seed=3, **kwargs).indices
    np.testing.assert_array_equal(a, b)


def test_single_torch_thread_restores_the_callers_count():
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with single_torch_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)


def test_budgets_of_the_shared_keywords():
    fixed = WCAM(grid_size=4, nb_design=16, levels=2)
    assert fixed.n_evaluations == 16 * 18 and fixed.largest_design == 16 and fixed.minimal_evaluations == 8 * 18
    auto = WCAM(grid_size=4, nb_design="auto", max_evaluations=1000, levels=2)
    assert auto.n_evaluations == 1000 and auto.largest_design == 32  # 32 * 18 = 576 <= 1000 < 64 * 18
    assert auto.memory_estimate_bytes((64, 64, 3)) > fixed.memory_estimate_bytes((64, 64, 3))
    assert "progress" not in auto.get_config() and auto.get_config()["max_evaluations"] == 1000


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"nb_design": "auto"}, ValueError, "max_evaluations is required"),
        ({"nb_design": "auto", "max_evaluations": 10}, ValueError, "below one minimal design"),
        ({"nb_design": 8, "max_evaluations": 100}, ValueError, "only applies to nb_design='auto'"),
        ({"nb_design": "many"}, ValueError, "power of two or 'auto'"),
        ({"estimator": "saltelli"}, ValueError, "estimator"),
        ({"tolerance": 1.0}, ValueError, "tolerance"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_wrong_keywords(kwargs, error, words):
    with pytest.raises(error, match=words):
        WCAM(grid_size=4, levels=2, **{"nb_design": 8, **kwargs})
