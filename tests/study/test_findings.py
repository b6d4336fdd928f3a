"""The study's answer in words (``study/findings.py``): sentences read off hand-made verdict and robustness tables."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from study_helpers import fake_config

from xaitk_wcam.statistics.margin import FLIP_ONLY, MAP_AFTER, MAP_FIRST, MAP_ONLY, NEITHER, SAME_STRENGTH
from xaitk_wcam.study import resolve_config
from xaitk_wcam.study.findings import link_sentence, margin_sentence, sweep_name, verdict_sentence
from xaitk_wcam.study.plan import StudyPlan
from xaitk_wcam.study.verdicts import MARGIN


@pytest.fixture(scope="module")
def plan() -> StudyPlan:
    return StudyPlan.from_resolved(resolve_config(fake_config()), "")  # a blur sweep at ksize 3 and 5


def _verdicts(rows: list[tuple[str, str, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"method": "wcam", "metric": metric, "perturbation": p, "n_images": 6, "change": change,
             "ci_low": change - 0.1, "ci_high": change + 0.1, "verdict": verdict}
            for metric, p, change, verdict in rows
        ]
    )  # fmt: skip


def test_a_sweep_is_named_by_its_perturber(plan):
    assert sweep_name(list(plan.perturbations)) == "AverageBlurPerturber"


def test_the_verdict_sentence_names_where_the_map_moves_stays_or_cannot_say(plan):
    weak, strong = (p.id for p in plan.perturbations)
    verdicts = _verdicts([
        ("SSD", weak, 0.05, "within noise"), ("SSD", strong, 0.4, "moves"),
        ("XCorr", weak, 0.0, "within noise"), ("XCorr", strong, 0.01, "within noise"),
        ("Entropy", weak, 0.0, "too few images"), ("Entropy", strong, 0.0, "too few images"),
    ])  # fmt: skip
    sentence = verdict_sentence("wcam", list(plan.perturbations), verdicts, ["SSD", "XCorr", "Entropy"])
    assert sentence == (
        "Under AverageBlurPerturber: moves beyond its noise on SSD from ksize = 5 (change beyond the noise 0.4, "
        "90 % CI [0.3, 0.5] at ksize = 5); stays within its noise on XCorr; has too few images for a verdict on "
        "Entropy (a verdict needs 5) (n = 6)."
    )


def test_the_link_sentence_reads_the_strongest_strength(plan):
    strong = plan.perturbations[-1].id
    robustness = pd.DataFrame(
        [
            {"method": "wcam", "perturbation": strong, "feature": "SSD change", "outcome": "confidence drop",
             "n_images": 6, "statistic": "spearman", "value": 0.71, "ci_low": 0.2, "ci_high": 0.93},
            {"method": "wcam", "perturbation": strong, "feature": "SSD change", "outcome": "flip", "n_images": 6,
             "statistic": "auroc", "value": np.nan, "ci_low": np.nan, "ci_high": np.nan},
        ]
    )  # fmt: skip
    assert link_sentence("wcam", list(plan.perturbations), robustness, plan, "SSD") == (
        "At ksize = 5, its SSD change: Spearman with the confidence drop 0.71 [0.20, 0.93] (n = 6, 95 % CI)."
    )
    none = link_sentence("sw", list(plan.perturbations), robustness, plan, "SSD")  # no row of this method
    assert none.startswith("At ksize = 5: no link") and none.endswith("n = 0).") and "Spearman" not in none


def test_the_margin_sentence_counts_samples(plan):
    group = plan.perturbations[0].group
    counts = {MAP_FIRST: 3, SAME_STRENGTH: 1, MAP_AFTER: 0, MAP_ONLY: 1, FLIP_ONLY: 0, NEITHER: 1}
    robustness = pd.DataFrame(
        [
            {"method": "wcam", "perturbation": group, "feature": "SSD change", "statistic": MARGIN.format(name),
             "n_images": 6, "value": float(value)}
            for name, value in counts.items()
        ]
    )  # fmt: skip
    sentence = margin_sentence("wcam", "SSD", group, robustness, plan)
    assert sentence.startswith("Warning margin (SSD)") and "flip" in sentence
    # the images, then the counts in the order before / same strength / after / map only / flip only / neither
    assert [int(n) for n in re.findall(r"\b\d+\b", sentence)] == [6, 3, 1, 0, 1, 0, 1]
    assert margin_sentence("wcam", "XCorr", group, robustness, plan) is None
