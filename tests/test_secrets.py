"""No secret ever leaves the settings: not in output, logs, pages, outbox, notes or database.

A home holds real-looking credentials for several accounts whose servers (on 127.0.0.1)
refuse them, fail, or are not there at all, and the careless ones repeat the credential
in their error text. The program is then run as an operator would, and everything it
printed or wrote is searched for every secret value.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.daemon_helpers import (
    EXAMPLE,
    crosspost,
    everything_written,
    make_home,
    secret_hits,
    start_daemon,
    status,
    stop_daemon,
    wait_for,
)
from tests.emulators.base import Emulator, Request, Response

SECRETS = {
    "mastodon": "mastodon-token-SECRET-6a1f0e93",
    "wordpress": "wp-app-password-SECRET-2b7c 9d4e",
    "telegram": "123456:telegram-bot-SECRET-88fa3c",
    "x": "x-bearer-SECRET-41d0b7aa",
    "smtp": "smtp-password-SECRET-c30e5d12",
}
BROKEN = b"---\ntitle: [unclosed\n---\nbody\n"


class Careless(Emulator):
    """A platform that answers every request with an error repeating what it was sent."""

    def __init__(self, status: int) -> None:
        super().__init__()
        self.status = status

    def handle(self, req: Request) -> Response:
        auth = req.header("Authorization") or ""
        if auth.startswith("Basic "):
            auth = base64.b64decode(auth.removeprefix("Basic ")).decode()
        said = f"credential {auth!r} rejected at {req.path}"
        return Response(self.status, {"error": said, "code": "oops", "message": said})


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def config_for(mastodon: str, wordpress: str, x: str) -> str:
    return f"""
    timezone = "UTC"
    retry_base_seconds = 600
    [targets.site]
    platform = "static_site"
    [targets.announce]
    platform = "outbox"
    after = "site"
    options = {{ as = "mastodon" }}
    [targets.toot]
    platform = "mastodon"
    base_url = "{mastodon}"
    credentials = {{ access_token = "{SECRETS["mastodon"]}" }}
    [targets.blog]
    platform = "wordpress"
    base_url = "{wordpress}"
    options = {{ user = "writer" }}
    [targets.channel]
    platform = "telegram"
    base_url = "http://127.0.0.1:{closed_port()}"
    credentials = {{ bot_token = "{SECRETS["telegram"]}" }}
    options = {{ chat_id = "@essays" }}
    [targets.tweets]
    platform = "x"
    base_url = "{x}"
    credentials = {{ bearer_token = "{SECRETS["x"]}" }}
    [notify]
    smtp_host = "127.0.0.1"
    smtp_port = {closed_port()}
    smtp_user = "writer"
    smtp_password = "{SECRETS["smtp"]}"
    mail_to = ["writer@example.org"]
    """


@dataclass
class Scenario:
    home: Path
    runs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    servers: dict[str, Emulator] = field(default_factory=dict)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    servers = {"mastodon": Careless(401), "wordpress": Careless(500), "x": Careless(401)}
    for server in servers.values():
        server.start()
    try:
        home = make_home(
            tmp_path_factory.mktemp("secrets"),
            config_for(*(servers[n].base_url for n in ("mastodon", "wordpress", "x"))),
        )
        (home / ".env").write_text(
            f'CROSSPOST_TARGETS__BLOG__CREDENTIALS__APP_PASSWORD="{SECRETS["wordpress"]}"\n'
        )
        (home / ".env").chmod(0o600)
        shutil.copy(EXAMPLE, home / "inbox")
        (home / "inbox" / "broken.md").write_bytes(BROKEN)
        result = Scenario(home, servers=servers)
        commands = {
            "run": ["run", "--once"],
            "status": ["status"],
            "status-json": ["status", "--json"],
            "logs": ["logs", "--level", "debug"],
            "preview": ["preview", str(EXAMPLE)],
        }
        for name, args in commands.items():
            result.runs[name] = crosspost(home, *args)
        for private in ("crosspost.toml", ".env"):
            (home / private).chmod(0o644)  # now others may read the credentials
        result.runs["accounts"] = crosspost(home, "accounts", "check")
        yield result
    finally:
        for server in servers.values():
            server.stop()


def test_the_scenario_really_handled_the_secrets(scenario: Scenario) -> None:
    """Guard for the test below: the secrets were sent, echoed back, and failures recorded."""
    for name in ("status", "status-json", "logs", "preview"):
        assert scenario.runs[name].returncode == 0, scenario.runs[name].stderr
    # publications failed and a file was refused: the documented exit code of `run --once`
    assert scenario.runs["run"].returncode == 3, scenario.runs["run"].stderr
    assert scenario.runs["accounts"].returncode == 1  # some accounts are refused
    sent = {
        name: " ".join(str(r.headers) for r in server.requests_seen)
        for name, server in scenario.servers.items()
    }
    assert SECRETS["mastodon"] in sent["mastodon"] and SECRETS["x"] in sent["x"]
    expected_basic = base64.b64encode(f"writer:{SECRETS['wordpress']}".encode()).decode()
    assert expected_basic in sent["wordpress"]
    rows = {r["target"]: r for r in status(scenario.home)}
    assert rows["site"]["state"] == rows["announce"]["state"] == "published"
    assert rows["toot"]["state"] == "failed" and rows["tweets"]["state"] == "failed"
    assert rows["blog"]["state"] == rows["channel"]["state"] == "scheduled"  # retry later
    assert all(rows[t]["last_error"] for t in ("toot", "tweets", "blog", "channel"))
    assert "[redacted]" in rows["toot"]["last_error"]  # the echo was there, and scrubbed
    assert (scenario.home / "failed" / "broken.md.error.txt").exists()
    accounts = scenario.runs["accounts"].stdout
    assert "FAILED" in accounts and "site" in accounts


def test_no_secret_appears_in_anything_the_program_printed_or_wrote(scenario: Scenario) -> None:
    printed = [run.stdout + run.stderr for run in scenario.runs.values()]
    written = everything_written(scenario.home, printed)
    assert "Own Your Archive" in written and "last_error" not in SECRETS  # it read something
    files = [p for p in scenario.home.rglob("*") if p.is_file()]
    assert any(p.name == "crosspost.jsonl" for p in files)
    assert any(p.name.startswith("crosspost.db") for p in files)
    assert secret_hits(written, SECRETS) == []


def test_world_readable_config_or_dotenv_with_credentials_prints_a_warning(
    scenario: Scenario,
) -> None:
    for name in ("run", "status", "logs"):
        assert "readable by other users" not in scenario.runs[name].stderr
    warnings = scenario.runs["accounts"].stderr.splitlines()
    for private in ("crosspost.toml", ".env"):
        path = scenario.home / private
        assert any(
            f"{path} holds credentials and is readable by other users" in line
            and f"chmod 600 {path}" in line
            for line in warnings
        ), warnings


def test_database_and_its_journal_files_are_private(scenario: Scenario) -> None:
    database = sorted(scenario.home.glob("crosspost.db*"))
    assert scenario.home / "crosspost.db" in database
    for path in database:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, (path.name, oct(path.stat().st_mode))


def test_a_running_daemon_keeps_its_database_journals_and_logs_private(tmp_path: Path) -> None:
    """While the daemon runs, SQLite's -wal and -shm exist beside the database; they and the
    log files must be owner-only even under the usual umask 022, which opens them to all."""
    home = make_home(tmp_path)
    shutil.copy(EXAMPLE, home / "inbox")
    previous = os.umask(0o022)
    try:
        daemon = start_daemon(home)
    finally:
        os.umask(previous)
    try:
        journals = ("crosspost.db-wal", "crosspost.db-shm", "logs/crosspost.jsonl")
        assert wait_for(lambda: all((home / name).exists() for name in journals), timeout=60)
        assert wait_for(lambda: any((home / "processed").iterdir()), timeout=60)
        files = [*home.glob("crosspost.db*"), *(p for p in (home / "logs").iterdir())]
        modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files if p.is_file()}
    finally:
        stop_daemon(daemon)
    assert {"crosspost.db", "crosspost.db-wal", "crosspost.db-shm", "crosspost.jsonl"} <= set(modes)
    assert {name: mode for name, mode in modes.items() if int(mode, 8) & 0o077} == {}, modes


def test_init_creates_a_private_config(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    result = crosspost(home, "init")
    assert result.returncode == 0, result.stderr
    config = home / "crosspost.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert {"inbox", "processed", "failed"} <= {p.name for p in home.iterdir()}
