"""Throwaway databases on the machine's PostgreSQL server (127.0.0.1:5432, trust auth)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """A fresh database, dropped afterwards; yields its SQLAlchemy URL.

    Outside CI a missing server skips the test; in CI it fails (CI provides the server).
    """
    psycopg = pytest.importorskip("psycopg")
    from pipeline.store.scratch import create_database, drop_database

    try:
        url = create_database(PG_SERVER, prefix)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432: {exc}")
    try:
        yield url
    finally:
        drop_database(PG_SERVER, url)
