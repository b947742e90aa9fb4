"""Platforms that cannot be asked whether a post exists (Telegram, Medium) park a publication
interrupted mid-request for a person; what the person then says must be what happens."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contract.harness import toml_table
from tests.contract.harness_telegram import TelegramHarness
from tests.daemon_helpers import EXAMPLE, crosspost, make_home, status


@pytest.fixture
def telegram() -> Iterator[TelegramHarness]:
    harness = TelegramHarness()
    try:
        yield harness
    finally:
        harness.close()


def interrupted_home(tmp_path: Path, telegram: TelegramHarness) -> tuple[Path, dict]:
    """A home whose Telegram publication died just before its request went out."""
    config = 'timezone = "UTC"\n' + toml_table("targets.channel", telegram.target_table())
    home = make_home(tmp_path, config)
    (home / "inbox" / EXAMPLE.name).write_bytes(EXAMPLE.read_bytes())
    killed = crosspost(home, "run", "--once", env={"CROSSPOST_CRASH_AT": "before-request:1"})
    assert killed.returncode == -signal.SIGKILL
    # the publication failed (a person must look): cron and scripts are told by exit code 3
    assert crosspost(home, "run", "--once").returncode == 3
    [row] = status(home)
    return home, row


def test_interrupted_post_waits_for_a_person_instead_of_guessing(
    tmp_path: Path, telegram: TelegramHarness
) -> None:
    _, row = interrupted_home(tmp_path, telegram)
    assert row["state"] == "failed"
    assert "cannot tell whether the message" in row["last_error"]
    assert "retry" in row["last_error"]  # the next step names what the person can do
    assert telegram.posts() == []


def test_retry_after_the_person_found_nothing_sends_the_post_once(
    tmp_path: Path, telegram: TelegramHarness
) -> None:
    home, row = interrupted_home(tmp_path, telegram)
    assert crosspost(home, "retry", str(row["id"])).returncode == 0
    assert crosspost(home, "run", "--once").returncode == 0
    [after] = status(home)
    assert after["state"] == "published", after["last_error"]
    assert len(telegram.posts()) == 1


def test_confirm_after_the_person_found_the_post_sends_nothing(
    tmp_path: Path, telegram: TelegramHarness
) -> None:
    home, row = interrupted_home(tmp_path, telegram)
    url = "https://t.me/crosspost_contract/1"
    assert crosspost(home, "confirm", str(row["id"]), url).returncode == 0
    assert crosspost(home, "run", "--once").returncode == 0
    [after] = status(home)
    assert (after["state"], after["url"]) == ("published", url)
    assert telegram.posts() == []
