"""Throwaway PostgreSQL databases for tests and benchmarks: made fresh, dropped afterwards.

Needs the optional `postgres` extra (psycopg). The server URL is a libpq one with rights to
create databases (e.g. `postgresql://postgres@127.0.0.1:5432/postgres`).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from sqlalchemy.engine import make_url


def create_database(server: str, prefix: str) -> str:
    """A new, empty database named `<prefix>_<random>`; returns its SQLAlchemy URL."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return (
        make_url(server)
        .set(drivername="postgresql+psycopg", database=name)
        .render_as_string(hide_password=False)
    )


def drop_database(server: str, url: str) -> None:
    """Drop the database behind `url`, ending its sessions (no error when it is gone)."""
    import psycopg

    name = make_url(url).database
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def throwaway_database(server: str, prefix: str) -> Iterator[str]:
    """A fresh database for the `with` block; yields its SQLAlchemy URL."""
    url = create_database(server, prefix)
    try:
        yield url
    finally:
        drop_database(server, url)


def gather_statistics(url: str) -> None:
    """`ANALYZE` the whole database: the statistics autovacuum gathers within a minute of a
    bulk load, so a benchmark right after one measures the plans a user would get."""
    import psycopg

    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute("ANALYZE")
