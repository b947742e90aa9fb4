"""Drive the real `crosspost` program as a subprocess over a temporary home folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "home-base.md"

LOCAL_CONFIG = """
timezone = "UTC"
settle_seconds = 0.2
inbox_poll_seconds = 0.2
[targets.site]
platform = "static_site"
[targets.announce]
platform = "outbox"
after = "site"
options = { as = "mastodon" }
"""


def make_home(tmp: Path, config: str = LOCAL_CONFIG) -> Path:
    home = tmp / "home"
    for folder in ("inbox", "processed", "failed", "site", "outbox", "logs"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    (home / "crosspost.toml").write_text(textwrap.dedent(config), encoding="utf-8")
    (home / "crosspost.toml").chmod(0o600)
    return home


def env_for(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra or {})
    return env


def crosspost(
    home: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env_for(env),
        cwd=ROOT,
    )


def start_daemon(home: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "--home", str(home), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env_for(env),
        cwd=ROOT,
        start_new_session=True,
    )


def start_worker(home: Path, n: int) -> subprocess.Popen[bytes]:
    """A `crosspost worker` whose output goes to `worker-<n>.out` in the home."""
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "--home", str(home), "worker"],
        stdout=(home / f"worker-{n}.out").open("wb"),
        stderr=subprocess.STDOUT,
        env=env_for(),
        cwd=ROOT,
        start_new_session=True,
    )


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def stop_daemon(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> str:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    return out or ""


def status(home: Path) -> list[dict[str, Any]]:
    """The publications `status --json` lists (refused inbox files: `refused_files`)."""
    return [row for row in status_json(home) if row["kind"] == "publication"]


def refused_files(home: Path) -> list[dict[str, Any]]:
    return [row for row in status_json(home) if row["kind"] == "inbox-file"]


def status_json(home: Path) -> list[dict[str, Any]]:
    result = crosspost(home, "status", "--json")
    assert result.returncode in (0, 3), result.stderr  # 3: the listing, and a daemon in trouble
    return json.loads(result.stdout)


def wait_for(predicate: Callable[[], bool], timeout: float = 30, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def everything_written(home: Path, extra: list[str] = ()) -> str:
    """All text the program left in the home folder (logs, site, outbox, db, errors)."""
    chunks = list(extra)
    for path in home.rglob("*"):
        if path.is_file() and path.name != "crosspost.toml" and path.name != ".env":
            chunks.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(chunks)


def secret_hits(written: str, secrets: dict[str, str]) -> list[str]:
    """Every secret (or a recognisable half of one) found in `written`, named; [] is clean."""
    hits = []
    for name, value in secrets.items():
        half = len(value) // 2
        for label, part in (
            ("whole", value),
            ("first half", value[:half]),
            ("second half", value[half:]),
        ):
            if len(part) >= 8 and part in written:
                hits.append(f"{name} ({label}) x{written.count(part)}")
    return hits
