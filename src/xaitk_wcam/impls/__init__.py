"""Implementations of xaitk-saliency's and this package's interfaces, one sub-package per use case."""
