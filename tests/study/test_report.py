"""The study report reads as a page: tables that scroll, blanks that say why, a legend of the metrics; its titles
are plain text, it shows only the run's items and leaves constant outputs out of its means (issue 20)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from nrtk.impls.perturb_image.photometric.blur import AverageBlurPerturber
from PIL import Image
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from smqtk_core.configuration import to_config_dict
from study_helpers import fake_config
from xaitk_saliency.impls.saliency_metric.entropy import Entropy

from xaitk_wcam.impls.faithfulness import Deletion
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.fourier_sobol import FourierSobol
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.wcam import WCAM
from xaitk_wcam.sources import FolderImages
from xaitk_wcam.study import ResultsStore, SaliencyRobustnessStudy
from xaitk_wcam.study.report import image_figure, profile_figure


def test_report_marks_blanks_and_explains_every_column(tmp_path: Path) -> None:
    config = fake_config(n=1, size=32)
    config["metrics"].append(to_config_dict(Deletion(max_steps=4, fill="mean")))
    config["saliency"]["fourier"] = to_config_dict(FourierSobol(grid_size=4, nb_design=2, batch_size=16))
    SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False)
    page = re.sub(r'src="data:image/png;base64,[^"]*"', "", (tmp_path / "out" / "report.html").read_text())
    assert "NaN" not in page and "nan</td>" not in page
    assert page.count("<div class='scroll'>") >= 2  # the summary and the full table scroll instead of overflowing
    assert "<td>n/a</td>" in page  # Deletion on FourierSobol's spectrum maps
    assert "<td>ref</td>" in page  # comparisons on the reference rows
    for column in ("dauc", "dc", "SSD", "XCorr", "Entropy"):
        assert f"<dt>{column}</dt>" in page
    assert "Deletion AUC: confidence as the most salient pixels are removed first; lower is better" in page
    assert "Shannon entropy of the map read as a distribution over its pixels" in page  # not xaitk's class doc


class DollarLabels(ClassifyImage):
    """Mean colour -> three probabilities, with labels that are invalid mathtext."""

    def get_labels(self) -> list[str]:
        return ["p$_$", "q$^$", "r$\\frac$"]

    def classify_images(self, img_iter: Any) -> Any:
        for image in img_iter:
            m = np.asarray(image, dtype=np.float64).reshape(-1, 3).mean(axis=0) / 64
            e = np.exp(m - m.max())
            yield dict(zip(self.get_labels(), (e / e.sum()).tolist(), strict=True))

    def get_config(self) -> dict[str, Any]:
        return {}


def _folder(folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        pixels = np.random.default_rng(i).integers(0, 256, (16, 16, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / name)
    return folder


def _config(images: Path, classifier: ClassifyImage | None = None) -> dict[str, Any]:
    config = fake_config()
    if classifier is not None:
        config["classifier"] = to_config_dict(classifier)
    config["images"] = to_config_dict(FolderImages(str(images)))
    config["perturbers"] = [to_config_dict(AverageBlurPerturber(ksize=3))]
    config["saliency"] = {"wcam": to_config_dict(WCAM(levels=1, grid_size=2, nb_design=2, batch_size=8))}
    config["metrics"] = [to_config_dict(Entropy())]
    return json.loads(json.dumps(config))


def test_dollar_signs_in_image_ids_and_labels_are_plain_text(tmp_path: Path) -> None:
    """Issue 20, failure 11: a ``$...$`` pair in an image id or a label was parsed as mathtext: no report.html."""
    images = _folder(tmp_path / "images", ["a$^$b.png", "plain.png"])
    study = SaliencyRobustnessStudy(_config(images, DollarLabels()))
    study.run(tmp_path / "out", progress=False)
    assert (tmp_path / "out" / "report.html").exists()
    fig = image_figure(ResultsStore(tmp_path / "out"), study.plan, 0)
    title = fig.get_suptitle()
    assert "a$^$b.png" in title and re.search(r"[pqr]\$", title), title
    texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_parse_math")) if "$" in t.get_text()]
    assert texts and not any(t.get_parse_math() for t in texts)


def test_the_resumed_report_shows_only_the_runs_items(tmp_path: Path) -> None:
    """Issue 20, failure 13: after an image left the folder, the resumed report still showed its figure."""
    images = _folder(tmp_path / "images", ["a.png", "b.png", "c.png"])
    study = SaliencyRobustnessStudy(_config(images))
    study.run(tmp_path / "out", progress=False)
    (images / "b.png").unlink()
    frame = study.run(tmp_path / "out", resume=True, progress=False)
    assert sorted(set(frame["image_id"])) == ["a.png", "c.png"]
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert re.findall(r'alt="(image_\d+\.png)"', report) == ["image_000000.png", "image_000001.png"]
    assert sorted(p.name for p in (tmp_path / "out" / "figures").glob("image_*.png")) == [
        "image_000000.png",
        "image_000001.png",
    ]
    assert "b.png" not in report


def test_all_zero_scale_profiles_are_left_out_of_the_mean_profile_with_a_warning() -> None:
    """Issue 20, failure 12: a class whose output never varies has an all-zero map; its zero shares were averaged
    into the profile, so a reference profile summed to 0.5."""
    study = SaliencyRobustnessStudy(fake_config())  # wcam at levels=2: scale_share_0 ... scale_share_2
    perturbation = study.plan.perturbations[0]
    rows = []
    for image, shares in (("img0", [0.2, 0.3, 0.5]), ("img1", [0.0, 0.0, 0.0])):
        for pid in ("reference", perturbation.id):
            rows.append({"image_id": image, "perturbation": pid, "method": "wcam", "status": "ok",
                         **{f"scale_share_{i}": v for i, v in enumerate(shares)}})  # fmt: skip
    frame = pd.DataFrame(rows)
    with pytest.warns(RuntimeWarning, match=r"2 of 4 ok rows of wcam have an all-zero map"):
        fig = profile_figure(frame, study.plan, "wcam", perturbation.group, [perturbation])
    heights = [bar.get_height() for bar in fig.axes[0].patches]
    reference = heights[:3]  # the reference's bars first, then the perturbation's
    np.testing.assert_allclose(reference, [0.2, 0.3, 0.5])
    assert sum(reference) == pytest.approx(1.0)


def test_long_perturbation_names_break_before_their_parameters() -> None:
    from xaitk_wcam.study.report import _wrapped

    assert _wrapped("AverageBlurPerturber(ksize=3)") == "AverageBlurPerturber\n(ksize=3)"
    assert _wrapped("reference") == "reference"
    assert all(len(line) <= 24 for line in _wrapped("GaussianNoisePerturber(mean=0.0, var=0.01, seed=3)").split("\n"))
