"""Shared fixtures: a throw-away PostgreSQL database, and loopback HTTP servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.emulators.base import Emulator, Request, Response
from tests.pg import throwaway_database


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh database on the machine's server for this session, dropped at the end."""
    with throwaway_database("crosspost_test") as url:
        yield url


@pytest.fixture
def local_server() -> Iterator[Callable[[Callable[[Request], Response]], Emulator]]:
    """Start loopback HTTP servers that answer every request with `answer(request)`."""
    started: list[Emulator] = []

    def start(answer: Callable[[Request], Response]) -> Emulator:
        class Answering(Emulator):
            name = "answering"

            def handle(self, req: Request) -> Response:
                return answer(req)

        server = Answering().start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file, or a wiped schema of the session's PG database.

    PostgreSQL sessions run in a non-UTC time zone, so a timestamp that comes back right
    does so because the store converts it, not because the server happens to use UTC.
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crosspost.db'}"
    import psycopg

    url: str = request.getfixturevalue("pg_database")
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")
    return url + "?options=-c%20TimeZone%3DAsia/Kolkata"
