"""The second source: a feed served on 127.0.0.1, read by the real program.

Each entry becomes an essay published to the local targets, once: a second run adds
nothing. A feed that 404s or is not a feed is logged and stops neither the other feeds
nor the inbox.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from pipeline.logs import read_log_lines
from tests.daemon_helpers import EXAMPLE, crosspost, make_home, status
from tests.emulators.base import Emulator, Request, Response

FEED = Path(__file__).resolve().parent / "golden" / "feed" / "medium-feed.xml"
ENTRIES = json.loads(FEED.with_name("medium-feed.entries.json").read_text(encoding="utf-8"))

Server = Callable[[Callable[[Request], Response]], Emulator]


def feed_server(req: Request) -> Response:
    if req.path == "/feed":
        return Response(200, FEED.read_bytes(), content_type="application/rss+xml")
    if req.path == "/broken":
        return Response(200, b"<html><body>{{ not a feed", content_type="application/rss+xml")
    return Response(404, b"Not Found", content_type="text/plain")


def config_for(base: str) -> str:
    return f"""
    timezone = "UTC"
    [targets.site]
    platform = "static_site"
    [targets.announce]
    platform = "outbox"
    after = "site"
    options = {{ as = "mastodon" }}
    [[feeds]]
    url = "{base}/missing"
    [[feeds]]
    url = "{base}/broken"
    [[feeds]]
    url = "{base}/feed"
    """


def test_feed_entries_are_published_once_and_bad_feeds_stop_nothing(
    tmp_path: Path, local_server: Server
) -> None:
    server = local_server(feed_server)
    home = make_home(tmp_path, config_for(server.base_url))
    shutil.copy(EXAMPLE, home / "inbox")

    first = crosspost(home, "run", "--once")
    assert first.returncode == 0, first.stderr
    rows = status(home)
    titles = {entry["essay"]["title"] for entry in ENTRIES}
    assert len(titles) == 2
    assert {r["essay"] for r in rows} == titles | {
        "Own Your Archive: A Field Guide for Independent Writers"
    }
    assert len(rows) == 6 and {r["state"] for r in rows} == {"published"}
    index = (home / "site" / "index.html").read_text(encoding="utf-8")
    assert all(title.replace("'", "&#x27;") in index for title in titles)
    assert len(list((home / "outbox" / "announce").glob("*.json"))) == 3
    assert (home / "processed" / EXAMPLE.name).exists()

    problems = [
        line for line in read_log_lines(home / "logs") if line.get("event") == "feed poll failed"
    ]
    assert {line["feed"].rsplit("/", 1)[1] for line in problems} == {"missing", "broken"}
    assert any("404" in line["error"] for line in problems)
    assert any("not a readable RSS/Atom feed" in line["error"] for line in problems)

    second = crosspost(home, "run", "--once")
    assert second.returncode == 0, second.stderr
    assert status(home) == rows  # the entries' guids are known: nothing new
    assert len(list((home / "outbox" / "announce").glob("*.json"))) == 3
    fetched = [r.path for r in server.requests_seen]
    assert fetched.count("/feed") == 2  # it was read again, and nothing came of it
