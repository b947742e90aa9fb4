"""Structured logs: one JSON line per event in `logs/crosspost.jsonl`, a readable line on stderr.

Every configured secret is replaced by `[redacted]` before a line is written anywhere,
a safety net behind the rule that secrets are never put into messages in the first place.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import logging.handlers
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

LOG_NAME = "crosspost.jsonl"
_configured: dict[str, Any] = {}


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Log files readable by their owner only, whatever the umask: they name essays,
    accounts and errors (secrets are scrubbed, the rest is still the operator's business).
    A rotation renames the file, so its backups keep the mode."""

    def _open(self) -> Any:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with contextlib.suppress(OSError):  # another user's file: leave its mode to them
            os.fchmod(fd, 0o600)  # a file an older version made with the umask's mode
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)

    disk_full_said = False

    def handleError(self, record: logging.LogRecord) -> None:
        """A full disk is said once on the console, not with a traceback per line."""
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            if not self.disk_full_said:
                self.disk_full_said = True
                sys.stderr.write(f"disk full writing {self.baseFilename}: console only for now\n")
            return
        super().handleError(record)


class Redactor:
    """A structlog processor that scrubs secret values from every field."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self.secrets:
                value = value.replace(secret, "[redacted]")
            return value
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        return value

    def __call__(self, logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
        return {k: self.scrub(v) for k, v in event.items()}


def redact_also(secrets: Iterable[str]) -> None:
    """Add secrets learnt while running (a refreshed token) to the process's redaction."""
    redactor = _configured.get("redactor")
    if isinstance(redactor, Redactor):
        redactor.secrets = sorted(
            {*redactor.secrets, *(s for s in secrets if s)}, key=len, reverse=True
        )


def setup_logging(
    logs_dir: Path | None, secrets: Iterable[str] = (), level: str = "info", console: bool = True
) -> None:
    """Configure structlog once per process (again when the home folder changes)."""
    key = f"{logs_dir}|{level}|{console}"
    redactor = Redactor(secrets)
    root = logging.getLogger("crosspost")
    if _configured.get("key") != key:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        root.setLevel(getattr(logging, level.upper()))
        root.propagate = False
        if logs_dir is not None:
            logs_dir.mkdir(parents=True, exist_ok=True)
            file_handler = PrivateRotatingFileHandler(
                logs_dir / LOG_NAME, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"
            )
            file_handler.setFormatter(logging.Formatter("%(message)s"))
            file_handler.addFilter(lambda record: getattr(record, "json_line", False))
            root.addHandler(file_handler)
        if console:
            console_handler = logging.StreamHandler(sys.stderr)
            console_handler.setFormatter(logging.Formatter("%(message)s"))
            console_handler.addFilter(lambda record: not getattr(record, "json_line", False))
            root.addHandler(console_handler)
        _configured["key"] = key
    _configured["redactor"] = redactor
    import structlog  # here, not at the top: `crosspost logs` only reads the file

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redactor,
            _emit,
        ],
        logger_factory=lambda *args: root,
        cache_logger_on_first_use=False,
    )


def _emit(logger: logging.Logger, method: str, event: dict[str, Any]) -> str:
    """Write the JSON line to the file handler and a readable line to the console."""
    level = getattr(logging, event.get("level", "info").upper(), logging.INFO)
    if logger.isEnabledFor(level):
        logger.log(
            level, json.dumps(event, default=str, ensure_ascii=False), extra={"json_line": True}
        )
        logger.log(level, human_line(event))
    import structlog

    raise structlog.DropEvent


def human_line(event: dict[str, Any]) -> str:
    """`2026-06-02T09:00:01Z info    essay added essay=3 …`: ISO 8601 date and time (UTC),
    so a line read next week still says which day it happened."""
    raw = str(event.get("timestamp", ""))
    stamp = f"{raw[:19]}Z" if len(raw) >= 19 else raw
    level = event.get("level", "info")
    text = event.get("event", "")
    rest = " ".join(
        f"{k}={v}" for k, v in event.items() if k not in {"timestamp", "level", "event"}
    )
    return f"{stamp} {level:<7} {text} {rest}".rstrip()


def get_logger(**bound: Any) -> Any:
    import structlog

    return structlog.get_logger().bind(**bound)


def read_log_lines(logs_dir: Path) -> list[dict[str, Any]]:
    """Every JSON log line, oldest first, across rotated files."""
    files = sorted(logs_dir.glob(f"{LOG_NAME}*"), key=lambda p: p.name, reverse=True)
    rotated = [p for p in files if p.name != LOG_NAME]
    ordered = sorted(rotated, key=lambda p: int(p.suffix.lstrip(".") or 0), reverse=True)
    if (logs_dir / LOG_NAME).exists():
        ordered.append(logs_dir / LOG_NAME)
    lines: list[dict[str, Any]] = []
    for path in ordered:
        for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError:
                continue
    return lines
