"""Hostile and broken files dropped into a running daemon: it survives all of them.

One real `crosspost run` (a subprocess) publishes to a static site, an outbox imitating
Mastodon and a Mastodon emulator, all in thread mode so essays' bodies reach every
platform. Into its inbox go empty, binary, mis-encoded, oversized, bomb-carrying,
wrongly-typed, script-laden, half-written, twin, symlinked and oddly named files, among
good essays. What an operator would check afterwards: the daemon is still running and
takes one more file; every bad file is in `failed/`, byte for byte, beside a note saying
why; every good essay is published once on every target; nothing executable reached a
platform; the file behind the symlink was neither changed nor published; the token was
never written anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from bench.fuzz_readers import (
    CONTENT_TYPES,
    ENTITY_BOMB,
    PACKAGE_RELS,
    with_document,
    zip_bomb,
    zipped,
)
from pipeline.inbox import Inbox
from pipeline.publishing.pipeline import Pipeline
from pipeline.settings import Settings, TargetSettings
from tests.daemon_helpers import (
    crosspost,
    everything_written,
    make_home,
    secret_hits,
    start_daemon,
    wait_for,
)
from tests.emulators.mastodon import MastodonEmulator

TOKEN = "hostile-inputs-mastodon-token-5f3a9c"
TARGETS = {"site", "announce", "mastodon"}
ACTIVE_CONTENT = ("<script", "onerror", "onload", "javascript:", "<iframe", "expression(")
OUTSIDE_WORDS = "DIARY-OUTSIDE-THE-INBOX"


def essay(title: str, body: str, front: str = "") -> bytes:
    return f"---\ntitle: {title}\n{front}---\n\n{body}\n".encode()


HOSTILE_HTML = b"""<!doctype html><html><head><title>ignored</title>
<script>alert('head')</script><style>body{background:url(javascript:alert(1))}</style>
</head><body onload="alert(1)"><article>
<h1>Hostile Markup Essay</h1>
<p>Visible words survive the markup. <img src="x.png" onerror="alert(1)">
<a href="javascript:alert(1)">a click</a> and <a href=" JaVa&#x09;script:alert(2)">a tab</a>.</p>
<script>document.write('<p>injected</p>')</script>
<iframe src="https://evil.example/frame"></iframe>
<svg onload="alert(1)"><circle r="5"></circle></svg>
<div style="width: expression(alert(1))">Styled words stay as text.</div>
<p><img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"> and
<a href="data:text/html,%3Cscript%3Ealert(1)%3C/script%3E">a data link</a>.</p>
<object data="javascript:alert(1)"></object><embed src="x.swf">
</article></body></html>
"""
HOSTILE_MARKDOWN = essay(
    "Hostile Markdown Essay",
    "Markdown words survive. <img src=x onerror=alert(1)> inline.\n\n"
    "<script>alert(1)</script>\n\n"
    "<iframe src='https://evil.example'></iframe>\n\n"
    "[a click](javascript:alert(1)) and [a reference][r] and <javascript:alert(3)>.\n\n"
    "![svg](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)\n\n"
    "<svg onload=alert(1)></svg>\n\n"
    "[r]: JAVASCRIPT:alert(2)\n",
)


ENTITY_BOMB_DOCX = zipped(
    {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": PACKAGE_RELS,
     "word/document.xml": ENTITY_BOMB}
)  # fmt: skip


def bad_files() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, a word the reason must contain)."""
    junk = bytes((i * 7919 + 13) % 256 for i in range(4096))  # NULs and invalid UTF-8
    return {
        "empty.md": (b"", "empty"),
        "junk.md": (junk, "UTF-8"),
        "junk.docx": (junk, "Word document"),
        "junk.html": (junk, "UTF-8"),
        "invalid-utf8.md": (b"---\ntitle: Caf\xe9\n---\n\nNot UTF-8 at all.\n", "UTF-8"),
        "broken..name.md": (b"\xc3\x28\xa0\xa1 not text", "UTF-8"),
        "odd-utf16.md": (b"\xff\xfeT\x00i\x00t\x00l", "UTF-16"),  # a BOM, then half a char
        "huge.md": (essay("Huge", "word " * (10 * 1024 * 1024)), "limit"),
        "yaml-bomb.md": (
            b"---\ntitle: Bomb\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
            b"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
            b"d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n---\n\nBody.\n",
            "alias",
        ),
        "wrong-title.md": (essay("[a, list]", "Body."), "title"),
        "wrong-date.md": (essay("Dated", "Body.", "date: the day after tomorrow\n"), "date"),
        "wrong-tags.md": (essay("Tagged", "Body.", "tags: {one: 1}\n"), "tags"),
        "not-a-zip.docx": (b"I am plain text wearing a .docx name.\n", "Word document"),
        "zip-bomb.docx": (zip_bomb(2), "limit"),
        "lying-zip-bomb.docx": (  # 2 GiB claiming to be 1000 bytes
            with_document(zip_bomb(2, "docProps/core.xml", declared=1000)),
            "damaged",
        ),
        "entity-bomb.docx": (ENTITY_BOMB_DOCX, "DTD"),
        "0-circular.md": (
            essay("Circular", "Body.", "targets: {site: {after: announce}}\n"),
            "circle",
        ),
    }


GOOD = {  # name -> (bytes, title)
    "good-plain.md": (essay("A Plain Good Essay", "Plain words."), "A Plain Good Essay"),
    "my essay with spaces.md": (essay("Spaces In The Name", "Spaced."), "Spaces In The Name"),
    "Überlegungen – 日本.md": (
        essay("Überlegungen über Japan", "Gedanken – 考え."),
        "Überlegungen über Japan",
    ),
    "draft..final.md": (essay("Dots In The Name", "Dotted words."), "Dots In The Name"),
    "utf16.md": (
        "---\ntitle: Grüße in UTF-16\n---\n\nWörter aus Notepad, 日本語も.\n".encode("utf-16"),
        "Grüße in UTF-16",
    ),
    "hostile.html": (HOSTILE_HTML, "Hostile Markup Essay"),
    "hostile.md": (HOSTILE_MARKDOWN, "Hostile Markdown Essay"),
}
# Written in pieces with pauses shorter than settle_seconds but longer than the poll
# interval: the inbox sees it grow for longer than settle_seconds in all and waits it out.
GROWING = [
    essay("Written While Watched", "The first part arrives.").rstrip(b"\n"),
    b"\n\nA second part.",
    b"\n\nA third part.",
    b"\n\nFINAL-PART-ARRIVED-LATER.\n",
]
SETTLE_SECONDS = 1.0
PAUSE_SECONDS = 0.6
TWIN = essay("Twins Dropped Together", "Two names, the same bytes.")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def mastodon() -> Iterator[MastodonEmulator]:
    emulator = MastodonEmulator()
    emulator.add_account(TOKEN, "writer")
    emulator.start()
    yield emulator
    emulator.stop()


class Daemon:
    """The real daemon, with its merged stdout/stderr drained so the pipe never fills."""

    def __init__(self, home: Path) -> None:
        self.proc = start_daemon(home)
        self.output: list[str] = []
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait()
        self.reader.join(timeout=10)
        return code


def peak_memory_mib(pid: int) -> int:
    """The process's peak resident memory so far (Linux: VmHWM in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no VmHWM line")


def status_rows(home: Path) -> list[dict]:
    """The publications (refused inbox files are checked in failed/ itself)."""
    result = crosspost(home, "status", "--json", "--all")
    assert result.returncode == 0, result.stderr
    return [row for row in json.loads(result.stdout) if row["kind"] == "publication"]


def published_titles(home: Path) -> dict[str, set[str]]:
    """title -> targets where it is published."""
    titles: dict[str, set[str]] = {}
    for row in status_rows(home):
        if row["state"] == "published":
            titles.setdefault(row["essay"], set()).add(row["target"])
    return titles


def all_published(home: Path, titles: set[str]) -> bool:
    done = published_titles(home)
    return all(done.get(title) == TARGETS for title in titles)


def test_hostile_and_broken_drops_never_stop_the_daemon_or_reach_a_platform(
    tmp_path: Path, mastodon: MastodonEmulator
) -> None:
    home = make_home(
        tmp_path,
        f"""
        timezone = "UTC"
        settle_seconds = {SETTLE_SECONDS}
        inbox_poll_seconds = 0.2
        [targets.site]
        platform = "static_site"
        options = {{ base_url = "https://blog.example.org" }}
        [targets.announce]
        platform = "outbox"
        after = "site"
        options = {{ as = "mastodon", mode = "thread" }}
        [targets.mastodon]
        platform = "mastodon"
        base_url = "{mastodon.base_url}"
        after = "site"
        credentials = {{ access_token = "{TOKEN}" }}
        options = {{ mode = "thread" }}
        """,
    )
    inbox, failed = home / "inbox", home / "failed"
    outside = tmp_path / "outside" / "private-diary.md"
    outside.parent.mkdir()
    outside.write_bytes(essay("Private Diary", f"{OUTSIDE_WORDS} must stay private."))
    outside_before = (outside.read_bytes(), outside.stat().st_mtime_ns)
    bad = bad_files()
    good_titles = {title for _, title in GOOD.values()}
    good_titles |= {"Twins Dropped Together", "Written While Watched"}

    daemon = Daemon(home)
    try:
        assert wait_for(lambda: "daemon started" in "".join(daemon.output), timeout=30)
        growing = (inbox / "growing.md").open("wb")  # noticed while still being written
        growing.write(GROWING[0])
        growing.flush()
        for name, (data, _) in {**bad, **GOOD}.items():
            (inbox / name).write_bytes(data)
        (inbox / "link.md").symlink_to(outside)
        for twin in ("twin-a.md", "twin-b.md"):  # the same bytes at the same moment
            (inbox / f".{twin}.tmp").write_bytes(TWIN)
        for twin in ("twin-a.md", "twin-b.md"):
            os.rename(inbox / f".{twin}.tmp", inbox / twin)
        for part in GROWING[1:]:
            time.sleep(PAUSE_SECONDS)  # several polls see the same unfinished file
            assert (inbox / "growing.md").exists(), "taken before its writer finished"
            growing.write(part)
            growing.flush()
        growing.close()

        assert wait_for(lambda: all_published(home, good_titles), timeout=60), (
            published_titles(home),
            "".join(daemon.output)[-3000:],
        )
        assert wait_for(lambda: not any(inbox.iterdir()), timeout=10), list(inbox.iterdir())
        assert daemon.proc.poll() is None, "the daemon died"

        (inbox / "last-good.md").write_bytes(essay("Dropped Last", "Still taking files."))
        assert wait_for(lambda: all_published(home, {"Dropped Last"}), timeout=30)
        assert daemon.proc.poll() is None, "the daemon died"
        peak_mib = peak_memory_mib(daemon.proc.pid)
    finally:
        exit_code = daemon.stop()
    output = "".join(daemon.output)
    assert exit_code == 0, output[-3000:]
    assert peak_mib < 400, f"the daemon peaked at {peak_mib} MiB (bombs inflated?)"

    # every bad file: in failed/, byte for byte, beside a note naming it and saying why
    for name, (data, word) in bad.items():
        kept = failed / name.replace("..", "__")
        assert kept.is_file() and not kept.is_symlink(), name
        if len(data) > 1_000_000:
            assert sha(kept.read_bytes()) == sha(data), name
        else:
            assert kept.read_bytes() == data, name
        note = kept.with_name(kept.name + ".error.txt").read_text(encoding="utf-8")
        assert name in note and "Reason:" in note, note
        assert word.lower() in note.lower(), (name, note)
    link = failed / "link.md"
    assert link.is_symlink() and os.readlink(link) == str(outside)
    assert "not a regular file" in (failed / "link.md.error.txt").read_text(encoding="utf-8")
    assert {p.name for p in failed.iterdir()} == {
        *(n.replace("..", "__") for n in bad),
        *(f"{n.replace('..', '__')}.error.txt" for n in bad),
        "link.md",
        "link.md.error.txt",
    }

    # every good file: processed, published exactly once everywhere (twins are one essay)
    rows = status_rows(home)
    essays = {row["essay"] for row in rows}
    assert essays == good_titles | {"Dropped Last"}, essays
    assert len(rows) == len(essays) * len(TARGETS)
    assert {row["state"] for row in rows} == {"published"}
    processed = {p.name for p in (home / "processed").iterdir()}
    assert processed == {
        *(n.replace("..", "__") for n in GOOD),
        "twin-a.md",
        "twin-b.md",
        "growing.md",
        "last-good.md",
    }
    assert (home / "processed" / "growing.md").read_bytes() == b"".join(GROWING)
    pages = [p for p in (home / "site").glob("*.html") if p.name not in {"index.html", "404.html"}]
    assert len(pages) == len(essays)
    site = "\n".join(
        p.read_text(encoding="utf-8") for p in (home / "site").rglob("*") if p.is_file()
    )
    assert "FINAL-PART-ARRIVED-LATER" in site  # the whole file, not the half first seen
    assert site.count('<h1 class="p-name">Twins Dropped Together</h1>') == 1  # its own page
    assert "Wörter aus Notepad, 日本語も." in site  # UTF-16 read as text, not refused
    statuses = mastodon.published()
    firsts = [s["text"] for s in statuses if s["in_reply_to_id"] is None]
    assert len(firsts) == len(essays) and len(set(firsts)) == len(firsts), firsts
    texts = [s["text"] for s in statuses]
    assert len(set(texts)) == len(texts), "a post was sent twice"
    outbox_files = list((home / "outbox").rglob("*.json"))
    assert len(outbox_files) == len(statuses)

    # nothing executable reached a platform, though the hostile essays' words did
    received = "\n".join(r.body.decode("utf-8", "replace") for r in mastodon.requests_seen)
    outbox = "\n".join(p.read_text(encoding="utf-8") for p in outbox_files)
    # the site's own JSON-LD is data, not script: set aside only blocks with no "<" inside
    # (ours escape it), so markup smuggled into one would still be caught below
    site = re.sub(r'<script type="application/ld\+json">[^<]*</script>', "", site)
    for platform, text in {"site": site, "outbox": outbox, "mastodon": received}.items():
        hits = [needle for needle in ACTIVE_CONTENT if needle in text.lower()]
        assert hits == [], (platform, hits)
        assert "Visible words survive" in text and "Markdown words survive" in text, platform
        assert OUTSIDE_WORDS not in text, platform
    assert (outside.read_bytes(), outside.stat().st_mtime_ns) == outside_before

    # the token was never printed or written
    status_output = crosspost(home, "status", "--all").stdout
    written = everything_written(home, [output, status_output])
    assert secret_hits(written, {"mastodon.access_token": TOKEN}) == []


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Pipeline]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'crosspost.db'}",
        targets={
            "site": TargetSettings(platform="static_site"),
            "announce": TargetSettings(platform="outbox", after="site"),
        },
    )
    engine = Pipeline(tmp_path / "home", settings)
    yield engine
    engine.close()


@pytest.mark.parametrize(
    ("front", "reason"),
    [
        ("targets: {site: {after: announce}}", "in a circle: site -> announce -> site"),
        ("targets: {announce: {relative_to: announce}}", "in a circle: announce -> announce"),
        ("targets: {site: {offset: soon}}", "`targets.site.offset`: 'soon' is not a duration"),
        ("targets: {site: {offset: 99999999999h}}", "`targets.site.offset` is too long"),
        ("targets: {site: {slots: ['25:99']}}", "`targets.site.slots`: slot '25:99'"),
        ("targets: {site: {slots: ['09:00'], max_per_day: many}}", "max_per_day"),
        ("targets: {site: {early_access_hours: soon}}", "early_access_hours` must be a number"),
        ("publish_at: 9999-12-31T23:59:00\ntargets: {site: {offset: 48h}}", "year 9999"),
    ],
)
def test_front_matter_that_cannot_be_planned_goes_to_failed_with_its_reason(
    engine: Pipeline, front: str, reason: str
) -> None:
    """These read fine but used to raise inside planning: the file then stayed in the inbox,
    retried with a traceback every settle period, and never reached `failed/`."""
    home = engine.home
    inbox = Inbox(engine, home, settle_seconds=0)
    data = essay("Unplannable", "Body.", front + "\n")
    (home / "inbox" / "a-unplannable.md").write_bytes(data)
    (home / "inbox" / "b-fine.md").write_bytes(essay("Fine", "Body."))
    results = inbox.scan()
    assert [type(r).__name__ for r in results] == ["ReadError", "Intake"]
    assert (home / "failed" / "a-unplannable.md").read_bytes() == data
    note = (home / "failed" / "a-unplannable.md.error.txt").read_text(encoding="utf-8")
    assert "cannot be planned" in note and reason in note, note
    assert [e.title for e in engine.store.essays()] == ["Fine"]
    assert not any((home / "inbox").iterdir())


def test_a_file_crosspost_itself_fails_on_goes_to_failed_and_the_next_is_taken(
    engine: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = engine.home
    inbox = Inbox(engine, home, settle_seconds=0)
    add_essay = engine.add_essay

    def buggy(essay, name, data, *args, **kwargs):  # a bug that only this file triggers
        if name == "a-trigger.md":
            raise KeyError("an engine bug")
        return add_essay(essay, name, data, *args, **kwargs)

    monkeypatch.setattr(engine, "add_essay", buggy)
    (home / "inbox" / "a-trigger.md").write_bytes(essay("Trigger", "Body."))
    (home / "inbox" / "b-fine.md").write_bytes(essay("Fine", "Body."))
    assert [type(r).__name__ for r in inbox.scan()] == ["ReadError", "Intake"]
    note = (home / "failed" / "a-trigger.md.error.txt").read_text(encoding="utf-8")
    assert "crosspost failed on it (an internal error: 'an engine bug')" in note
    assert "KeyError" not in note  # no Python names in what the author reads
    assert (home / "failed" / "a-trigger.md").read_bytes() == essay("Trigger", "Body.")
    assert (home / "processed" / "b-fine.md").exists()


def test_a_store_outage_leaves_the_file_in_the_inbox_for_the_next_scan(
    engine: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = engine.home
    inbox = Inbox(engine, home, settle_seconds=0)
    add_essay = engine.add_essay

    def down(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(engine, "add_essay", down)
    (home / "inbox" / "essay.md").write_bytes(essay("Waiting", "Body."))
    assert inbox.scan() == []
    assert (home / "inbox" / "essay.md").exists() and not any((home / "failed").iterdir())
    monkeypatch.setattr(engine, "add_essay", add_essay)
    assert [type(r).__name__ for r in inbox.scan()] == ["Intake"]
    assert (home / "processed" / "essay.md").exists()
