"""Shared fixtures: a throw-away PostgreSQL database, and loopback HTTP servers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from tests.emulators.base import Emulator, Request, Response

PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh database on the machine's server for this session, dropped at the end.

    Yields its SQLAlchemy URL. Outside CI a missing server skips the test; in CI it fails.
    """
    psycopg = pytest.importorskip("psycopg")
    name = f"crosspost_test_{uuid.uuid4().hex[:10]}"
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
