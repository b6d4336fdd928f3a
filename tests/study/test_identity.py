"""What a study's model is (``study/identity.py``): the files its config names, its code and libraries, and what
changed between two identities."""

from __future__ import annotations

import hashlib
from pathlib import Path

from xaitk_wcam.classifiers.huggingface import HuggingFaceImageClassifier
from xaitk_wcam.study.identity import file_digests, identity_changes, model_identity


def test_file_digests_walk_folders_in_order_and_skip_dot_files(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "b.bin").write_bytes(b"weights")
    (tmp_path / "model" / "a.json").write_text("{}")
    (tmp_path / "model" / ".cache").mkdir()
    (tmp_path / "model" / ".cache" / "x").write_text("ignored")
    single = tmp_path / "single.txt"
    single.write_text("one")
    digests = file_digests([tmp_path / "model", single])
    assert list(digests) == [str(tmp_path / "model" / "a.json"), str(tmp_path / "model" / "b.bin"), str(single)]
    assert digests[str(single)] == hashlib.sha256(b"one").hexdigest()


def test_the_identity_follows_the_files_a_parameter_names(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"a": 1}')
    first = model_identity(HuggingFaceImageClassifier, {"model_name_or_path": str(folder), "batch_size": 8})
    assert first["type"] == "xaitk_wcam.classifiers.huggingface.HuggingFaceImageClassifier"
    assert list(first["files"]) == [str(folder / "config.json")] and "torch" in first["versions"]
    again = model_identity(HuggingFaceImageClassifier, {"model_name_or_path": str(folder), "batch_size": 8})
    assert again == first and identity_changes(first, again) == []
    (folder / "config.json").write_text('{"a": 2}')  # new weights saved at the same path
    changed = model_identity(HuggingFaceImageClassifier, {"model_name_or_path": str(folder), "batch_size": 8})
    assert changed["digest"] != first["digest"]
    assert identity_changes(first, changed) == ["the model's files changed (config.json)"]
    hub = model_identity(HuggingFaceImageClassifier, {"model_name_or_path": "org/not-a-local-path"})
    assert hub["files"] == {}  # a hub id: identified by its id and the libraries only


def test_identity_changes_in_words() -> None:
    stored = {"type": "m.A", "files": {"/w/a.bin": "1"}, "code": "c1", "versions": {"torch": "2.1", "onnx": "1.0"}}
    current = {"type": "m.B", "files": {"/w/a.bin": "2"}, "code": "c2", "versions": {"torch": "2.2", "ray": "3"}}
    assert identity_changes(stored, current) == [
        "the model's files changed (a.bin)",
        "the code of m.B changed",
        "onnx 1.0 -> absent",
        "ray absent -> 3",
        "torch 2.1 -> 2.2",
        "the model's class m.A -> m.B",
    ]
