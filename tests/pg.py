"""Throwaway databases on the machine's PostgreSQL server (127.0.0.1:5432, trust auth)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """A fresh database, dropped afterwards; yields its SQLAlchemy URL.

    Outside CI a missing server skips the test; in CI it fails (CI provides the server).
    """
    psycopg = pytest.importorskip("psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
