"""The console in a real browser (Debian's Chromium driven by Playwright) against a running
daemon (`crosspost run --console`) with an emulated Mastodon, the static site served over
HTTP on 127.0.0.1, and Patreon in hand-off mode.

The operator's day: drop an essay by upload, see it on the calendar and its published rows
with links that open; a platform that refuses, the failure and its next step on the page,
the platform fixed, Retry pressed, the post published exactly once; a publication moved
from the calendar; a Patreon hand-off confirmed; the log tail showing a line written while
the page is open; and an essay full of script shown without anything running.

Screenshots go to the test's folder; with `UPDATE_SCREENSHOTS=1` they are also copied to
docs/img/ (the ones the README shows).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.browser_helpers import chromium, open_page, shoot
from tests.console_helpers import free_port, start_console
from tests.daemon_helpers import crosspost, make_home, status, stop_daemon, wait_for
from tests.emulators.mastodon import MastodonEmulator
from tests.test_posse import ESSAY as WALKING
from tests.test_site_browser import QuietHandler

TOKEN = "browser-console-token-5e2a7c"
ZONE = ZoneInfo("Europe/Berlin")
CONFIG = """
timezone = "Europe/Berlin"
settle_seconds = 0.2
inbox_poll_seconds = 0.2
retry_base_seconds = 0.05
retry_max_seconds = 0.1
[targets.site]
platform = "static_site"
options = {{ title = "Long Ways", author = "Ada Walker", base_url = "{site}" }}
[targets.toot]
platform = "mastodon"
base_url = "{mastodon}"
after = "site"
allow_private_links = true
credentials = {{ access_token = "{token}" }}
[targets.patrons]
platform = "patreon"
credentials = {{ session_cookie = "session_id=browser-console-cookie-81f0" }}
options = {{ access = "patrons" }}
[targets.digest]
platform = "outbox"
offset = "72h"
slots = ["09:00", "17:30"]
max_per_day = 2
options = {{ as = "mastodon" }}
"""
ARCHIVES = """---
title: What the Basement Archive Kept
tags: [archives]
---

The boxes in the basement held letters, tickets and one photograph of a bridge.

Nobody had opened them since 1987; the tape gave way at the first pull.
"""
HOSTILE = """---
title: "<script>alert('title')</script> Notes <img src=x onerror=alert('t2')>"
---

Hello <script>alert('body')</script> world, <b onmouseover="alert('b')">bold</b>.

<img src="data:image/png;base64,AAAA" onerror="alert('img')">

<svg onload="alert('svg')"></svg> <iframe src="javascript:alert('frame')"></iframe>

[a link](javascript:alert('link'))
"""


@dataclass
class Day:
    home: Path
    url: str
    site: str
    mastodon: MastodonEmulator
    browser: Browser
    tmp: Path

    def open(self, path: str, **kw: Any) -> tuple[Page, list[str]]:
        return open_page(self.browser, self.url + path, "desktop", **kw)

    def rows(self, title: str) -> dict[str, dict[str, Any]]:
        return {r["target"]: r for r in status(self.home) if r["essay"] == title}


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    tmp = tmp_path_factory.mktemp("console-browser")
    (tmp / "home" / "site").mkdir(parents=True)
    handler = functools.partial(QuietHandler, directory=str(tmp / "home" / "site"))
    site = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    site_url = f"http://127.0.0.1:{site.server_port}"
    mastodon = MastodonEmulator()
    mastodon.add_account(TOKEN, "walker")
    with mastodon, chromium() as browser:
        home = make_home(tmp, CONFIG.format(site=site_url, mastodon=mastodon.base_url, token=TOKEN))
        port = free_port()
        daemon = start_console(home, port, command="run")
        try:
            yield Day(home, f"http://127.0.0.1:{port}", site_url, mastodon, browser, tmp)
        finally:
            stop_daemon(daemon)
            site.shutdown()


def wait_until(day: Day, title: str, states: dict[str, str], timeout: float = 60) -> dict:
    """The essay's rows once each named target is in its state (polled through the CLI)."""
    seen: dict[str, dict[str, Any]] = {}

    def reached() -> bool:
        seen.clear()
        seen.update(day.rows(title))
        return all(seen.get(t, {}).get("state") == s for t, s in states.items())

    assert wait_for(reached, timeout=timeout, every=0.5), {t: r["state"] for t, r in seen.items()}
    return dict(seen)


def walking(day: Day) -> dict[str, dict[str, Any]]:
    """The rows of the essay the first test uploads (dropped here when run on its own)."""
    rows = day.rows("Walking Home the Long Way")
    if not rows:
        (day.home / "inbox" / "walking-home.md").write_text(WALKING, encoding="utf-8")
        rows = wait_until(
            day, "Walking Home the Long Way", {"site": "published", "patrons": "awaiting-manual"}
        )
    return rows


def toots_of(day: Day, text: str) -> list[dict[str, Any]]:
    return [s for s in day.mastodon.published() if text in s["text"]]


def test_an_uploaded_essay_is_on_the_calendar_and_its_published_links_open(day: Day) -> None:
    essay = day.tmp / "walking-home.md"
    essay.write_text(WALKING, encoding="utf-8")
    page, problems = day.open("/drop")
    page.set_input_files("input[type=file]", str(essay))
    page.get_by_role("button", name="Drop into the inbox").click()
    page.wait_for_url("**/queue")
    expect(page.locator(".flash.ok")).to_contain_text("walking-home.md dropped into inbox/")

    rows = wait_until(
        day,
        "Walking Home the Long Way",
        {"site": "published", "toot": "published", "patrons": "awaiting-manual"},
    )
    assert rows["digest"]["state"] == "scheduled"
    assert len(toots_of(day, "Walking Home the Long Way")) == 1

    page.goto(day.url + "/calendar")
    today = page.locator("td.today")
    expect(today.locator(".cal-item.s-published", has_text="Walking Home")).to_have_count(2)
    expect(page.locator("th", has_text="slots 09:00, 17:30 · max 2/day")).to_be_visible()

    page.goto(day.url + "/queue?essay=" + str(rows["site"]["essay_id"]))
    site_link = page.locator("a.remote", has_text=day.site)
    expect(site_link).to_have_count(1)
    href = site_link.get_attribute("href")
    assert href == rows["site"]["url"] and href.startswith(day.site)
    with page.context.expect_page() as opened:
        site_link.click()
    blog = opened.value
    blog.wait_for_load_state()
    expect(blog.get_by_role("heading", name="Walking Home the Long Way")).to_be_visible()
    blog.close()
    [toot] = toots_of(day, "Walking Home the Long Way")
    expect(page.locator(f'a.remote[href="{toot["url"]}"]')).to_have_count(1)
    assert problems == []
    page.close()


def test_a_failure_shows_its_next_step_and_retry_publishes_exactly_once(day: Day) -> None:
    title = "What the Basement Archive Kept"
    day.mastodon.inject(
        "status",
        status=422,
        body={"error": "Validation failed: Text contains a word the instance blocks"},
        method="POST",
        path=r"^/api/v1/statuses$",
        times=1,
    )
    (day.home / "inbox" / "archive.md").write_text(ARCHIVES, encoding="utf-8")
    rows = wait_until(day, title, {"site": "published", "toot": "failed"})
    assert toots_of(day, "Basement Archive") == []

    page, problems = day.open("/queue")
    failed = page.locator("tr.row-failed", has_text=title)
    expect(failed.locator(".error-text")).to_contain_text("request refused (422)")
    expect(failed.locator(".next-step")).to_contain_text("then `crosspost retry`")
    shoot(page, "console-queue", day.tmp, full_page=True)

    page.goto(f"{day.url}/publications/{rows['toot']['id']}")
    expect(page.locator(".failure .error-text")).to_contain_text("Text contains a word")
    expect(page.locator(".failure .next-step")).to_be_visible()
    shoot(page, "console-publication-failed", day.tmp, full_page=True)

    day.mastodon.clear_faults()  # the instance's moderator lifted the block
    page.get_by_role("button", name="Retry").click()
    page.wait_for_url(f"**/publications/{rows['toot']['id']}")
    expect(page.locator(".flash.ok")).to_contain_text(f"publication {rows['toot']['id']} (toot)")
    wait_until(day, title, {"toot": "published"})
    assert len(toots_of(day, "Basement Archive")) == 1
    page.reload()
    expect(page.locator("h1 .state")).to_have_text("published")
    expect(page.locator(".events")).to_contain_text("publication.retry-requested")
    assert problems == []
    page.close()


def test_a_publication_is_moved_from_the_calendar(day: Day) -> None:
    digest = walking(day)["digest"]
    due = datetime.fromisoformat(digest["due_at"]).astimezone(ZONE)
    page, problems = day.open(f"/calendar?view=week&date={due.date().isoformat()}")
    item = page.locator(".cal-item", has=page.locator(f'a[href="/publications/{digest["id"]}"]'))
    expect(item).to_have_class(re.compile(r"\bs-scheduled\b"))
    item.locator("summary", has_text="move").click()
    moved = (due - timedelta(days=1)).replace(hour=17, minute=30)  # a day earlier, a slot
    item.locator("input[name=when]").fill(moved.strftime("%Y-%m-%dT%H:%M"))
    item.get_by_role("button", name="Reschedule").click()
    expect(page.locator(".flash.ok")).to_contain_text(
        f"publication {digest['id']} (digest) rescheduled: now scheduled, due "
        f"{moved.strftime('%Y-%m-%d %H:%M%z')}"
    )
    after = day.rows("Walking Home the Long Way")["digest"]
    assert datetime.fromisoformat(after["due_at"]) == moved
    page.goto(f"{day.url}/calendar?view=week&date={moved.date().isoformat()}")
    column = moved.weekday() + 1  # the target column comes first
    cell = page.locator("table.week tbody tr", has_text="digest").locator("td").nth(column - 1)
    expect(cell.locator(".cal-item", has_text="17:30")).to_have_count(1)
    page.goto(f"{day.url}/calendar")
    shoot(page, "console-calendar", day.tmp, full_page=True)
    page.goto(f"{day.url}/calendar?view=month&date={moved.date().isoformat()}")
    expect(page.locator(".month-day .cal-item").first).to_be_visible()
    shoot(page, "console-calendar-month", day.tmp, full_page=True)
    assert problems == []
    page.close()


def test_a_patreon_hand_off_is_confirmed_from_its_checklist(day: Day) -> None:
    patrons = walking(day)["patrons"]
    page, problems = day.open(f"/publications/{patrons['id']}")
    checklist = page.locator(".handoff")
    expect(checklist).to_contain_text("publish it by hand")
    expect(checklist).to_contain_text(str(day.home / "outbox" / "patrons"))
    shoot(page, "console-handoff", day.tmp, full_page=True)
    url = "https://www.patreon.com/posts/4242"
    page.get_by_placeholder("https://").fill(url)
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".flash.ok")).to_contain_text(
        f"publication {patrons['id']} (patrons) confirmed: now published"
    )
    row = day.rows("Walking Home the Long Way")["patrons"]
    assert (row["state"], row["url"]) == ("published", url)
    expect(page.locator("a.remote", has_text=url)).to_have_count(1)
    assert problems == []
    page.close()


def test_the_log_tail_shows_a_line_written_while_the_page_is_open(day: Day) -> None:
    page, problems = day.open("/logs")
    expect(page.locator("#tail-state.live")).to_be_visible(timeout=15_000)
    digest = walking(day)["digest"]
    result = crosspost(day.home, "reschedule", str(digest["id"]), "+4d")
    assert result.returncode == 0, result.stderr
    fresh = page.locator("#log-lines li.fresh", has_text="publication rescheduled")
    expect(fresh).to_have_count(1, timeout=15_000)
    expect(fresh).to_contain_text(f"publication={digest['id']}")
    shoot(page, "console-logs", day.tmp, full_page=False)
    page.close()
    assert problems == [] or all("logs/stream" in p for p in problems)  # closed mid-stream


def test_an_essay_full_of_script_runs_nothing_in_the_console(day: Day) -> None:
    (day.home / "inbox" / "hostile.md").write_text(HOSTILE, encoding="utf-8")
    titles: list[str] = []

    def arrived() -> bool:
        titles[:] = [r["essay"] for r in status(day.home) if "Notes" in r["essay"]]
        return bool(titles)

    assert wait_for(arrived, timeout=60, every=0.5)
    [row, *_] = [r for r in status(day.home) if r["essay"] == titles[0]]
    wait_until(day, titles[0], {"site": "published"})
    page, problems = day.open(f"/essays/{row['essay_id']}")
    expect(page.locator("h1")).to_contain_text("<script>alert('title')</script>")
    frames = page.locator("iframe.blog-frame")
    assert frames.count() >= 1
    for index in range(frames.count()):
        assert frames.nth(index).get_attribute("sandbox") == ""
    page.wait_for_timeout(1000)  # time for anything that would run to run
    page.mouse.move(600, 500)
    assert problems == []
    page.goto(f"{day.url}/queue")
    page.wait_for_timeout(500)
    assert problems == []
    page.close()


def test_the_accounts_page_shows_health_and_windows_but_no_secret(day: Day) -> None:
    page, problems = day.open("/accounts")
    page.get_by_role("button", name="Check every account now").click()
    expect(page.locator(".flash")).to_contain_text("accounts checked")
    row = page.locator("tr", has_text="toot")
    expect(row).to_contain_text("per 300 s")
    digest = page.locator("tr", has_text="digest")
    expect(digest).to_contain_text("slots 09:00, 17:30")
    html = page.content()
    assert TOKEN not in html and "browser-console-cookie" not in html
    shoot(page, "console-accounts", day.tmp, full_page=True)
    assert problems == []
    page.close()


def test_the_essay_page_shows_each_destination_as_it_will_look(day: Day) -> None:
    rows = walking(day)
    page, problems = day.open(f"/essays/{rows['site']['essay_id']}")
    toot = page.locator("#preview-toot .post-card")
    expect(toot.locator(".counter.fits")).to_contain_text("/ 500")
    expect(toot.locator(".post-text")).to_contain_text("Walking Home the Long Way")
    for blog in ("site", "patrons"):  # each blog body drawn in its own sandboxed frame
        page.locator(f"#preview-{blog} iframe.blog-frame").scroll_into_view_if_needed()
        frame = page.frame_locator(f"#preview-{blog} iframe.blog-frame")
        expect(frame.locator("blockquote")).to_contain_text("A city is best read on foot.")
    # a frame of its own (opaque origin) is painted only inside the viewport: make the
    # viewport as tall as the page rather than stitch a full-page screenshot
    page.set_viewport_size({"width": 1280, "height": page.evaluate("document.body.scrollHeight")})
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    shoot(page, "console-essay", day.tmp, full_page=False)
    assert problems == []
    page.close()


def test_the_console_stops_with_the_daemon(day: Day) -> None:
    """Nothing listens once `run --console` has stopped (checked on a second process)."""
    home = make_home(day.tmp / "second")
    port = free_port()
    proc = start_console(home, port, command="run")
    assert requests.get(f"http://127.0.0.1:{port}/queue", timeout=10).status_code == 200
    stop_daemon(proc)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/queue", timeout=2)
    assert isinstance(proc, subprocess.Popen)
    shutil.rmtree(home)


def test_every_step_works_without_javascript(day: Day) -> None:
    """The forms are plain HTML: with JavaScript off, a cancel still goes through."""
    title = "What the Basement Archive Kept"
    if not day.rows(title):
        (day.home / "inbox" / "archive.md").write_text(ARCHIVES, encoding="utf-8")
        wait_until(day, title, {"digest": "scheduled"})
    digest = day.rows(title)["digest"]
    page, problems = day.open(f"/publications/{digest['id']}", java_script_enabled=False)
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(f"**/publications/{digest['id']}")
    expect(page.locator(".flash.ok")).to_contain_text(
        f"publication {digest['id']} (digest) cancelled: now cancelled"
    )
    assert day.rows(title)["digest"]["state"] == "cancelled"
    assert problems == []
    page.close()


@pytest.mark.parametrize("path", ["/queue", "/calendar", "/logs", "/accounts", "/drop"])
def test_a_page_fits_a_phone_screen(day: Day, path: str) -> None:
    """Wide tables scroll inside their own box; the page itself never scrolls sideways."""
    walking(day)
    page, problems = open_page(day.browser, day.url + path, "phone")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.close()
    assert problems == [] or all("logs/stream" in p for p in problems)
