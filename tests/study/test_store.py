"""The results store's files (issue 20, failure 15: created 0600 by ``mkstemp``, unlike every other output)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pandas as pd
import pytest
from smqtk_core.configuration import to_config_dict
from study_helpers import FakeClassifier, SimulatedKill, fake_config, read_results

from xaitk_wcam.study import (
    OutDirError,
    ResultsStore,
    SaliencyRobustnessStudy,
)


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_output_files_get_the_process_normal_mode(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        SaliencyRobustnessStudy(json.loads(json.dumps(fake_config(n=1)))).run(tmp_path / "out", progress=False)
    finally:
        os.umask(previous)
    out = tmp_path / "out"
    files = [out / "results.csv", out / "results.parquet", out / "config.json", out / "study.json", out / "report.html"]
    files += [*(out / "items").iterdir(), *(out / "maps").iterdir(), *(out / "figures").iterdir()]
    assert len(files) > 8
    modes = {str(f.relative_to(out)): oct(stat.S_IMODE(f.stat().st_mode)) for f in files}
    assert set(modes.values()) == {oct(0o666 & ~umask)}, modes
    assert not [p for p in out.rglob("*.tmp")]


def test_kill_inside_a_commit_leaves_no_half_item(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = fake_config(n=2, size=32)
    SaliencyRobustnessStudy(config).run(tmp_path / "full", progress=False, report=False)
    expected = read_results(tmp_path / "full")

    import xaitk_wcam.study.store as store_mod

    replaced = {"n": 0}
    real_replace = os.replace

    def replace(src: str, dst: str) -> None:
        replaced["n"] += 1
        if replaced["n"] == 6:  # config.json, study.json, item 1 (maps, JSON), item 2 maps: not its JSON
            raise SimulatedKill("killed between the maps and the item record")
        real_replace(src, dst)

    monkeypatch.setattr(store_mod.os, "replace", replace)
    out = tmp_path / "killed"
    with pytest.raises(SimulatedKill):
        SaliencyRobustnessStudy(config).run(out, progress=False, report=False)
    monkeypatch.setattr(store_mod.os, "replace", real_replace)
    assert ResultsStore(out).committed_keys() == {"000000-0000"}
    assert (out / "maps" / "000000-0001.npz").exists()  # orphan maps: not a committed item
    assert not list((out / "items").glob("*.tmp")) and not list((out / "items").glob(".*"))
    SaliencyRobustnessStudy(config).run(out, resume=True, progress=False, report=False)
    pd.testing.assert_frame_equal(read_results(out), expected)


def test_out_dir_guard(tmp_path: Path) -> None:
    config = fake_config(n=1, size=32)
    out = tmp_path / "out"
    SaliencyRobustnessStudy(config).run(out, progress=False, report=False)
    with pytest.raises(OutDirError, match="pass --resume"):
        SaliencyRobustnessStudy(config).run(out, progress=False, report=False)
    other = fake_config(n=1, size=32)
    other["metrics"] = other["metrics"][:1]
    for resume in (False, True):
        with pytest.raises(OutDirError, match="different config"):
            SaliencyRobustnessStudy(other).run(out, resume=resume, progress=False, report=False)
    before = (out / "results.csv").read_text()
    FakeClassifier.calls = 0
    SaliencyRobustnessStudy(config).run(out, resume=True, progress=False, report=False)
    assert FakeClassifier.calls == 0  # everything was already done
    assert (out / "results.csv").read_text() == before
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("x")
    with pytest.raises(OutDirError, match="holds no study"):
        SaliencyRobustnessStudy(config).run(tmp_path / "junk", progress=False, report=False)


# -- nothing silently wrong, round four: the study's own causes ---------------------------------------------------
def test_a_resume_never_mixes_two_models(tiny_resnet_dir: Path, tmp_path: Path) -> None:
    """The weights saved anew at the same path: the folder records its model's identity and refuses to resume."""
    import shutil

    import torch
    from transformers import ResNetForImageClassification

    from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier

    folder = tmp_path / "model"
    shutil.copytree(tiny_resnet_dir, folder)
    config = fake_config(n=2, size=32)
    config["classifier"] = json.loads(json.dumps(to_config_dict(HuggingFaceImageClassifier(str(folder)))))
    config["saliency"] = {"sw": config["saliency"]["sw"]}
    config["metrics"] = config["metrics"][1:]
    SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False, report=False)
    meta = json.loads((tmp_path / "out" / "study.json").read_text())
    assert str(folder / "model.safetensors") in meta["model"]["files"]
    SaliencyRobustnessStudy(config).run(tmp_path / "out", resume=True, progress=False, report=False)  # same model
    model = ResNetForImageClassification.from_pretrained(folder)
    torch.manual_seed(1)
    for parameter in model.parameters():
        torch.nn.init.normal_(parameter)
    model.save_pretrained(folder)  # new weights at the same path
    with pytest.raises(OutDirError, match=r"another model .*the model's files changed \(model.safetensors\)"):
        SaliencyRobustnessStudy(config).run(tmp_path / "out", resume=True, progress=False, report=False)


def test_a_folder_that_records_no_model_resumes_with_a_warning(tmp_path: Path) -> None:
    config = fake_config(n=1, size=32)
    SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False, report=False)
    meta_path = tmp_path / "out" / "study.json"
    meta = json.loads(meta_path.read_text())
    del meta["model"]  # as 0.3 wrote it
    meta_path.write_text(json.dumps(meta))
    with pytest.warns(RuntimeWarning, match="does not record its model"):
        SaliencyRobustnessStudy(config).run(tmp_path / "out", resume=True, progress=False, report=False)


def test_maps_of_another_format_are_refused_not_read_empty(tmp_path: Path) -> None:
    config = fake_config(n=1, size=32)
    SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False, report=False)
    meta_path = tmp_path / "out" / "study.json"
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "format": 2}))
    with pytest.raises(OutDirError, match="holds results in format 2"):
        ResultsStore(tmp_path / "out").load_arrays("000000-0000")


def test_a_failed_start_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A source that fails when the study builds it (inside the folder's lock): no folder, no lone .lock."""
    study = SaliencyRobustnessStudy(fake_config(n=1, size=32))
    import xaitk_wcam.study.runner as runner

    def failing(section: str, *args: object) -> object:
        raise ValueError(f"cannot build {section}")

    monkeypatch.setattr(runner, "build_plugin", failing)
    with pytest.raises(ValueError, match="cannot build images"):
        study.run(tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
    (tmp_path / "kept").mkdir()  # a folder that existed before is kept, empty
    with pytest.raises(ValueError, match="cannot build images"):
        study.run(tmp_path / "kept", progress=False)
    assert (tmp_path / "kept").is_dir() and not any((tmp_path / "kept").iterdir())


@pytest.mark.skipif(os.name == "nt", reason="POSIX symbolic links")
def test_the_report_replaces_a_symbolic_link_instead_of_writing_through_it(tmp_path: Path) -> None:
    config = fake_config(n=1, size=32)
    SaliencyRobustnessStudy(config).run(tmp_path / "out", progress=False)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    for name in ("report.html", "figures/image_000000.png"):
        (tmp_path / "out" / name).unlink()
        (tmp_path / "out" / name).symlink_to(victim)
    SaliencyRobustnessStudy(config).run(tmp_path / "out", resume=True, progress=False)
    assert victim.read_text() == "keep me"
    assert (
        not (tmp_path / "out" / "report.html").is_symlink()
        and not (tmp_path / "out" / "figures" / "image_000000.png").is_symlink()
    )
