"""Errors the engine shows to the operator; each says what went wrong and where."""

from __future__ import annotations

from pathlib import Path


class CrosspostError(Exception):
    """Base of every error crosspost raises on purpose."""


class ReadError(CrosspostError):
    """A file could not be turned into an essay. Names the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path.name}: {reason}")


class ConfigError(CrosspostError):
    """A setting is missing or wrong. Names the key, the file and what is allowed."""


class PlanError(CrosspostError):
    """An essay's own settings (front matter) cannot be planned: says which key and why."""
