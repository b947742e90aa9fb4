"""Network hygiene: what crosspost downloads stays bounded, and a wrong address says so.

Images an essay names are fetched only over http(s), within a size and a time limit, with
no redirect loops and no hop to another scheme (`pipeline/fetch.py`, used by every
connector that copies an image). A target whose `base_url` is wrong (a closed port, a host
that never answers, a web page, a 404, a bad scheme, a password in the URL) gives the
operator a readable error within a bounded time, in `accounts check` and in a publish.

The misbehaving hosts are real sockets on 127.0.0.1 (`tests/hostile_hosts.py`); platforms
are their emulators; the whole-program cases run the real `crosspost` command, several
homes at once (they mostly wait on timeouts), each timed.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.base import Account, Rejected, RenderContext
from connectors.mastodon import Mastodon
from connectors.wordpress import IMAGE_SECONDS, WordPress
from pipeline import fetch
from pipeline.document import Essay, Image, Paragraph, Run
from tests.daemon_helpers import EXAMPLE, crosspost, everything_written, make_home, secret_hits
from tests.emulators.base import Emulator, Request, Response, route
from tests.emulators.mastodon import MastodonEmulator
from tests.hostile_hosts import ImageHost, SilentSocket, closed_port, elapsed, tiny_png

# seconds: a case slower than this counts as a hang. The limits under test are 30 s at most;
# the rest is room for a dozen programs starting at once on two busy cores.
HANG_GUARD = 90.0
MASTODON_TOKEN = "mastodon-token-SECRET-a1b2c3d4"
WP_PASSWORD = "wp-app-password-SECRET-e5f6 a7b8"
GHOST_KEY = "6489a1b2c3d4e5f6a7b8c9d0:" + "5ec2e7" * 10 + "abcd"
TELEGRAM_TOKEN = "123456:telegram-SECRET-0f9e8d7c"
DEVTO_KEY = "devto-key-SECRET-11aa22bb"
BLUESKY_PASSWORD = "bsky-SECRET-3c4d-5e6f"
URL_PASSWORD = "url-password-SECRET-77cc88dd"
SECRETS = {
    "mastodon": MASTODON_TOKEN,
    "wordpress": WP_PASSWORD,
    "ghost": GHOST_KEY,
    "telegram": TELEGRAM_TOKEN,
    "devto": DEVTO_KEY,
    "bluesky": BLUESKY_PASSWORD,
    "url": URL_PASSWORD,
}


# ---------------------------------------------------------------- servers and fixtures


class WordPressStandIn(Emulator):
    """The WordPress REST routes a post with tags and a featured image uses, keeping what
    it was sent (the real WordPress is slow to start; this is about the image, not WP)."""

    name = "wordpress"

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[dict[str, Any]] = []
        self.uploads: list[bytes] = []
        self.terms: dict[str, int] = {}

    def handle(self, req: Request) -> Response:
        expected = base64.b64encode(f"ada:{WP_PASSWORD}".encode()).decode()
        if req.header("Authorization") != f"Basic {expected}":
            return Response(401, {"code": "rest_not_logged_in", "message": "Not logged in"})
        return super().handle(req)

    @route("GET", r"/wp-json/wp/v2/users/me")
    def me(self, req: Request) -> Response:
        return Response(200, {"id": 1, "name": "Ada", "slug": "ada"})

    @route("GET", r"/wp-json/wp/v2/tags")
    def tags(self, req: Request) -> Response:
        slug = req.arg("slug") or ""
        found = [{"id": i, "name": n, "slug": slug} for n, i in self.terms.items() if n == slug]
        return Response(200, found)

    @route("POST", r"/wp-json/wp/v2/tags")
    def new_tag(self, req: Request) -> Response:
        name = req.json()["name"]
        self.terms[name] = len(self.terms) + 1
        return Response(201, {"id": self.terms[name], "name": name})

    @route("POST", r"/wp-json/wp/v2/media")
    def media(self, req: Request) -> Response:
        self.uploads.append(req.body)
        return Response(201, {"id": 900 + len(self.uploads), "source_url": "https://wp/x.png"})

    @route("GET", r"/wp-json/wp/v2/posts")
    def find(self, req: Request) -> Response:
        return Response(200, [p for p in self.posts if p["slug"] == req.arg("slug")])

    @route("POST", r"/wp-json/wp/v2/posts")
    def create(self, req: Request) -> Response:
        post = {**req.json(), "id": len(self.posts) + 1}
        post["link"] = f"https://blog.example.org/{post['slug']}/"
        self.posts.append(post)
        return Response(201, post)


@pytest.fixture(scope="module")
def host() -> Iterator[ImageHost]:
    with ImageHost() as server:
        yield server


@dataclass
class LocalFile:
    """A picture on this machine whose bytes must never leave it; `token` is inside them."""

    path: Path
    token: bytes


@pytest.fixture
def marker(tmp_path: Path) -> LocalFile:
    token = f"LOCAL-FILE-{uuid.uuid4().hex}".encode()
    path = tmp_path / "private-photo.png"
    path.write_bytes(tiny_png(token))
    return LocalFile(path, token)


_recordings: list[list[str]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _recordings and isinstance(args[0], str | bytes | os.PathLike):
        for opened in _recordings:
            opened.append(os.fsdecode(args[0]))


@contextmanager
def files_opened() -> Iterator[list[str]]:
    """Every file this process opens meanwhile, from Python's `open` audit event."""
    if not getattr(files_opened, "hooked", False):
        sys.addaudithook(_audit)  # a hook stays for the process: it records only on demand
        files_opened.hooked = True  # type: ignore[attr-defined]
    opened: list[str] = []
    _recordings.append(opened)
    try:
        yield opened
    finally:
        _recordings.remove(opened)


@pytest.fixture
def mastodon() -> Iterator[MastodonEmulator]:
    with MastodonEmulator(media_processing_polls=0) as server:
        server.add_account(MASTODON_TOKEN, "ada")
        yield server


@pytest.fixture
def wordpress() -> Iterator[WordPressStandIn]:
    with WordPressStandIn() as server:
        yield server


def essay_with_image(src: str) -> Essay:
    return Essay(
        title=f"Canals {uuid.uuid4().hex[:6]}",
        blocks=[
            Paragraph(content=[Run(text="A walk along the canals, with one picture.")]),
            Image(src=src, alt="The canal at dusk"),
        ],
    )


def wordpress_for(server: WordPressStandIn) -> WordPress:
    account = Account(
        name="blog",
        platform="wordpress",
        credentials={"user": SecretStr("ada"), "app_password": SecretStr(WP_PASSWORD)},
        base_url=server.base_url,
    )
    return WordPress(account)


def mastodon_for(server: MastodonEmulator) -> Mastodon:
    account = Account(
        name="toot",
        platform="mastodon",
        credentials={"access_token": SecretStr(MASTODON_TOKEN)},
        base_url=server.base_url,
    )
    return Mastodon(account)


def sent_bytes(server: Emulator) -> bytes:
    return b"\n".join(r.body for r in server.requests_seen)


# ---------------------------------------------------------------- schemes


UNSAFE_SOURCES: dict[str, Callable[[Path, ImageHost], str]] = {  # (the local file, host)
    "file URL": lambda m, h: m.as_uri(),
    "FILE URL in capitals": lambda m, h: "FILE://" + str(m),
    "file URL after a space": lambda m, h: " " + m.as_uri(),
    "absolute path": lambda m, h: str(m),
    "relative path": lambda m, h: m.name,
    "Windows path": lambda m, h: "C:\\Users\\ada\\photo.png",
    "ftp": lambda m, h: f"ftp://127.0.0.1:{h.server.server_address[1]}/png",
    "gopher": lambda m, h: f"gopher://127.0.0.1:{h.server.server_address[1]}/png",
    "data URL": lambda m, h: "data:image/png;base64," + base64.b64encode(tiny_png()).decode(),
    "javascript": lambda m, h: "javascript:alert(document.cookie)",
    "scheme-relative": lambda m, h: f"//127.0.0.1:{h.server.server_address[1]}/png",
    "http without a host": lambda m, h: "http:/etc/passwd",
    "https with an empty host": lambda m, h: "https:///etc/passwd",
}


def test_the_open_recorder_sees_a_local_file_being_read(marker: LocalFile) -> None:
    """Guard for the checks below: reading the file does show up."""
    with files_opened() as opened:
        assert marker.token in marker.path.read_bytes()
    assert str(marker.path) in opened


@pytest.mark.parametrize("kind", UNSAFE_SOURCES)
def test_only_http_and_https_images_are_fetched_and_nothing_is_read_from_disk(
    kind: str, marker: LocalFile, host: ImageHost
) -> None:
    source = UNSAFE_SOURCES[kind](marker.path, host)
    before = len(host.seen)
    with files_opened() as opened, pytest.raises(fetch.FetchError) as refused:
        fetch.fetch_image(source, max_bytes=1024 * 1024)
    reason = str(refused.value)
    assert "only http/https" in reason or "no host in" in reason, reason
    assert len(host.seen) == before  # not even the loopback host was asked
    assert [p for p in opened if p.endswith(marker.path.name)] == []


@pytest.mark.parametrize("target", ["file", "ftp", "data", "gopher", "javascript"])
def test_a_redirect_from_http_to_another_scheme_is_refused(
    target: str, marker: LocalFile, host: ImageHost
) -> None:
    location = {
        "file": marker.path.as_uri(),
        "ftp": "ftp://127.0.0.1/png",
        "data": "data:image/png;base64," + base64.b64encode(tiny_png()).decode(),
        "gopher": "gopher://127.0.0.1/png",
        "javascript": "javascript:alert(1)",
    }[target]
    start = host.url(f"/to?location={location}")
    with files_opened() as opened, pytest.raises(fetch.FetchError) as refused:
        fetch.fetch_image(start, max_bytes=1024 * 1024)
    assert "only http/https, redirected from" in str(refused.value)
    assert f"{host.base_url}/to" in str(refused.value)
    assert [p for p in opened if p.endswith(marker.path.name)] == []


# ---------------------------------------------------------------- redirects


def test_redirect_loops_and_chains_longer_than_five_hops_are_refused(host: ImageHost) -> None:
    assert fetch.fetch_image(host.url("/hops/5"), max_bytes=1024).content == tiny_png()
    for path, reason in (
        ("/loop", "a loop"),
        ("/pingpong/a", "a loop"),
        ("/hops/6", "more than 5"),
        ("/hops/100", "more than 5"),
    ):
        before = len(host.seen)
        with pytest.raises(fetch.FetchError, match=f"too many redirects \\({reason}") as refused:
            fetch.fetch_image(host.url(path), max_bytes=1024)
        assert host.url(path.split("?")[0]) in str(refused.value)
        assert len(host.seen) - before <= fetch.MAX_REDIRECTS + 1  # no tight loop


# ---------------------------------------------------------------- size


@pytest.mark.parametrize("path", ["/big?size=104857600", "/endless", "/endless-chunked"])
def test_an_image_over_the_size_limit_is_cut_off_with_memory_bounded(
    path: str, host: ImageHost
) -> None:
    """Declared too large (refused before reading), or with no length and no end."""
    limit = 1024 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(fetch.FetchError, match=f"is larger than {limit} bytes"):
            fetch.fetch_image(host.url(path), max_bytes=limit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * limit, f"peak {peak} bytes while fetching {path}"


def test_a_length_that_lies_is_read_no_further_than_it_says(host: ImageHost) -> None:
    got = fetch.fetch(host.url("/lying"), max_bytes=1024 * 1024)
    assert len(got.content) == 1000  # the server keeps sending; we stop where it said


# ---------------------------------------------------------------- time


@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_a_host_dripping_a_byte_a_second_is_cut_off_at_the_deadline(
    path: str, host: ImageHost
) -> None:
    """Each byte resets the read timeout, so only the overall deadline can end it."""
    result, seconds = elapsed(
        lambda: fetch.fetch_image(host.url(path), max_bytes=1024 * 1024, total_seconds=2.0)
    )
    assert isinstance(result, fetch.FetchError), result
    assert f"{host.url(path)} took longer than 2 s to download" in str(result)
    assert 1.9 <= seconds < 10, seconds


def test_a_host_that_accepts_and_never_answers_ends_at_the_read_timeout(host: ImageHost) -> None:
    result, seconds = elapsed(
        lambda: fetch.fetch_image(host.url("/silent"), max_bytes=1024, timeout=(1.0, 1.0))
    )
    assert isinstance(result, fetch.FetchError) and "ReadTimeout" in str(result), result
    assert seconds < 10, seconds


# ---------------------------------------------------------------- connectors


def test_an_image_on_disk_never_reaches_wordpress_or_mastodon(
    marker: LocalFile, host: ImageHost, wordpress: WordPressStandIn, mastodon: MastodonEmulator
) -> None:
    """A local path, a file:// URL, and an http URL that redirects to file://."""
    uri = marker.path.as_uri()
    sources = [uri, str(marker.path), host.url(f"/to?location={uri}")]
    for source in sources:
        essay = essay_with_image(source)
        blog = WordPress.render(essay, RenderContext(target="blog"))
        toot = Mastodon.render(essay, RenderContext(target="toot", options={"attach_image": True}))
        with files_opened() as opened:
            remote = wordpress_for(wordpress).publish(blog, WordPress.new_key())
            with pytest.raises(Rejected) as refused:
                mastodon_for(mastodon).publish(toot, Mastodon.new_key())
        assert remote.url  # the post went out, without the picture
        assert "only http" in str(refused.value), refused.value
        assert [p for p in opened if p.endswith(marker.path.name)] == []
    assert len(wordpress.posts) == len(sources)
    assert all("featured_media" not in post for post in wordpress.posts)
    redirected = wordpress_for(wordpress).publish(
        WordPress.render(essay_with_image(sources[2]), RenderContext(target="blog")), "k"
    )
    assert "only http/https, redirected from" in redirected.extra["featured_image_skipped"]
    assert wordpress.uploads == [] and mastodon.published() == []
    assert marker.token not in sent_bytes(wordpress) + sent_bytes(mastodon)


def test_an_endless_image_leaves_the_blog_post_without_it_and_stops_the_toot(
    host: ImageHost, wordpress: WordPressStandIn, mastodon: MastodonEmulator
) -> None:
    """WordPress publishes without the featured image (its documented rule); Mastodon's
    `attach_image` asked for the picture, so it refuses with the next step instead."""
    essay = essay_with_image(host.url("/endless"))
    blog = WordPress.render(essay, RenderContext(target="blog"))
    remote = wordpress_for(wordpress).publish(blog, WordPress.new_key())
    assert "is larger than" in remote.extra["featured_image_skipped"]
    assert wordpress.posts and "featured_media" not in wordpress.posts[0]
    assert wordpress.uploads == []
    toot = Mastodon.render(essay, RenderContext(target="toot", options={"attach_image": True}))
    with pytest.raises(Rejected, match="larger than") as refused:
        mastodon_for(mastodon).publish(toot, Mastodon.new_key())
    assert "attach_image = false" in refused.value.next_step
    assert mastodon.published() == []


def test_an_image_that_comes_through_is_uploaded(
    host: ImageHost, wordpress: WordPressStandIn, mastodon: MastodonEmulator
) -> None:
    """Guard for the refusals above: a good image over http, after two redirects, arrives."""
    essay = essay_with_image(host.url("/hops/2"))
    blog = WordPress.render(essay, RenderContext(target="blog"))
    remote = wordpress_for(wordpress).publish(blog, WordPress.new_key())
    assert wordpress.uploads == [tiny_png()] and remote.extra.get("featured_media")
    toot = Mastodon.render(essay, RenderContext(target="toot", options={"attach_image": True}))
    mastodon_for(mastodon).publish(toot, Mastodon.new_key())
    assert [len(s["media_attachments"]) for s in mastodon.published()] == [1]


# ---------------------------------------------------------------- whole program


@dataclass
class Command:
    """One `crosspost` command: its result and how long it took."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


@dataclass
class Home:
    name: str
    config: str
    commands: list[tuple[str, ...]]
    essay: str | None = None  # Markdown dropped into the inbox before `run --once`
    home: Path | None = None
    runs: dict[str, Command] = field(default_factory=dict)
    status: list[dict[str, Any]] = field(default_factory=list)

    def row(self, target: str) -> dict[str, Any]:
        return next(r for r in self.status if r["target"] == target)

    def account(self, target: str) -> str:
        line = next(x for x in self.runs["accounts"].stdout.splitlines() if x.startswith(target))
        return " ".join(line.split())


def target(name: str, platform: str, url: str) -> str:
    credentials = {
        "mastodon": f'access_token = "{MASTODON_TOKEN}"',
        "wordpress": f'user = "ada", app_password = "{WP_PASSWORD}"',
        "ghost": f'admin_key = "{GHOST_KEY}"',
        "telegram": f'bot_token = "{TELEGRAM_TOKEN}"',
        "devto": f'api_key = "{DEVTO_KEY}"',
        "bluesky": f'identifier = "ada.test", app_password = "{BLUESKY_PASSWORD}"',
    }[platform]
    options = {"telegram": 'options = { chat_id = "@essays" }'}.get(platform, "")
    return f"""
    [targets.{name}]
    platform = "{platform}"
    base_url = "{url}"
    credentials = {{ {credentials} }}
    {options}
    """


PLATFORMS = ("mastodon", "wordpress", "ghost", "telegram", "devto", "bluesky")
ACCOUNTS = ("accounts", "check")
RUN = ("run", "--once")


def every_platform_at(url: str) -> str:
    return 'timezone = "UTC"\n' + "".join(target(p, p, url) for p in PLATFORMS)


IMAGE_ESSAY = """---
title: Walking the Canals
---
A walk along the canals, with one picture that the host sends one byte a second.

![The canal at dusk]({src})

The rest of the essay.
"""


def homes(host: ImageHost, silent: SilentSocket, images: dict[str, Emulator]) -> list[Home]:
    page, missing, other = host.url("/page"), host.url("/missing"), host.url("/json")
    closed = f"http://127.0.0.1:{closed_port()}"
    bad = f"""
    timezone = "UTC"
    {target("typo", "mastodon", "htps://mastodon.example")}
    {target("ftp", "wordpress", "ftp://blog.example.org")}
    {target("bare", "ghost", "ghost.example.org")}
    {target("userinfo", "devto", f"https://ada:{URL_PASSWORD}@dev.example.org")}
    """
    dripping = IMAGE_ESSAY.format(src=host.url("/drip"))
    return [
        Home("closed port", every_platform_at(closed), [ACCOUNTS, RUN], EXAMPLE.read_text()),
        Home("web page", every_platform_at(page), [ACCOUNTS, RUN], EXAMPLE.read_text()),
        Home("404 at the root", every_platform_at(missing), [ACCOUNTS, RUN], EXAMPLE.read_text()),
        Home("bad URLs", bad, [ACCOUNTS, RUN], EXAMPLE.read_text()),
        Home(
            "other JSON service",
            'timezone = "UTC"\n' + target("toot", "mastodon", other) + "[targets.site]\n"
            'platform = "static_site"\n',
            [ACCOUNTS],
        ),
        Home(
            "silent, checked",
            'timezone = "UTC"\n' + target("toot", "mastodon", silent.base_url),
            [ACCOUNTS],
        ),
        Home(
            "silent blog",
            'timezone = "UTC"\n' + target("blog", "wordpress", silent.base_url),
            [RUN],
            EXAMPLE.read_text(),
        ),
        Home(
            "silent channel",
            'timezone = "UTC"\n' + target("channel", "telegram", silent.base_url),
            [RUN],
            EXAMPLE.read_text(),
        ),
        Home(
            "dripping image, blog",
            'timezone = "UTC"\n' + target("blog", "wordpress", images["wordpress"].base_url),
            [RUN],
            dripping,
        ),
        Home(
            "dripping image, toot",
            'timezone = "UTC"\n'
            + target("toot", "mastodon", images["mastodon"].base_url)
            + "options = { attach_image = true }\n",
            [RUN],
            dripping,
        ),
    ]


def play(case: Home, tmp: Path) -> Home:
    case.home = make_home(tmp / case.name.replace(" ", "-").replace(",", ""), case.config)
    for args in case.commands:
        if args == RUN and case.essay is not None:
            (case.home / "inbox" / "essay.md").write_text(case.essay, encoding="utf-8")
        started = time.monotonic()
        done = crosspost(case.home, *args, timeout=3 * HANG_GUARD)
        seconds = time.monotonic() - started
        case.runs[args[0]] = Command(args, done.returncode, done.stdout, done.stderr, seconds)
    listed = crosspost(case.home, "status", "--json")
    case.status = json.loads(listed.stdout) if listed.returncode == 0 else []
    return case


@dataclass
class Played:
    homes: dict[str, Home]
    blog: WordPressStandIn  # the dripping-image home's platforms
    toot: MastodonEmulator


@pytest.fixture(scope="module")
def played(host: ImageHost, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    """Every home played at once: most of the time is spent waiting on timeouts."""
    silent = SilentSocket()
    blog, toot = WordPressStandIn().start(), MastodonEmulator(media_processing_polls=0).start()
    toot.add_account(MASTODON_TOKEN, "ada")
    tmp = tmp_path_factory.mktemp("hygiene")
    try:
        cases = homes(host, silent, {"wordpress": blog, "mastodon": toot})
        with ThreadPoolExecutor(max_workers=len(cases)) as pool:
            done = {c.name: c for c in pool.map(lambda c: play(c, tmp), cases)}
        for case in done.values():  # the figures, shown with -s
            for name, run in case.runs.items():
                print(f"{case.name:20} {name:9} exit {run.returncode}  {run.seconds:5.1f} s")
        yield Played(done, blog, toot)
    finally:
        silent.close()
        blog.stop()
        toot.stop()


def test_every_command_ended_within_the_hang_guard(played: Played) -> None:
    times = {
        f"{case.name} {name}": round(run.seconds, 1)
        for case in played.homes.values()
        for name, run in case.runs.items()
    }
    assert all(len(c.runs) == len(c.commands) for c in played.homes.values())
    assert {k: v for k, v in times.items() if v >= HANG_GUARD} == {}, times


def test_a_closed_port_is_named_and_the_publications_retry_later(
    played: Played,
) -> None:
    case = played.homes["closed port"]
    port = case.config.split("http://127.0.0.1:")[1].split('"')[0]
    assert case.runs["accounts"].returncode == 1
    for name in PLATFORMS:
        assert f"{name} {name} FAILED" in case.account(name)
        assert f"cannot reach 127.0.0.1:{port}" in case.account(name)
        row = case.row(name)
        assert row["state"] == "scheduled" and row["attempts"] == 1, row  # transient
        assert f"cannot reach 127.0.0.1:{port}" in row["last_error"]


@pytest.mark.parametrize(("name", "status"), [("web page", 200), ("404 at the root", 404)])
def test_a_web_page_where_the_api_should_be_fails_with_the_setting_to_fix(
    played: Played, name: str, status: int
) -> None:
    case = played.homes[name]
    assert case.runs["accounts"].returncode == 1
    assert "Traceback" not in case.runs["accounts"].stderr + case.runs["run"].stderr
    for platform in PLATFORMS:
        said = f"answered with a web page (HTTP {status}), not the {platform} API"
        assert said in case.account(platform)
        row = case.row(platform)
        assert row["state"] == "failed" and row["attempts"] == 1, row  # permanent
        assert f"{platform} ({platform}): 127.0.0.1:" in row["last_error"]
        assert said in row["last_error"]
        assert f"check targets.{platform}.base_url" in row["last_error"]


def test_bad_schemes_and_a_password_in_the_url_stop_the_program_at_start(
    played: Played,
) -> None:
    case = played.homes["bad URLs"]
    for run in case.runs.values():
        assert run.returncode == 2, run.stderr
        assert "targets.typo.base_url: 'htps://mastodon.example' is not an http(s) URL" in (
            run.stderr
        )
        assert "targets.ftp.base_url: 'ftp://blog.example.org' is not an http(s) URL" in (
            run.stderr
        )
        assert "targets.bare.base_url: 'ghost.example.org' is not an http(s) URL" in run.stderr
        assert (
            "targets.userinfo.base_url: 'https://***@dev.example.org' holds a user name or "
            "password" in run.stderr
        )
    assert case.home is not None
    assert (case.home / "inbox" / "essay.md").exists()  # kept, untouched, for after the fix
    assert not any((case.home / "processed").iterdir())


def test_an_unexpected_json_answer_fails_that_account_and_the_others_are_still_checked(
    played: Played,
) -> None:
    case = played.homes["other JSON service"]
    assert case.runs["accounts"].returncode == 1
    assert "unexpected answer (the answer lacks the field 'acct')" in case.account("toot")
    assert "KeyError" not in case.account("toot")  # no Python names in messages
    assert "check that targets.toot.base_url is the address of the mastodon API" in (
        case.account("toot")
    )
    assert "site static_site ok" in case.account("site")


def test_a_host_that_accepts_and_never_answers_ends_at_the_request_timeout(
    played: Played,
) -> None:
    """30 s, the connectors' read timeout: the check is transient, a GET is retried later,
    a create that got no answer is in doubt (looked up before anything is sent again)."""
    checked = played.homes["silent, checked"]
    assert checked.runs["accounts"].returncode == 1
    assert "did not answer in time" in checked.account("toot")
    assert 25 < checked.runs["accounts"].seconds < HANG_GUARD
    blog = played.homes["silent blog"].row("blog")
    assert blog["state"] == "scheduled" and "did not answer in time" in blog["last_error"]
    channel = played.homes["silent channel"].row("channel")
    assert channel["state"] == "scheduled" and "no answer in time" in channel["last_error"]


def test_an_image_that_drips_holds_the_blog_post_only_for_wordpress_image_limit(
    played: Played,
) -> None:
    """WordPress gives an image 10 s in all, then publishes without it and says why."""
    case = played.homes["dripping image, blog"]
    assert case.row("blog")["state"] == "published"
    assert [p["title"] for p in played.blog.posts] == ["Walking the Canals"]
    assert "featured_media" not in played.blog.posts[0] and played.blog.uploads == []
    run = case.runs["run"]
    assert "publishing without a featured image" in run.stderr
    assert "took longer than 10 s to download" in run.stderr
    assert IMAGE_SECONDS <= run.seconds < HANG_GUARD


def test_an_image_that_drips_sends_the_toot_back_to_retry_after_the_download_deadline(
    played: Played,
) -> None:
    """Mastodon was asked to attach the picture: after the downloader's 20 s it retries
    later (a slow host may recover) and posts nothing meanwhile."""
    case = played.homes["dripping image, toot"]
    row = case.row("toot")
    assert row["state"] == "scheduled" and row["attempts"] == 1
    assert "took longer than 20 s to download" in row["last_error"]
    assert played.toot.published() == []
    assert fetch.TOTAL_SECONDS <= case.runs["run"].seconds < HANG_GUARD


def test_no_secret_leaks_from_any_misconfigured_case(played: Played) -> None:
    homes = played.homes.values()
    printed = [r.stdout + r.stderr for c in homes for r in c.runs.values()]
    written = "\n".join(everything_written(c.home) for c in homes if c.home is not None)
    assert "cannot reach" in written + "".join(printed)  # it read something
    assert secret_hits(written + "\n".join(printed), SECRETS) == []
