"""Why a study cannot run: a config it refuses, or workers that cannot build it."""

from __future__ import annotations


class StudyConfigError(ValueError):
    """A study config that names an unknown plugin, a wrong parameter or a malformed section."""


class StudySetupError(RuntimeError):
    """A worker could not build the study's classifier or plan: the study cannot run."""
