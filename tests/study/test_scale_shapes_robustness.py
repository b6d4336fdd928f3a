"""The shipped known-answer robustness study (``examples/scale-shapes-robustness.json``): ScaleShapes test and
cue-conflict images (Geirhos et al., ICLR 2019) under an nrtk blur sweep, end to end on a tiny version of it.

An identity perturbation (``ksize=1``) never gets ``moves``; ``verdicts.csv`` and ``robustness.csv`` count exactly
the complete cases of ``results.csv``; blur flips the texture-biased model on cue-conflict images and moves the
deterministic gradients' maps."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from xaitk_wcam.cli import main
from xaitk_wcam.statistics.change import as_change
from xaitk_wcam.study.config import load_config, resolve_config
from xaitk_wcam.study.plan import NOISE_FLOOR, REFERENCE, StudyPlan

CONFIG = Path(__file__).resolve().parents[2] / "examples" / "scale-shapes-robustness.json"
SOURCE = "xaitk_wcam.sources.scale_shapes_images.ScaleShapesImages"
WCAM = "xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam.WCAM"
FACTORY = "nrtk.impls.perturb_factory.PerturberStepFactory"
IDENTITY = "AverageBlurPerturber(ksize=1)"
STRONGEST = "AverageBlurPerturber(ksize=9)"
DIRECTIONS = {"xcorr": "similarity", "spearman": "similarity", "ssd": "distance"}


def test_the_shipped_config_is_the_known_answer_study() -> None:
    """At least 100 generated images of both splits, the texture-biased model, a blur sweep from the identity."""
    resolved = resolve_config(load_config(CONFIG))
    plan = StudyPlan.from_resolved(resolved, "")
    images = resolved["images"][SOURCE]
    assert images["n"] * len(images["split"]) >= 100 and set(images["split"]) == {"test", "cue_conflict"}
    assert "scale-shapes-standard" in json.dumps(resolved["classifier"])
    assert [p.id for p in plan.perturbations] == [f"AverageBlurPerturber(ksize={k})" for k in (1, 3, 5, 7, 9)]
    assert {"wcam", "gradients"} == set(plan.method_names)
    assert plan.method("wcam").seeded and not plan.method("gradients").seeded
    assert set(DIRECTIONS) <= {c.column for c in plan.columns}


def tiny_config() -> dict[str, Any]:
    """The shipped config on 3 + 3 images, ``ksize`` 1, 5 and 9, WCAM at half the design."""
    config = copy.deepcopy(load_config(CONFIG))
    config["images"][SOURCE]["n"] = 3
    config["perturbers"][FACTORY].update(start=1, stop=10, step=4)
    config["saliency"]["wcam"][WCAM]["nb_design"] = 2
    return config


def complete_cases(results: pd.DataFrame, method: str, metric: str, perturbation: str, seeded: bool) -> int:
    """Images with the perturbed value of ``metric`` and, for a seeded method, its noise-floor value."""
    rows = results[results["method"] == method].set_index(["image_id", "perturbation"])[metric].unstack()
    have = rows[perturbation].notna()
    if seeded:
        have &= rows[NOISE_FLOOR].notna()
    return int(have.sum())


@pytest.mark.slow
def test_tiny_known_answer_study_end_to_end(tmp_path: Path) -> None:
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(tiny_config()))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["study", str(config_path), str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "0 with errors" in result.output and (out / "report.html").is_file()
    results = pd.read_csv(out / "results.csv")
    verdicts = pd.read_csv(out / "verdicts.csv")
    robustness = pd.read_csv(out / "robustness.csv")
    assert results["image_id"].nunique() == 6 and (results["status"] == "ok").all()

    # the identity changes no pixel: the very same map (independent draws are seeded by the pixels), never "moves"
    identity = verdicts[verdicts["perturbation"] == IDENTITY]
    assert len(identity) == 2 * len(DIRECTIONS)
    assert (identity["verdict"] == "within noise").all(), identity
    for metric, direction in DIRECTIONS.items():
        values = results.loc[results["perturbation"] == IDENTITY, metric].to_numpy(float)
        np.testing.assert_allclose(as_change(values, direction), 0.0, atol=1e-9)

    # every verdict counts its complete cases, and so does every association of the robustness link
    assert len(verdicts) == 2 * len(DIRECTIONS) * 3
    for row in verdicts.itertuples():
        assert row.n_images == complete_cases(results, row.method, row.metric, row.perturbation, row.method == "wcam")
    associations = robustness[robustness["statistic"].isin(["spearman", "auroc"])]
    assert set(associations["perturbation"]) == {IDENTITY, "AverageBlurPerturber(ksize=5)", STRONGEST}
    changes = associations[associations["feature"].str.endswith(" change")]
    for row in changes.itertuples():
        metric = row.feature.removesuffix(" change")
        assert row.n_images == complete_cases(results, row.method, metric, row.perturbation, False)
    shares = associations[associations["feature"].str.contains("share")]
    assert set(shares["method"]) == {"wcam"} and (shares["n_images"] == 6).all()
    margins = robustness[robustness["statistic"].str.startswith("warning margin")]
    assert len(margins) == 2 * len(DIRECTIONS) * 6  # six classes per method x comparison over the one sweep
    for (method, feature, n_images), counts in margins.groupby(["method", "feature", "n_images"])["value"]:
        metric = feature.removesuffix(" change")
        swept = results[(results["method"] == method) & results["perturbation"].str.startswith("AverageBlur")]
        every_strength = swept.groupby("image_id")[metric].apply(
            lambda v: v.notna().all()
        )  # the sweep's complete cases
        assert n_images == every_strength.sum() == counts.sum()

    # the known answer: blur flips the texture-biased model on cue-conflict images, and moves the gradients' maps
    by_item = results[results["method"] == "gradients"].set_index(["image_id", "perturbation"])["predicted_label"]
    conflict = [f"cue_conflict/{i}" for i in range(3)]
    flipped = [by_item[i, STRONGEST] != by_item[i, REFERENCE] for i in conflict]
    assert sum(flipped) >= 2, flipped
    strongest = verdicts[(verdicts["perturbation"] == STRONGEST) & (verdicts["method"] == "gradients")]
    assert (strongest["verdict"] == "moves").all(), strongest
