"""Interfaces this package adds to xaitk-saliency's (each a smqtk ``Plugfigurable``)."""

from xaitk_wcam.interfaces.image_source import ImageSource

__all__ = ["ImageSource"]
