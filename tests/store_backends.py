"""Helpers for the store tests: a clock tests move, a port nothing listens on.

The `db_url` fixture (tests/conftest.py) runs a test once per backend: SQLite and PostgreSQL.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

START = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)


class Clock:
    """The engine's clock, moved by the test."""

    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
