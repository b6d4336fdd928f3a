"""Execute every notebook in ``notebooks/`` with ``FAST=True`` through papermill, and check that the
committed notebooks carry no outputs (an nbstripout-style check).

Each notebook's first code cell is tagged ``parameters`` (papermill); ``FAST=True`` shrinks grids,
designs and image counts so the five run in a few minutes on 2 CPU cores. A failing cell raises
``papermill.PapermillExecutionError`` and fails the test. The executed copies go to pytest's
``tmp_path``; the notebooks in the repository are never written.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = {
    "01_wcam_quickstart.ipynb",
    "02_perturbation_vs_saliency.ipynb",
    "03_spectral_profile.ipynb",
    "04_faithfulness_metrics.ipynb",
    "06_wam_vs_wcam.ipynb",
    "05_wcam_detector.ipynb",
}


def test_expected_notebooks_exist():
    assert EXPECTED <= {path.name for path in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_committed_without_outputs(path: Path):
    notebook = nbformat.read(str(path), as_version=4)
    nbformat.validate(notebook)
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, f"{path.name}: code cells {dirty} carry outputs or an execution count; strip them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_parameters_cell(path: Path):
    notebook = nbformat.read(str(path), as_version=4)
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert "parameters" in first_code.metadata.get("tags", []), f"{path.name}: first code cell is not tagged"
    assert "FAST = False" in first_code.source and "MODEL_ID = None" in first_code.source


@pytest.fixture
def notebook_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Offline and headless: no Hub access, the Agg matplotlib backend."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("PYTHONWARNINGS", "ignore::DeprecationWarning")
    return tmp_path


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_fast(path: Path, notebook_env: Path):
    import papermill

    output = notebook_env / path.name
    papermill.execute_notebook(
        str(path),
        str(output),
        parameters={"FAST": True},
        cwd=str(path.parent),
        kernel_name="python3",
        progress_bar=False,
        request_save_on_cell_execute=False,
    )
    executed = nbformat.read(str(output), as_version=4)
    errors = [
        output_item
        for cell in executed.cells
        if cell.cell_type == "code"
        for output_item in cell.get("outputs", [])
        if output_item.get("output_type") == "error"
    ]
    assert not errors
    injected = [cell for cell in executed.cells if "injected-parameters" in cell.metadata.get("tags", [])]
    assert injected and "FAST = True" in injected[0].source
