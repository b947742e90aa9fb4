"""Patreon hand-off, end to end through the real program: prepare, notify, confirm, done."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.daemon_helpers import EXAMPLE, crosspost, make_home, status

COOKIE = "session_id=handoff-secret-cookie-0123456789"
CONFIG = """
timezone = "UTC"
settle_seconds = 0.2
inbox_poll_seconds = 0.2
[notify]
webhook_url = "{webhook}"
[targets.site]
platform = "static_site"
[targets.patrons]
platform = "patreon"
credentials = {{ session_cookie = "{cookie}" }}
options = {{ access = "patrons" }}
"""


class Hooks:
    """A tiny local webhook receiver: keeps every JSON body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    receiver = Hooks()
    yield receiver
    receiver.close()


def patreon_row(home: Path) -> dict[str, Any]:
    [row] = [r for r in status(home) if r["target"] == "patrons"]
    return row


def test_patreon_post_is_prepared_by_hand_then_confirmed(tmp_path: Path, hooks: Hooks) -> None:
    home = make_home(tmp_path, CONFIG.format(webhook=hooks.url, cookie=COOKIE))
    shutil.copy(EXAMPLE, home / "inbox")
    result = crosspost(home, "run", "--once")
    assert result.returncode == 4, result.stderr  # waits for a person: the documented code

    row = patreon_row(home)
    assert row["state"] == "awaiting-manual"
    [folder] = list((home / "outbox" / "patrons").iterdir())
    assert sorted(p.name for p in folder.iterdir()) == ["README.txt", "post.html", "post.json"]
    post = json.loads((folder / "post.json").read_text(encoding="utf-8"))
    assert post["title"] == "Own Your Archive: A Field Guide for Independent Writers"
    assert post["access"] == "patrons"
    assert "<h2>1. Why a Home Base</h2>" in post["content"]
    for prepared in (post["content"], (folder / "post.html").read_text(encoding="utf-8")):
        assert "patreon.com/example" not in prepared and "If this guide helped" not in prepared
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert "https://www.patreon.com/posts/new" in readme and "crosspost confirm" in readme

    [notice] = [b for b in hooks.bodies if b.get("state") == "awaiting-manual"]
    assert notice["publication"] == row["id"] and notice["target"] == "patrons"
    assert f"crosspost confirm {row['id']}" in notice["text"] and str(folder) in notice["text"]
    assert "handoff-secret-cookie" not in json.dumps(hooks.bodies)

    url = "https://www.patreon.com/posts/123"
    confirmed = crosspost(home, "confirm", str(row["id"]), url)
    assert confirmed.returncode == 0, confirmed.stderr
    row = patreon_row(home)
    assert (row["state"], row["url"]) == ("published", url)

    before = {row["target"]: row for row in status(home)}
    assert crosspost(home, "run", "--once").returncode == 0
    after = {row["target"]: row for row in status(home)}
    assert after["patrons"] == before["patrons"]  # nothing sent to Patreon again
    assert after["site"]["state"] == "published"  # the page now links the patrons' copy
    assert len(list((home / "outbox" / "patrons").iterdir())) == 1
    assert len([b for b in hooks.bodies if b.get("state") == "awaiting-manual"]) == 1


def test_confirm_refuses_a_publication_that_is_not_waiting_for_a_person(
    tmp_path: Path, hooks: Hooks
) -> None:
    home = make_home(tmp_path, CONFIG.format(webhook=hooks.url, cookie=COOKIE))
    shutil.copy(EXAMPLE, home / "inbox")
    assert crosspost(home, "run", "--once").returncode == 4  # the Patreon post waits
    [site] = [r for r in status(home) if r["target"] == "site"]
    refused = crosspost(home, "confirm", str(site["id"]), "https://www.patreon.com/posts/1")
    assert refused.returncode != 0
    assert patreon_row(home)["state"] == "awaiting-manual"
