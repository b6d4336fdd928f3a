"""Progress bars of the Sobol explainers: off by default under pytest and off a terminal, on with a (fake) terminal or
when forced, counting every forward pass of the design; never part of a config, never changing a map."""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np
import pytest
from fakes import CellEnergyClassifier, CellEnergyDetector, noise_image
from smqtk_core.configuration import from_config_dict, to_config_dict

from xaitk_wcam import WCAM, FourierSobol, SobolAttribution, WCAMDetector
from xaitk_wcam.utils.progress import (
    PROGRESS_ENV,
    NoProgress,
    check_progress,
    progress_bar,
    progress_enabled,
)

IMAGE = noise_image((32, 32, 3))

#: Each Sobol explainer, small: (class, keywords).
EXPLAINERS = [
    (WCAM, {"grid_size": 4, "nb_design": 8, "levels": 2, "batch_size": 16}),
    (WCAM, {"grid_size": 4, "nb_design": 4, "levels": 2, "batch_size": 16, "estimator": "jansen"}),
    (SobolAttribution, {"grid_size": 4, "nb_design": 4, "batch_size": 16}),
    (FourierSobol, {"grid_size": 4, "nb_design": 4, "batch_size": 16}),
]


class FakeTerminal(io.StringIO):
    """A standard error that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _classifier() -> CellEnergyClassifier:
    return CellEnergyClassifier(IMAGE, slice(0, 4), slice(0, 4), levels=2)


def _final_counts(err: str, name: str) -> tuple[int, int]:
    """``(done, total)`` of the last state of the bar named ``name`` in captured standard error."""
    states = re.findall(rf"{name}: +\d+%\|[^|]*\| *(\d+)/(\d+)", err)
    assert states, err
    done, total = states[-1]
    return int(done), int(total)


def _interactive(monkeypatch: pytest.MonkeyPatch) -> FakeTerminal:
    """Standard error is a terminal and pytest's marker is gone: what an interactive session looks like. Called in
    the test itself: pytest sets ``PYTEST_CURRENT_TEST`` again when the test's call phase starts."""
    stream = FakeTerminal()
    monkeypatch.setattr("sys.stderr", stream)
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    return stream


# -- when a bar is shown ---------------------------------------------------------------------------------------
def test_auto_is_off_under_pytest_and_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    assert not progress_enabled(None)  # PYTEST_CURRENT_TEST is set while a test runs
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    monkeypatch.setattr("sys.stderr", io.StringIO())  # a pipe or a file: not a terminal
    assert not progress_enabled(None)
    monkeypatch.setattr("sys.stderr", None)  # pythonw: no stream at all
    assert not progress_enabled(None)


def test_auto_is_on_in_a_terminal_and_the_environment_decides_first(monkeypatch: pytest.MonkeyPatch) -> None:
    _interactive(monkeypatch)
    assert progress_enabled(None)
    for value, expected in (("0", False), ("off", False), ("1", True), ("YES", True), ("", True)):
        monkeypatch.setenv(PROGRESS_ENV, value)
        assert progress_enabled(None) is expected, value
    monkeypatch.setenv(PROGRESS_ENV, "maybe")
    with pytest.raises(ValueError, match=f"{PROGRESS_ENV}='maybe'"):
        progress_enabled(None)
    assert progress_enabled(False) is False and progress_enabled(True) is True  # the keyword wins


def test_auto_is_off_in_a_worker_process(monkeypatch: pytest.MonkeyPatch) -> None:
    _interactive(monkeypatch)
    assert progress_enabled(None)
    monkeypatch.setattr("multiprocessing.parent_process", lambda: object())
    assert not progress_enabled(None)


def test_progress_keyword_is_checked() -> None:
    assert check_progress(None) is None and check_progress(True) is True
    for wrong in ("yes", 1, 0.5):
        with pytest.raises(TypeError, match="progress must be True, False or None"):
            check_progress(wrong)
    with pytest.raises(TypeError, match="progress"):
        WCAM(progress="auto")
    with pytest.raises(TypeError, match="progress"):
        WCAMDetector(progress=1)


def test_no_bar_is_a_silent_stand_in(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar(10, "x", False) as bar:
        assert isinstance(bar, NoProgress)
        bar.update(3)
        bar.set_total(20)
        bar.set_postfix_str("y")
    assert capsys.readouterr().err == ""


# -- the explainers ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("cls", "keywords"), EXPLAINERS, ids=lambda v: getattr(v, "__name__", ""))
def test_default_is_silent_under_pytest(cls: type, keywords: dict[str, Any], capsys: pytest.CaptureFixture) -> None:
    cls(**keywords).explain(IMAGE, _classifier())
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("cls", "keywords"), EXPLAINERS, ids=lambda v: getattr(v, "__name__", ""))
def test_forced_bar_counts_every_forward_pass(
    cls: type, keywords: dict[str, Any], capsys: pytest.CaptureFixture
) -> None:
    classifier = _classifier()
    quiet = cls(**keywords, progress=False).explain(IMAGE, _classifier())
    result = cls(**keywords, progress=True).explain(IMAGE, classifier)
    done, total = _final_counts(capsys.readouterr().err, cls.__name__)
    assert done == total == result.n_evaluations == classifier.calls
    np.testing.assert_array_equal(result.sobol_indices, quiet.sobol_indices)  # the bar changes nothing


def test_auto_bar_appears_in_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _interactive(monkeypatch)
    result = WCAM(**EXPLAINERS[0][1]).explain(IMAGE, _classifier())
    assert _final_counts(terminal.getvalue(), "WCAM") == (result.n_evaluations, result.n_evaluations)
    assert "pass/s" in terminal.getvalue() or "s/pass" in terminal.getvalue()  # a rate, so an ETA


def test_auto_design_grows_the_total(capsys: pytest.CaptureFixture) -> None:
    classifier = _classifier()
    wcam = WCAM(grid_size=4, levels=2, nb_design="auto", max_evaluations=10_000, tolerance=0.001, estimator="jansen")
    result = WCAM(**{**wcam.get_config(), "progress": True}).explain(IMAGE, classifier)
    err = capsys.readouterr().err
    totals = {int(total) for total in re.findall(r"WCAM: +\d+%\|[^|]*\| *\d+/(\d+)", err)}
    assert len(totals) > 1 and max(totals) == result.n_evaluations == classifier.calls  # 8 -> 16 -> ...
    assert "stability" in err


def test_detector_bar_is_named_and_counts_the_design(capsys: pytest.CaptureFixture) -> None:
    image = noise_image((64, 64, 3))
    detector = CellEnergyDetector(image, [(slice(0, 8), slice(0, 8))], [(4, 2, 20, 30)])
    result = WCAMDetector(grid_size=4, nb_design=4, batch_size=16, progress=True).explain(image, detector)
    assert _final_counts(capsys.readouterr().err, "WCAMDetector") == (result.n_evaluations, result.n_evaluations)
    assert detector.calls == 1 + result.n_evaluations  # the reference detections are not counted
    WCAMDetector(grid_size=4, nb_design=4, batch_size=16).explain(image, detector)
    assert capsys.readouterr().err == ""


# -- configs -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [WCAM, SobolAttribution, FourierSobol, WCAMDetector])
def test_progress_is_not_part_of_a_config(cls: type) -> None:
    assert "progress" not in cls.get_default_config()  # so a study's resolved config and its hash do not change
    forced = cls(progress=True)
    assert forced.progress is True and "progress" not in forced.get_config()
    assert forced.get_config() == cls().get_config()
    copy = from_config_dict(to_config_dict(forced), [cls])
    assert copy.progress is None and copy.get_config() == forced.get_config()
