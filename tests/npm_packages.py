"""Node packages the tests read files from, installed once from npm into the test cache.

A cold cache must always work (CI on a fresh machine); a file lock keeps two test
sessions from installing into the same folder at once.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

from tests.servers.cache import CACHE


def npm_package(name: str, version: str) -> Path:
    """The installed package's folder (`node_modules/NAME`), installing it when missing."""
    root = CACHE / f"{name}-{version}"
    package = root / "node_modules" / name
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}-{version}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (package / "package.json").exists():
            npm = shutil.which("npm")
            if npm is None:
                raise RuntimeError(f"npm is needed to install {name} for the tests")
            root.mkdir(parents=True, exist_ok=True)
            subprocess.run([npm, "init", "-y"], cwd=root, check=True, capture_output=True)
            subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", f"{name}@{version}"],
                cwd=root,
                check=True,
                capture_output=True,
                timeout=600,
            )
    return package
