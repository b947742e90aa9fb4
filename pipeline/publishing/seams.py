"""The shapes the publishing package is handed: a clock, a log, a timer to arm.

Named once here so no seam is typed `Any`: the structlog logger the app configures
(`pipeline/logs.py`) satisfies `Log`, a test's clock satisfies `Clock`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

Clock = Callable[[], datetime]
Arm = Callable[[list[int]], None]  # told which publications got a new due time


class Log(Protocol):
    """The part of a structlog bound logger the lifecycle uses."""

    def bind(self, **fields: object) -> Log: ...
    def info(self, event: str, **fields: object) -> object: ...
    def warning(self, event: str, **fields: object) -> object: ...
    def error(self, event: str, **fields: object) -> object: ...
    def exception(self, event: str, **fields: object) -> object: ...
