"""The core install: ``pip install xaitk-wcam`` without extras gives WCAM and the plugins, and a feature whose
extra is missing fails with one line naming it (the extras themselves: ``tests/utils/test_extras.py``)."""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CORE_SNIPPET = """
import sys
import numpy as np
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from xaitk_saliency.interfaces.gen_image_classifier_blackbox_sal import GenerateImageClassifierBlackboxSaliency
from xaitk_wcam import WCAM


class TopLeft(ClassifyImage):
    def get_labels(self):
        return ["corner", "rest"]

    def classify_images(self, images):
        for image in images:
            m = float(np.asarray(image, float)[:8, :8].mean() / 255)
            yield {"corner": m, "rest": 1 - m}

    def get_config(self):
        return {}


image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
result = WCAM(grid_size=4, nb_design=8, levels=2).explain(image, TopLeft())
maps = result.spatial_maps
assert maps.shape == (2, 32, 32) and maps[0, :8, :8].mean() > maps[0, 16:, 16:].mean()
assert WCAM in GenerateImageClassifierBlackboxSaliency.get_impls()
heavy = ("transformers", "captum", "pandas", "matplotlib", "nrtk", "dask", "datasets", "ot")
heavy = [m for m in heavy if m in sys.modules]
print("heavy:", heavy)
"""


@pytest.mark.slow
@pytest.mark.e2e
def test_core_install_runs_wcam_and_refuses_a_study_in_one_line(tmp_path: Path) -> None:
    """A fresh venv, ``pip install -c requirements/constraints.txt .`` (the CPU torch pinned), no extra."""
    env_dir = tmp_path / "core"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # --no-compile, and bytecode written on first import: the two runs below import a small part of what pip would
    # compile (torch's whole tree).
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": ""}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-compile", "-c", ROOT / "requirements" / "constraints.txt",
         ROOT],
        check=True, env=env, capture_output=True, timeout=1500,
    )  # fmt: skip
    listed = subprocess.run([python, "-m", "pip", "list"], check=True, capture_output=True, text=True).stdout.lower()
    for absent in ("transformers", "captum", "pandas", "matplotlib", "nrtk", "dask", "pot ", "datasets", "maite"):
        assert f"\n{absent}" not in listed, absent
    out = subprocess.run(
        [python, "-c", CORE_SNIPPET], check=True, capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert out.stdout.strip().endswith("heavy: []")
    study = subprocess.run(
        [env_dir / "bin" / "xaitk-wcam", "study", ROOT / "examples" / "blur-study.json", tmp_path / "out"],
        capture_output=True, text=True, cwd=tmp_path, env=env,
    )  # fmt: skip
    lines = [line for line in study.stderr.splitlines() if line.strip()]
    assert study.returncode == 1 and len(lines) == 1, study.stderr
    assert lines[0].startswith("Error: MissingExtraError:") and 'pip install "xaitk-wcam[study]"' in lines[0]
    assert not (tmp_path / "out").exists()
