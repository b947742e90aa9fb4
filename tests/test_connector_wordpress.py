"""The WordPress connector: its request bodies, and what a real WordPress keeps of them.

Render and image-download tests are pure or use a loopback file server. Tests marked
`wordpress` publish to the session's real WordPress (started by `tests/servers/wordpress.py`),
some through a fault-injecting proxy to get the answers a host or a network can give.
"""

from __future__ import annotations

import json
import struct
import threading
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from bs4 import BeautifulSoup
from pydantic import SecretStr

from connectors.base import (
    Account,
    AuthExpired,
    Kind,
    RateLimited,
    Rejected,
    Remote,
    RenderContext,
    Transient,
)
from connectors.wordpress import IMAGE_MAX_BYTES, ImageUnavailable, WordPress, fetch_image
from pipeline.document import (
    Essay,
    Heading,
    Image,
    ListBlock,
    ListItem,
    Paragraph,
    RelatedLink,
    Run,
)
from pipeline.readers import read_file
from tests.emulators.proxy import ReverseProxy
from tests.golden_helpers import check_golden
from tests.servers import wordpress as wordpress_servers
from tests.servers.wordpress import WordPressServer

HERE = Path(__file__).parent
GOLDEN = HERE / "golden" / "connectors" / "wordpress"
MEDIUM_COPY = HERE / "golden" / "readers" / "medium-copy-north-korean-troops.txt"
wordpress_server = wordpress_servers.wordpress_server  # the session's real WordPress


def unique() -> str:
    return uuid.uuid4().hex[:8]


def sample_essay(
    marker: str = "", image: str | None = None, tags: list[str] | None = None
) -> Essay:
    """An essay with the structure a reader notices when a blog mangles it."""
    blocks: list[Any] = [
        Paragraph(
            content=[
                Run(text=f"The lead paragraph {marker}, with "),
                Run(text="a link", href="https://example.org/source"),
            ]
        ),
        Heading(level=2, content=[Run(text="1. What happened")]),
        ListBlock(
            items=[
                ListItem(
                    content=[Run(text="First point:", marks=("strong",)), Run(text=" the detail.")]
                ),
                ListItem(
                    content=[
                        Run(text="Second point:", marks=("strong",)),
                        Run(text=" more detail."),
                    ]
                ),
            ]
        ),
    ]
    if image:
        blocks.append(Image(src=image, alt="A red square"))
    return Essay(
        title=f"A Test Essay {marker}".strip(),
        tags=tags if tags is not None else ["writing", "open web"],
        blocks=blocks,
        promo=[
            Paragraph(
                content=[
                    Run(text="Support me on "),
                    Run(text="Patreon", href="https://www.patreon.com/someone"),
                ]
            )
        ],
        related=[RelatedLink(title="An older essay", url="https://blog.example.org/older")],
    )


def render(essay: Essay, **options: Any) -> dict[str, Any]:
    draft = WordPress.render(essay, RenderContext(target="blog", options=options))
    assert len(draft.posts) == 1
    return draft.posts[0].request


# ---------------------------------------------------------------- render (pure)


def test_render_of_the_medium_copy_matches_the_golden_body() -> None:
    essay = read_file(MEDIUM_COPY)
    body = render(essay, categories=["World"])
    check_golden(json.dumps(body, indent=2, ensure_ascii=False), GOLDEN / "medium-copy.json")


def test_render_keeps_structure_promo_and_related_for_a_blog() -> None:
    body = render(sample_essay("m1"))
    soup = BeautifulSoup(body["content"], "html.parser")
    assert [h.get_text() for h in soup.find_all("h2")] == ["1. What happened"]
    assert [s.get_text() for s in soup.select("ul li strong")] == ["First point:", "Second point:"]
    links = {a["href"] for a in soup.find_all("a")}
    assert {
        "https://example.org/source",
        "https://www.patreon.com/someone",
        "https://blog.example.org/older",
    } <= links
    assert body["status"] == "publish"
    assert body["slug"] == "a-test-essay-m1"


def test_render_shows_term_names_not_ids() -> None:
    body = render(
        sample_essay(tags=["writing", "Open Web", "writing"]), categories="Essays, Travel"
    )
    assert body["tags"] == ["writing", "Open Web"]
    assert body["categories"] == ["Essays", "Travel"]


def test_excerpt_is_the_subtitle_or_else_the_lead() -> None:
    essay = sample_essay("x")
    assert render(essay)["excerpt"] == "The lead paragraph x, with a link"
    with_subtitle = essay.model_copy(update={"subtitle": "The short version"})
    assert render(with_subtitle)["excerpt"] == "The short version"


def test_scheduling_on_the_platform_sends_future_with_date_gmt() -> None:
    paris = timezone(timedelta(hours=2))
    at = datetime(2031, 5, 4, 11, 30, tzinfo=paris)
    essay = sample_essay().model_copy(update={"publish_at": at})
    body = render(essay, schedule_on_platform=True, now="2031-05-01T00:00:00+00:00")
    assert body["status"] == "future"
    assert body["date_gmt"] == "2031-05-04T09:30:00"


def test_a_publish_time_already_past_publishes_now() -> None:
    essay = sample_essay().model_copy(update={"publish_at": datetime(2020, 1, 1, tzinfo=UTC)})
    body = render(essay, schedule_on_platform=True, now=datetime(2024, 1, 1, tzinfo=UTC))
    assert body["status"] == "publish"
    assert "date_gmt" not in body


def test_without_the_option_the_engine_schedules_and_the_post_is_published() -> None:
    essay = sample_essay().model_copy(update={"publish_at": datetime(2031, 1, 1, tzinfo=UTC)})
    body = render(essay)
    assert body["status"] == "publish"
    assert "date_gmt" not in body


def test_the_first_web_image_becomes_the_featured_image() -> None:
    essay = sample_essay(image="https://img.example.org/a.png")
    essay.blocks.insert(0, Image(src="file:///etc/passwd", alt="local"))
    draft = WordPress.render(essay, RenderContext(target="blog"))
    assert draft.extras == {
        "image_url": "https://img.example.org/a.png",
        "image_alt": "A red square",
    }
    assert draft.kind is Kind.BLOG
    assert "image_url" not in draft.posts[0].request


# ---------------------------------------------------------------- image download


def png_bytes(width: int = 4, height: int = 4) -> bytes:
    """A real (tiny, red) PNG, so WordPress's image checks accept it."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class _Files(BaseHTTPRequestHandler):
    """Serves the test images; `/loop` redirects to itself, `/huge` never ends in time."""

    png = png_bytes()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        if self.path == "/red.png":
            self._answer(200, "image/png", self.png)
        elif self.path == "/page":
            self._answer(200, "text/html", b"<p>not an image</p>")
        elif self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/declared-huge.png":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(IMAGE_MAX_BYTES + 1))
            self.end_headers()
        elif self.path == "/streamed-huge.png":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            block = b"\0" * 65536
            try:
                for _ in range(IMAGE_MAX_BYTES // len(block) + 2):
                    self.wfile.write(block)
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            self._answer(404, "text/plain", b"missing")

    def _answer(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def files() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_image_is_downloaded_with_a_name_matching_its_type(files: str) -> None:
    name, data, content_type = fetch_image(f"{files}/red.png")
    assert (name, content_type) == ("red.png", "image/png")
    assert data == png_bytes()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing.png", "HTTP 404"),
        ("/page", "not an image"),
        ("/loop", "too many redirects"),
        ("/declared-huge.png", "larger than"),
        ("/streamed-huge.png", "larger than"),
    ],
)
def test_an_image_that_cannot_be_used_is_refused_with_the_reason(
    files: str, path: str, reason: str
) -> None:
    with pytest.raises(ImageUnavailable, match=reason):
        fetch_image(f"{files}{path}")


def test_only_http_images_are_fetched() -> None:
    with pytest.raises(ImageUnavailable, match="http"):
        fetch_image("file:///etc/passwd")


# ---------------------------------------------------------------- real WordPress


def account(
    wp: WordPressServer,
    base_url: str | None = None,
    password: str | None = None,
    name: str = "blog",
) -> Account:
    return Account(
        name=name,
        platform="wordpress",
        credentials={"app_password": SecretStr(password or wp.app_password)},
        options={"user": wp.user},
        base_url=base_url or wp.base_url,
    )


def raw_post(wp: WordPressServer, post_id: str | int) -> dict[str, Any]:
    answer = requests.get(
        f"{wp.api}/posts/{post_id}",
        auth=(wp.user, wp.app_password),
        params={"context": "edit"},
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()


def term_total(wp: WordPressServer, taxonomy: str = "tags") -> int:
    answer = requests.get(f"{wp.api}/{taxonomy}", params={"per_page": "1"}, timeout=30)
    return int(answer.headers["X-WP-Total"])


def term_names(wp: WordPressServer, ids: list[int], taxonomy: str = "tags") -> set[str]:
    answer = requests.get(
        f"{wp.api}/{taxonomy}",
        timeout=30,
        params={"include": ",".join(map(str, ids)), "per_page": "100"},
    )
    return {t["name"] for t in answer.json()}


def publish(connector: WordPress, essay: Essay, **options: Any) -> tuple[Remote, dict[str, Any]]:
    draft = connector.render(essay, RenderContext(target="blog", options=options))
    return connector.publish(draft, connector.new_key()), draft.posts[0].request


@pytest.mark.wordpress
def test_the_medium_copy_arrives_with_its_structure_intact(
    wordpress_server: WordPressServer,
) -> None:
    essay = read_file(MEDIUM_COPY)
    essay = essay.model_copy(update={"slug": f"north-korean-troops-{unique()}"})
    remote, sent = publish(WordPress(account(wordpress_server)), essay)
    stored = raw_post(wordpress_server, remote.id)
    assert stored["content"]["raw"] == sent["content"]
    soup = BeautifulSoup(stored["content"]["raw"], "html.parser")
    headings = [h.get_text() for h in soup.find_all("h2")]
    assert headings[0] == "1. A Laughable Display of Desperation"
    assert len(headings) >= 5
    assert soup.select("ul > li > strong")[0].get_text() == "Scrambling for Warm Bodies:"
    promo = soup.find("a", href="https://www.patreon.com/ChristianBaghai")
    assert promo is not None and promo.get_text() == "patreon.com/ChristianBaghai"
    assert "The Trump Peace Deal Fantasy" in soup.find_all("ul")[-1].get_text()
    assert stored["title"]["raw"] == essay.title
    assert stored["status"] == "publish"
    assert remote.url == stored["link"]
    assert requests.get(remote.url, timeout=30).status_code == 200


@pytest.mark.wordpress
def test_tags_are_created_once_and_reused(wordpress_server: WordPressServer) -> None:
    tags = [f"Tag {unique()}", f"tag-{unique()}"]
    before = term_total(wordpress_server)
    first, _ = publish(WordPress(account(wordpress_server)), sample_essay(unique(), tags=tags))
    after_first = term_total(wordpress_server)
    second, _ = publish(WordPress(account(wordpress_server)), sample_essay(unique(), tags=tags))
    assert after_first == before + 2
    assert term_total(wordpress_server) == after_first
    first_tags = raw_post(wordpress_server, first.id)["tags"]
    assert sorted(raw_post(wordpress_server, second.id)["tags"]) == sorted(first_tags)
    assert term_names(wordpress_server, first_tags) == set(tags)


@pytest.mark.wordpress
def test_a_tag_known_under_another_slug_is_reused_not_duplicated(
    wordpress_server: WordPressServer,
) -> None:
    wp = wordpress_server
    name = f"Slow Travel {unique()}"
    made = requests.post(
        f"{wp.api}/tags",
        auth=(wp.user, wp.app_password),
        timeout=30,
        json={"name": name, "slug": f"renamed-{unique()}"},
    )
    assert made.status_code == 201
    before = term_total(wp)
    remote, _ = publish(WordPress(account(wp)), sample_essay(unique(), tags=[name.lower()]))
    assert raw_post(wp, remote.id)["tags"] == [made.json()["id"]]
    assert term_total(wp) == before


@pytest.mark.wordpress
def test_categories_are_resolved_by_name(wordpress_server: WordPressServer) -> None:
    category = f"Dispatches {unique()}"
    remote, _ = publish(
        WordPress(account(wordpress_server)), sample_essay(unique(), tags=[]), categories=[category]
    )
    stored = raw_post(wordpress_server, remote.id)
    assert term_names(wordpress_server, stored["categories"], "categories") == {category}
    assert stored["tags"] == []


@pytest.mark.wordpress
def test_update_changes_the_post_in_place_and_keeps_its_url(
    wordpress_server: WordPressServer,
) -> None:
    connector = WordPress(account(wordpress_server))
    remote, _ = publish(connector, sample_essay(unique()))
    edited = sample_essay(unique(), tags=["writing"])
    edited.blocks.append(Paragraph(content=[Run(text="An added paragraph.")]))
    new_draft = connector.render(edited, RenderContext(target="blog"))
    updated = connector.update(remote, new_draft)
    stored = raw_post(wordpress_server, remote.id)
    assert updated.id == remote.id
    assert updated.url == remote.url
    assert stored["title"]["raw"] == edited.title
    assert stored["content"]["raw"] == new_draft.posts[0].request["content"]
    assert "An added paragraph." in stored["content"]["raw"]
    assert term_names(wordpress_server, stored["tags"]) == {"writing"}  # "open web" dropped


@pytest.mark.wordpress
def test_the_featured_image_is_uploaded_and_set(
    wordpress_server: WordPressServer, files: str
) -> None:
    wp = wordpress_server
    connector = WordPress(account(wp))
    remote, _ = publish(connector, sample_essay(unique(), image=f"{files}/red.png"))
    media_id = raw_post(wp, remote.id)["featured_media"]
    assert media_id and remote.extra["featured_media"] == media_id
    media = requests.get(f"{wp.api}/media/{media_id}", timeout=30).json()
    assert media["mime_type"] == "image/png"
    assert media["alt_text"] == "A red square"
    assert requests.get(media["source_url"], timeout=30).content == png_bytes()
    # An edit with the same image keeps the attachment instead of uploading it again.
    media_before = term_total(wp, "media")
    draft = connector.render(
        sample_essay(unique(), image=f"{files}/red.png"), RenderContext(target="blog")
    )
    connector.update(remote, draft)
    assert raw_post(wp, remote.id)["featured_media"] == media_id
    assert term_total(wp, "media") == media_before


@pytest.mark.wordpress
def test_an_image_that_cannot_be_fetched_does_not_hold_the_post_back(
    wordpress_server: WordPressServer, files: str
) -> None:
    marker = unique()
    remote, _ = publish(
        WordPress(account(wordpress_server)), sample_essay(marker, image=f"{files}/missing.png")
    )
    stored = raw_post(wordpress_server, remote.id)
    assert stored["status"] == "publish"
    assert stored["featured_media"] == 0
    assert marker in stored["title"]["raw"]
    assert "HTTP 404" in remote.extra["featured_image_skipped"]


@pytest.mark.wordpress
def test_a_retry_after_a_failed_create_reuses_the_uploaded_image(
    wordpress_server: WordPressServer, proxy: ReverseProxy, files: str
) -> None:
    connector = WordPress(account(wordpress_server, base_url=proxy.base_url))
    draft = connector.render(
        sample_essay(unique(), image=f"{files}/red.png"), RenderContext(target="blog")
    )
    media_before = term_total(wordpress_server, "media")
    proxy.inject("status", method="POST", path=r"/wp/v2/posts$", status=503, body=b"busy")
    key = connector.new_key()
    with pytest.raises(Transient):
        connector.publish(draft, key)
    remote = connector.publish(draft, key)
    assert term_total(wordpress_server, "media") == media_before + 1
    assert raw_post(wordpress_server, remote.id)["featured_media"] == remote.extra["featured_media"]


@pytest.mark.wordpress
def test_scheduling_on_the_platform_makes_a_future_post(wordpress_server: WordPressServer) -> None:
    when = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    essay = sample_essay(unique()).model_copy(update={"publish_at": when})
    connector = WordPress(account(wordpress_server))
    remote, sent = publish(connector, essay, schedule_on_platform=True, now=datetime.now(UTC))
    stored = raw_post(wordpress_server, remote.id)
    assert sent["status"] == "future"
    assert stored["status"] == "future"
    assert stored["date_gmt"] == when.strftime("%Y-%m-%dT%H:%M:%S")
    # A scheduled post is not public yet, but a retry in doubt still finds it.
    assert requests.get(f"{wordpress_server.api}/posts/{remote.id}", timeout=30).status_code == 401
    draft = connector.render(
        essay, RenderContext(target="blog", options={"schedule_on_platform": True})
    )
    found = connector.find("any-key", draft)
    assert found is not None and found.id == remote.id


@pytest.mark.wordpress
def test_delete_removes_the_post_for_good_and_twice_is_fine(
    wordpress_server: WordPressServer,
) -> None:
    connector = WordPress(account(wordpress_server))
    remote, _ = publish(connector, sample_essay(unique()))
    connector.delete(remote)
    answer = requests.get(
        f"{wordpress_server.api}/posts/{remote.id}",
        timeout=30,
        auth=(wordpress_server.user, wordpress_server.app_password),
        params={"context": "edit"},
    )
    assert answer.status_code == 404  # not in the trash either
    connector.delete(remote)


@pytest.mark.wordpress
def test_updating_a_deleted_post_says_what_to_do(wordpress_server: WordPressServer) -> None:
    connector = WordPress(account(wordpress_server))
    remote, _ = publish(connector, sample_essay(unique()))
    connector.delete(remote)
    with pytest.raises(Rejected) as caught:
        connector.update(remote, connector.render(sample_essay(), RenderContext(target="blog")))
    assert caught.value.platform_message == "Invalid post ID. [rest_post_invalid_id]"
    assert "publish it again" in caught.value.next_step


@pytest.mark.wordpress
def test_verify_names_the_user(wordpress_server: WordPressServer) -> None:
    assert WordPress(account(wordpress_server)).verify() == "admin"


@pytest.mark.wordpress
def test_a_wrong_application_password_is_auth_expired_with_wordpress_words(
    wordpress_server: WordPressServer,
) -> None:
    wrong = "abcd efgh ijkl mnop qrst uvwx"
    connector = WordPress(account(wordpress_server, password=wrong))
    with pytest.raises(AuthExpired) as caught:
        publish(connector, sample_essay(unique()))
    assert caught.value.status == 401
    # WordPress 6.1 behind `php -S` treats a wrong Application Password as no login at all
    # (the app-password error is collected after the REST auth check ran), so the create
    # call is what fails; a server that reports it names `incorrect_password` instead.
    assert caught.value.platform_message in {
        "Sorry, you are not allowed to create posts as this user. [rest_cannot_create]",
        "The provided password is an invalid application password. [incorrect_password]",
    }
    assert "Application Password" in caught.value.next_step
    assert wrong not in str(caught.value) and wordpress_server.app_password not in str(caught.value)


@pytest.mark.wordpress
def test_a_lookup_with_a_wrong_password_is_auth_expired_not_a_bad_parameter(
    wordpress_server: WordPressServer,
) -> None:
    connector = WordPress(account(wordpress_server, password="abcd efgh ijkl mnop qrst uvwx"))
    draft = connector.render(sample_essay(unique()), RenderContext(target="blog"))
    with pytest.raises(AuthExpired) as caught:
        connector.find(connector.new_key(), draft)
    assert caught.value.status in {400, 401}
    assert "status" in caught.value.platform_message


@pytest.mark.wordpress
def test_an_invalid_field_is_rejected_with_wordpress_reason(
    wordpress_server: WordPressServer,
) -> None:
    connector = WordPress(account(wordpress_server))
    draft = connector.render(sample_essay(unique()), RenderContext(target="blog"))
    draft.posts[0].request["status"] = "someday"
    with pytest.raises(Rejected) as caught:
        connector.publish(draft, connector.new_key())
    assert caught.value.status == 400
    assert "rest_invalid_param" in caught.value.platform_message
    assert "status is not one of publish, future" in caught.value.platform_message


# ---------------------------------------------------------------- host answers, via a proxy


@pytest.fixture
def proxy(wordpress_server: WordPressServer) -> Iterator[ReverseProxy]:
    running = ReverseProxy(wordpress_server.base_url).start()
    yield running
    running.stop()


def _wp_error(code: str, message: str, status: int) -> dict[str, Any]:
    return {"code": code, "message": message, "data": {"status": status}}


@pytest.mark.wordpress
@pytest.mark.parametrize(
    ("status", "body", "headers", "expected", "words"),
    [
        (
            401,
            _wp_error("rest_not_logged_in", "You are not currently logged in.", 401),
            {},
            AuthExpired,
            "You are not currently logged in. [rest_not_logged_in]",
        ),
        (
            403,
            _wp_error(
                "rest_cannot_create",
                "Sorry, you are not allowed to create posts as this user.",
                403,
            ),
            {},
            AuthExpired,
            "Sorry, you are not allowed to create posts as this user. [rest_cannot_create]",
        ),
        (
            429,
            _wp_error("rest_too_many_requests", "Slow down.", 429),
            {"Retry-After": "30"},
            RateLimited,
            "Slow down. [rest_too_many_requests]",
        ),
        (503, b"<html>Service Unavailable</html>", {}, Transient, "HTTP 503"),
        (
            500,
            _wp_error("db_insert_error", "Could not insert post into the database.", 500),
            {},
            Transient,
            "Could not insert post into the database. [db_insert_error]",
        ),
    ],
)
def test_host_answers_map_to_the_error_family(
    wordpress_server: WordPressServer,
    proxy: ReverseProxy,
    status: int,
    body: Any,
    headers: dict[str, str],
    expected: type[Exception],
    words: str,
) -> None:
    connector = WordPress(account(wordpress_server, base_url=proxy.base_url))
    draft = connector.render(sample_essay(unique()), RenderContext(target="blog"))
    proxy.inject(
        "status", method="POST", path=r"/wp/v2/posts$", status=status, body=body, headers=headers
    )
    with pytest.raises(expected) as caught:
        connector.publish(draft, connector.new_key())
    assert caught.value.platform_message == words
    assert caught.value.status == status
    if expected is RateLimited:
        assert caught.value.retry_after == 30
    if status == 403:
        assert "role" in caught.value.next_step
