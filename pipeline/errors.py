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


class OperatorError(CrosspostError):
    """An operator step (retry, cancel, reschedule, confirm, resume) that cannot be done as
    asked; the message says why and what to do instead. The CLI catches this family only,
    so a bug never reads as an operator's mistake."""


class PublicationNotFound(OperatorError, LookupError):
    """No publication has this id."""


class TargetNotFound(OperatorError, LookupError):
    """No target of this name is in the settings."""


class IllegalTransition(OperatorError, ValueError):
    """The publication's state does not allow the move asked for; nothing changed."""


class InvalidStep(OperatorError, ValueError):
    """The step was given something it cannot use (a confirm URL that is not http(s))."""
