"""A plugin's parameters, defaults and descriptions read off its class, in both docstring styles of the stack."""

from __future__ import annotations

import json

import numpy as np

from xaitk_wcam.utils.plugin_info import first_paragraph, parameter_descriptions, plain_text, plugin_info


class RestStyle:
    """A plugin documented as xaitk-saliency and this package do.

    More text that is not the summary.

    :param size: Side of the grid, ``>= 1``; see :class:`~xaitk_wcam.WCAM`
        and :func:`numpy.fft.fft2`.
    :param mode: ``"a"`` or ``"b"``.
    """

    def __init__(self, size: int, *, mode: str = "a", array: np.ndarray | None = None, **extra: object) -> None:
        self.size, self.mode = size, mode


class GoogleStyle:
    """Applies a thing to the image stimulus."""

    def __init__(self, factor: float = 1.0, shape: tuple[int, int] = (3, 3), rng: object = np.float32) -> None:
        """Build it.

        Args:
            factor:
                Enhancement factor,
                above 1 brighter.
            shape (tuple[int, int]): Kernel shape.

        Raises:
            ValueError:
                Never.
        """


def test_rest_docstrings_give_parameters_and_summary() -> None:
    info = plugin_info(RestStyle)
    assert info["class"] == f"{__name__}.RestStyle"
    assert info["summary"] == "A plugin documented as xaitk-saliency and this package do."
    assert info["parameters"] == {
        "size": {"default": None, "required": True, "description": "Side of the grid, >= 1; see WCAM and numpy.fft.fft2."},  # noqa: E501
        "mode": {"default": "a", "required": False, "description": '"a" or "b".'},
        "array": {"default": None, "required": False, "description": None},
        "**extra": {"default": None, "required": False, "description": "further keywords"},
    }  # fmt: skip


def test_google_docstrings_and_defaults_json_cannot_hold() -> None:
    info = plugin_info(GoogleStyle)
    assert info["summary"] == "Applies a thing to the image stimulus."
    parameters = info["parameters"]
    assert parameters["factor"]["description"] == "Enhancement factor, above 1 brighter."
    assert parameters["factor"]["default"] == 1.0 and not parameters["factor"]["required"]
    assert parameters["shape"]["default"] == [3, 3] and parameters["shape"]["description"] == "Kernel shape."
    assert parameters["rng"]["default"] == repr(np.float32) and parameters["rng"]["description"] is None
    assert "ValueError" not in parameter_descriptions(GoogleStyle.__init__.__doc__)  # Raises: is not Args:
    json.dumps(info)  # all of it is JSON


def test_plain_text_and_first_paragraph() -> None:
    assert plain_text(":data:`~a.b.LIMIT`, :meth:`a.B.run`, :class:`the model <a.M>` and ``code``") == (
        "LIMIT, a.B.run, the model and code"
    )
    assert first_paragraph(None) == "" and first_paragraph("  One\n  line.\n\n  Two.") == "One line."
