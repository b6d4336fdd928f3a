"""Did-you-mean suggestions: an unknown label or plugin name lists the closest ones, not the first five."""

from __future__ import annotations

from importlib import resources

import pytest

from xaitk_wcam.utils.confidences import label_index
from xaitk_wcam.utils.suggest import close_matches

#: The offline EfficientNet-Lite0's 1000 ImageNet labels, as its config's id2label.
IMAGENET = resources.files("xaitk_wcam.models").joinpath("imagenet_classes.txt").read_text("utf-8").splitlines()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("coffee", ["coffee mug", "coffeepot"]),  # the word first, then the longer name that contains it
        ("COFFEE MUG", ["coffee mug"]),
        ("expresso", ["espresso", "espresso maker"]),  # a misspelling: difflib
        ("cup of espresso", ["espresso", "cup"]),  # labels inside the query
        ("golden retriver", ["golden retriever"]),
    ],
)
def test_close_imagenet_labels(query: str, expected: list[str]) -> None:
    found = close_matches(query, IMAGENET)
    assert found[: len(expected)] == expected and len(found) <= 5


def test_whole_words_before_parts_and_nothing_for_nonsense() -> None:
    assert close_matches("cat", IMAGENET)[:3] == ["tiger cat", "Persian cat", "Siamese cat"]  # not "polecat"
    assert close_matches("durian", IMAGENET) == [] and close_matches("  ", IMAGENET) == []
    assert close_matches("c++", ["c++ compiler", "c"]) == ["c++ compiler"]  # regex characters are literal
    assert close_matches("wcma", ["WCAM", "WAM", "SSD"], n=1) == ["WCAM"]


def test_unknown_label_names_the_closest_labels() -> None:
    with pytest.raises(ValueError, match=r"--label 'coffee' is not one of the classifier's 1000 labels") as caught:
        label_index(IMAGENET, "coffee", "--label")
    message = str(caught.value)
    assert "closest: ['coffee mug', 'coffeepot']" in message and "tench" not in message
    assert "0..999" in message
    with pytest.raises(ValueError, match=r"none is close; e\.g\. \['tench'"):
        label_index(IMAGENET, "durian", "--label")
    with pytest.raises(ValueError, match="1000 labels"):
        label_index(IMAGENET, 1000)  # an index out of range
    assert label_index(IMAGENET, "espresso") == IMAGENET.index("espresso") == label_index(IMAGENET, "967")
