"""Collect every platform harness; each contract test runs once per platform."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contract.harness import Harness

HARNESS_MODULES = sorted(p.stem for p in Path(__file__).parent.glob("harness_*.py"))


@pytest.fixture(scope="session", params=HARNESS_MODULES, ids=lambda m: m.removeprefix("harness_"))
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    module = importlib.import_module(f"tests.contract.{request.param}")
    made: Harness = module.make_harness()
    try:
        yield made
    finally:
        made.close()
