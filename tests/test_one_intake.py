"""Exactly once when two daemons share a home or a database (issue 19).

As an operator would meet it: `crosspost run` processes on one home (SQLite) or on two homes
pointing at one PostgreSQL database. The run lock refuses the second daemon; with the lock
bypassed (the test-only hook), the store alone keeps every essay stored and announced once
on the emulated Mastodon.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.logs import read_log_lines
from pipeline.runlock import EXIT_ALREADY_RUNNING, SKIP_ENV
from tests.contract.harness import toml_table
from tests.contract.harness_mastodon import MastodonHarness
from tests.crash_matrix import FAST_SETTINGS
from tests.daemon_helpers import crosspost, make_home, start_daemon, stop_daemon, wait_for
from tests.pg import throwaway_database

ESSAYS = 100
BYPASS = {SKIP_ENV: "1"}


@pytest.fixture
def mastodon() -> Iterator[MastodonHarness]:
    harness = MastodonHarness()
    yield harness
    harness.close()


def config(mastodon: MastodonHarness, database_url: str | None = None) -> str:
    lines = list(FAST_SETTINGS)
    if database_url:
        lines.append(f'database_url = "{database_url}"')
    lines.append(toml_table("targets.mastodon", mastodon.target_table()))
    return "\n".join(lines) + "\n"


def daemon_of(home: Path) -> dict:
    """The run lock's holder as `status --daemon --json` reports it (beside the health)."""
    result = crosspost(home, "status", "--daemon", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["lock"]


def essay(index: int) -> str:
    return f"---\ntitle: Shared essay {index:03d}\n---\n\nBody of essay number {index}.\n"


def drop(homes: list[Path], count: int) -> None:
    """Each essay appears whole (written aside, renamed in) in every home's inbox."""
    for index in range(count):
        for home in homes:
            aside = home / f".essay-{index:03d}.md"
            aside.write_text(essay(index), encoding="utf-8")
            aside.rename(home / "inbox" / f"essay-{index:03d}.md")


def rows(home: Path) -> list[dict]:
    result = crosspost(home, "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def announced(mastodon: MastodonHarness) -> Counter[str]:
    titles = Counter()
    for post in mastodon.posts():
        for index in range(ESSAYS):
            if f"Shared essay {index:03d}" in post["text"]:
                titles[f"{index:03d}"] += 1
    return titles


def starts(homes: set[Path]) -> int:
    """How many daemons have logged their start in these homes."""
    lines = [line for home in homes for line in read_log_lines(home / "logs")]
    return sum(line.get("event") == "daemon started" for line in lines)


def run_two_daemons_and_check(
    homes: list[Path], drop_into: list[Path], mastodon: MastodonHarness
) -> None:
    daemons = []
    try:
        for started, home in enumerate(homes, 1):  # the second by hand, the first running
            daemons.append(start_daemon(home, env=BYPASS))
            assert wait_for(lambda n=started: starts(set(homes)) == n, timeout=30)
        drop(drop_into, ESSAYS)

        def all_published() -> bool:
            listed = rows(homes[0])
            return len(listed) >= ESSAYS and all(r["state"] == "published" for r in listed)

        assert wait_for(all_published, timeout=90, every=0.5), rows(homes[0])[:3]
        time.sleep(1.0)  # a second intake or post would land by now
        died = [d.poll() for d in daemons]
    finally:
        outputs = [stop_daemon(d) for d in daemons]
    assert died == [None, None], outputs
    listed = rows(homes[0])
    assert len(listed) == ESSAYS, outputs
    assert len({r["essay_id"] for r in listed}) == ESSAYS
    assert {r["state"] for r in listed} == {"published"}
    counts = announced(mastodon)
    assert len(counts) == ESSAYS and set(counts.values()) == {1}, counts.most_common(3)
    assert len(mastodon.posts()) == ESSAYS
    for home in drop_into:
        assert not [p for p in (home / "inbox").iterdir() if not p.name.startswith(".")]
        assert not any((home / "failed").iterdir())
        assert not [p for p in (home / "working").rglob("*") if p.is_file()]


# ------------------------------------------------------------------------------ the lock


def test_a_second_run_on_one_home_refuses_and_names_the_first(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    assert daemon_of(home) == {"running": False}
    first = start_daemon(home)
    try:
        assert wait_for(lambda: daemon_of(home)["running"], timeout=30)
        holder = daemon_of(home)
        assert holder["pid"] == first.pid
        assert holder["lock"].endswith("crosspost.db.run-lock")
        second = crosspost(home, "run", timeout=60)
        assert second.returncode == EXIT_ALREADY_RUNNING, second.stderr
        assert "already running" in second.stderr
        assert f"pid {first.pid}" in second.stderr and "since" in second.stderr
        assert "Traceback" not in second.stderr
        once = crosspost(home, "run", "--once", timeout=60)  # an intake too: refused as well
        assert once.returncode == EXIT_ALREADY_RUNNING, once.stderr
        shown = crosspost(home, "status").stdout
        assert f"daemon: running, pid {first.pid}" in shown
        assert first.poll() is None  # the first one runs on, untouched
    finally:
        stop_daemon(first, signal.SIGKILL)
    # a killed daemon leaves no lock that blocks: the next run starts
    assert not daemon_of(home)["running"]
    third = start_daemon(home)
    try:
        assert wait_for(lambda: daemon_of(home).get("pid") == third.pid, timeout=30)
    finally:
        stop_daemon(third)
    assert "daemon: not running" in crosspost(home, "status").stdout


def test_two_daemons_on_one_sqlite_home_store_and_announce_each_essay_once(
    tmp_path: Path, mastodon: MastodonHarness
) -> None:
    home = make_home(tmp_path, config(mastodon))
    run_two_daemons_and_check([home, home], [home], mastodon)


@pytest.mark.postgres
def test_postgres_run_lock_refuses_a_second_home_on_the_same_database(
    tmp_path: Path, mastodon: MastodonHarness
) -> None:
    with throwaway_database("crosspost_lock") as url:
        homes = two_homes(tmp_path, config(mastodon, url))
        first = start_daemon(homes[0])
        try:
            assert wait_for(lambda: daemon_of(homes[1])["running"], timeout=30)
            holder = daemon_of(homes[1])
            assert holder["pid"] == first.pid and "advisory lock" in holder["lock"]
            second = crosspost(homes[1], "run", timeout=60)
            assert second.returncode == EXIT_ALREADY_RUNNING, second.stderr
            assert f"pid {first.pid}" in second.stderr
        finally:
            stop_daemon(first, signal.SIGKILL)
        # the session died with the process: the lock went with it
        assert wait_for(lambda: not daemon_of(homes[1])["running"], timeout=30)
        again = start_daemon(homes[1])
        try:
            assert wait_for(lambda: daemon_of(homes[0]).get("pid") == again.pid, timeout=30)
        finally:
            stop_daemon(again)


@pytest.mark.postgres
def test_two_daemons_on_two_homes_sharing_postgres_store_and_announce_each_essay_once(
    tmp_path: Path, mastodon: MastodonHarness
) -> None:
    with throwaway_database("crosspost_twin") as url:
        homes = two_homes(tmp_path, config(mastodon, url))
        run_two_daemons_and_check(homes, homes, mastodon)


def two_homes(tmp_path: Path, settings: str) -> list[Path]:
    """Two home folders whose settings point at one database."""
    return [make_home(tmp_path / name, settings) for name in ("a", "b")]


def test_a_file_claimed_by_a_reader_that_died_is_taken_on_the_next_start(
    tmp_path: Path,
) -> None:
    home = make_home(tmp_path)
    drop([home], 1)
    # a reader that died after its claim: its folder is there, its lock free
    dead = home / "working" / "otherhost-4242-deadbeef"
    dead.mkdir(parents=True)
    (dead / ".owner.lock").write_text("")
    (home / "inbox" / "essay-000.md").rename(dead / "essay-000.md")
    result = crosspost(home, "run", "--once")
    assert result.returncode == 0, result.stderr
    assert (home / "processed" / "essay-000.md").read_text() == essay(0)
    assert not dead.exists()
    assert [r["state"] for r in rows(home)] == ["published", "published"]


def test_a_claim_of_a_live_reader_is_left_alone(tmp_path: Path) -> None:
    """A `run --once` beside a live reader (lock bypassed) must not take its claimed file."""
    home = make_home(tmp_path)
    live = home / "working" / "otherhost-4343-cafe"
    live.mkdir(parents=True)
    drop([home], 1)
    (home / "inbox" / "essay-000.md").rename(live / "essay-000.md")
    holder = subprocess.Popen(  # the live reader: holds its claim folder's lock
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT);"
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(120)",
            str(live / ".owner.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = crosspost(home, "run", "--once", env=BYPASS)
        assert result.returncode == 0, result.stderr
        assert (live / "essay-000.md").exists() and rows(home) == []
    finally:
        holder.kill()
        holder.wait()
    result = crosspost(home, "run", "--once")  # its reader is gone: taken now
    assert result.returncode == 0, result.stderr
    assert (home / "processed" / "essay-000.md").exists() and len(rows(home)) == 2
