"""A full disk passes: the daemon starts on it, says "disk full" and where, publishes nothing
twice, loses nothing, and finishes every due publication once space returns, with no one
running `retry`. Runs on a small tmpfs the test mounts (root only; skipped, saying why,
where it cannot be mounted)."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_helpers import ROOT, crosspost, env_for, make_home, status, wait_for

CONFIG = """
timezone = "UTC"
inbox_poll_seconds = 0.2
[targets.site]
platform = "static_site"
offset = "2s"
[targets.later]
platform = "outbox"
offset = "2s"
"""


def start_daemon_to(home: Path, console: Path) -> subprocess.Popen[bytes]:
    with console.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "--home", str(home), "run"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env_for(),
            cwd=ROOT,
            start_new_session=True,
        )


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path, name: str, leave: int = 0) -> Path:
    """Fill the file system to the last byte but `leave`; returns the filler to delete."""
    filler = folder / name
    with filler.open("wb", buffering=0) as out:
        for size in (1 << 16, 512, 1):
            try:
                while True:
                    out.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        out.truncate(max(0, out.tell() - leave))
    return filler


def test_due_work_waits_out_a_full_disk_and_publishes_once_when_space_returns(
    small_disk: Path,
) -> None:
    home = make_home(small_disk, CONFIG)
    for n in range(3):
        (home / "inbox" / f"essay-{n}.md").write_text(
            f"---\ntitle: Essay {n:03d}\n---\nParagraph {n} of a short essay.\n"
        )
    assert crosspost(home, "run", "--once").returncode == 0  # planned, due two seconds on
    assert {r["state"] for r in status(home)} == {"scheduled"}
    nearly = fill(small_disk, "nearly", leave=256 * 1024)
    console = small_disk.parent / "console.txt"  # off the full disk; a pipe nobody reads
    daemon = start_daemon_to(home, console)  # would block the daemon once it is full

    try:
        assert wait_for(lambda: (home / "crosspost.db-shm").exists(), 30)
        time.sleep(1.0)
        full = fill(small_disk, "full")  # the last bytes: the due work meets a full disk
        time.sleep(8)
        assert daemon.poll() is None, "the daemon did not survive a full disk"
        assert {r["state"] for r in status(home)} != {"published"}
        full.unlink()
        nearly.unlink()
        published = wait_for(
            lambda: all(r["state"] == "published" for r in status(home)), timeout=60, every=0.5
        )
    finally:
        if daemon.poll() is None:
            os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=30)
        output = console.read_text(errors="replace")
    assert published, output[-5000:]
    assert "disk full" in output
    assert len(list((home / "outbox" / "later").glob("*.json"))) == 3
    assert len(list((home / "site").glob("essay-*.html"))) == 3
    wal = home / "crosspost.db-wal"
    assert not wal.exists() or wal.stat().st_size < 4 * 1024 * 1024
