"""Node packages the tests read files from, installed once from npm into the test cache.

A cold cache must always work (CI on a fresh machine); a file lock keeps two test
sessions from installing into the same folder at once.
"""

from __future__ import annotations

from pathlib import Path

from tests.servers.cache import npm_package as cached_package


def npm_package(name: str, version: str) -> Path:
    """The installed package's folder (`node_modules/NAME`), installing it when missing."""
    return cached_package(f"{name}-{version}", f"{name}@{version}", f"node_modules/{name}")
