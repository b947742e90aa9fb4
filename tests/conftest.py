"""Shared fixtures: a throw-away PostgreSQL database, and loopback HTTP servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator

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
