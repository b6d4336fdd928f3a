"""The study report reads as a page: tables that scroll, blanks that say why, a legend of the metrics."""

from __future__ import annotations

import re
from pathlib import Path

from smqtk_core.configuration import to_config_dict
from study_helpers import fake_config

from xaitk_wcam.impls.faithfulness import Deletion
from xaitk_wcam.impls.gen_image_classifier_blackbox_sal.fourier_sobol import FourierSobol
from xaitk_wcam.study import SaliencyRobustnessStudy


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
