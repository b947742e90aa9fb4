"""The Mastodon connector against the Mastodon emulator: bodies, limits, threads, media, errors."""

from __future__ import annotations

import itertools
import json
import socket
import struct
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.base import (
    Account,
    AuthExpired,
    InDoubt,
    MemoryJournal,
    Post,
    RateLimited,
    Rejected,
    Remote,
    RenderContext,
    Transient,
)
from connectors.mastodon import Mastodon
from pipeline.document import Essay, Heading, Image, ListBlock, ListItem, Paragraph, Quote, Run
from tests.emulators.base import Emulator, Request, Response, route
from tests.emulators.mastodon import MastodonEmulator, countable_length
from tests.golden_helpers import check_golden

GOLDEN = Path(__file__).parent / "golden" / "connectors" / "mastodon"
TOKEN = "mastodon-test-token-0123456789abcdef"
LINK = "https://blog.example.org/2024/walking-the-long-way-home"


def sample_essay(marker: str = "") -> Essay:
    return Essay(
        title=f"Walking the Long Way Home {marker}".strip(),
        subtitle="Why the slow route taught me more than any map.",
        tags=["walking", "slow living", "essays"],
        language="en",
        blocks=[
            Paragraph(
                content=[
                    Run(text="Every evening I take the long way home, past the "),
                    Run(text="canal", marks=("em",)),
                    Run(text=" and the old "),
                    Run(text="brick works", href="https://example.org/bricks_(1890)"),
                    Run(text="."),
                ]
            ),
            Image(src="https://img.example.org/canal.png", alt="The canal at dusk"),
            Paragraph(content=[Run(text="It adds twenty minutes. I have stopped counting them.")]),
        ],
    )


def long_essay() -> Essay:
    sentences = [
        f"Sentence {i} of the essay wanders on about canals, bridges and herons at dusk."
        for i in range(1, 31)
    ]
    blocks: list[Any] = [
        Paragraph(content=[Run(text=" ".join(sentences[:10]))]),
        Heading(level=2, content=[Run(text="What the herons know")]),
        Paragraph(
            content=[
                Run(
                    text=" ".join(sentences[10:20]) + " See https://example.org/herons "
                    "and thank @ana@social.example for the photos."
                )
            ]
        ),
        ListBlock(
            items=[
                ListItem(content=[Run(text="Walk slowly.")]),
                ListItem(content=[Run(text="Look up.")]),
            ]
        ),
        Quote(paragraphs=[[Run(text="The way home is the way.")]]),
        Paragraph(content=[Run(text=" ".join(sentences[20:]))]),
    ]
    return Essay(title="Herons, Bridges and the Long Way", tags=["walking"], blocks=blocks)


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


class ImageHost(Emulator):
    """Where the essay's images live."""

    @route("GET", r"/canal\.png")
    def png(self, req: Request) -> Response:
        return Response(200, tiny_png(), content_type="image/png")


class FastMastodon(Mastodon):
    media_poll_interval = 0.01
    media_poll_attempts = 5


@pytest.fixture
def server() -> Iterator[MastodonEmulator]:
    emulator = MastodonEmulator()
    emulator.add_account(TOKEN, "walker")
    with emulator:
        yield emulator


def connector_for(
    server: MastodonEmulator, token: str = TOKEN, cls: type[Mastodon] = Mastodon, **options: Any
) -> Mastodon:
    account = Account(
        name="masto",
        platform="mastodon",
        options=options,
        credentials={"access_token": SecretStr(token)},
        base_url=server.base_url,
    )
    return cls(account)


def context(limits: dict[str, int] | None = None, **options: Any) -> RenderContext:
    return RenderContext(target="masto", options=options, link=LINK, limits=limits or {})


def bodies(essay: Essay, ctx: RenderContext) -> str:
    draft = Mastodon.render(essay, ctx)
    return json.dumps([p.request for p in draft.posts], indent=2, ensure_ascii=False)


# ---------------------------------------------------------------- render


def test_announcement_request_body_matches_golden() -> None:
    check_golden(bodies(sample_essay(), context()), GOLDEN / "announcement.json")


def test_thread_request_bodies_match_golden() -> None:
    check_golden(bodies(long_essay(), context(mode="thread")), GOLDEN / "thread.json")


def test_every_thread_post_fits_as_the_instance_counts() -> None:
    for limits in ({}, {"max_characters": 1000, "characters_reserved_per_url": 23}):
        draft = Mastodon.render(long_essay(), context(limits, mode="thread"))
        limit = limits.get("max_characters", 500)
        assert len(draft.posts) > 1
        for post in draft.posts:
            assert countable_length(post.request["status"]) <= limit
            assert post.limit == limit


def test_a_larger_instance_limit_makes_a_shorter_thread() -> None:
    default = Mastodon.render(long_essay(), context(mode="thread"))
    roomy = Mastodon.render(long_essay(), context({"max_characters": 1000}, mode="thread"))
    assert len(roomy.posts) < len(default.posts)
    assert any(countable_length(p.request["status"]) > 500 for p in roomy.posts)


def test_spoiler_text_counts_towards_the_limit() -> None:
    spoiler = "Long read about walking and the evening light"
    draft = Mastodon.render(long_essay(), context(mode="thread", spoiler_text=spoiler))
    for post in draft.posts:
        assert post.request["spoiler_text"] == spoiler
        assert countable_length(post.request["status"], spoiler) <= 500


def test_language_comes_from_the_essay_unless_the_option_overrides() -> None:
    assert Mastodon.render(sample_essay(), context()).posts[0].request["language"] == "en"
    draft = Mastodon.render(sample_essay(), context(language="de"))
    assert draft.posts[0].request["language"] == "de"


def test_replies_take_the_root_visibility_unless_reply_visibility_is_set() -> None:
    draft = Mastodon.render(long_essay(), context(mode="thread", visibility="unlisted"))
    assert {p.request["visibility"] for p in draft.posts} == {"unlisted"}
    draft = Mastodon.render(long_essay(), context(mode="thread", reply_visibility="unlisted"))
    assert draft.posts[0].request["visibility"] == "public"
    assert {p.request["visibility"] for p in draft.posts[1:]} == {"unlisted"}


def test_an_unknown_visibility_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(Rejected, match="visibility"):
        Mastodon.render(sample_essay(), context(visibility="everyone"))


def test_the_image_is_attached_only_when_asked() -> None:
    assert "image" not in Mastodon.render(sample_essay(), context()).extras
    draft = Mastodon.render(sample_essay(), context(attach_image=True))
    assert draft.extras["image"] == {
        "src": "https://img.example.org/canal.png",
        "alt": "The canal at dusk",
    }


# ---------------------------------------------------------------- publish


def test_published_text_equals_the_rendered_text_byte_for_byte(server: MastodonEmulator) -> None:
    draft = Mastodon.render(sample_essay(), context())
    remote = connector_for(server).publish(draft, Mastodon.new_key())
    [status] = server.published()
    assert status["text"] == draft.posts[0].request["status"]
    assert status["visibility"] == "public" and status["language"] == "en"
    assert remote.url == f"https://{server.host}/@walker/{remote.id}"


def test_a_thread_is_chained_reply_by_reply(server: MastodonEmulator) -> None:
    draft = Mastodon.render(long_essay(), context(mode="thread", reply_visibility="unlisted"))
    root = connector_for(server).publish(draft, Mastodon.new_key())
    statuses = server.published()
    assert [s["text"] for s in statuses] == [p.request["status"] for p in draft.posts]
    assert statuses[0]["id"] == root.id and statuses[0]["in_reply_to_id"] is None
    for previous, reply in itertools.pairwise(statuses):
        assert reply["in_reply_to_id"] == previous["id"]
        assert reply["visibility"] == "unlisted"


def test_the_same_idempotency_key_twice_creates_one_status(server: MastodonEmulator) -> None:
    connector = connector_for(server)
    post = Mastodon.render(sample_essay(), context()).posts[0]
    draft = Mastodon.render(sample_essay(), context())
    first = connector.create_post(post, "key-1", [], draft)
    again = connector.create_post(post, "key-1", [], draft)
    assert again.id == first.id
    assert len(server.published()) == 1
    keys = [r.header("Idempotency-Key") for r in server.requests_seen if r.method == "POST"]
    assert keys == ["key-1", "key-1"]


def test_an_idempotency_key_older_than_an_hour_no_longer_replays(server: MastodonEmulator) -> None:
    connector = connector_for(server)
    draft = Mastodon.render(sample_essay(), context())
    first = connector.create_post(draft.posts[0], "key-2", [], draft)
    server.clock = lambda: time.time() + 3601
    later = connector.create_post(draft.posts[0], "key-2", [], draft)
    assert later.id != first.id


def test_find_recognises_only_the_status_in_the_same_place(server: MastodonEmulator) -> None:
    connector = connector_for(server)
    draft = Mastodon.render(sample_essay("find"), context())
    post = draft.posts[0]
    parent = connector.create_post(Post(request={"status": "An earlier status"}), "k0", [], draft)
    connector.create_post(post, "k1", [parent], draft)  # same words, but as a reply
    assert connector.find_post(post, "k2", [], draft) is None
    root = connector.create_post(post, "k3", [], draft)
    found = connector.find_post(post, "k4", [], draft)
    assert found is not None and found.id == root.id


class LoseAnswerAfterRoot(MemoryJournal):
    """A journal that makes the server lose the answer to the first reply."""

    def __init__(self, server: MastodonEmulator) -> None:
        super().__init__()
        self.server = server

    def done(self, index: int, remote: Remote) -> None:
        super().done(index, remote)
        if index == 0:
            self.server.inject("drop", method="POST", path=r"^/api/v1/statuses$")


def test_a_lost_reply_answer_resumes_the_thread_without_doubling(server: MastodonEmulator) -> None:
    connector = connector_for(server)
    draft = Mastodon.render(long_essay(), context(mode="thread"))
    journal = LoseAnswerAfterRoot(server)
    with pytest.raises(InDoubt):
        connector.publish(draft, "thread-key", journal)
    assert len(server.published()) == 2  # the root and the reply whose answer was lost
    connector.publish(draft, "thread-key", journal)
    texts = [s["text"] for s in server.published()]
    assert texts == [p.request["status"] for p in draft.posts]


# ---------------------------------------------------------------- limits


def test_fetch_limits_reads_the_instance_and_falls_back_to_defaults() -> None:
    with MastodonEmulator(max_characters=1000, characters_reserved_per_url=30) as roomy:
        limits = connector_for(roomy).fetch_limits()
    assert limits == {"max_characters": 1000, "characters_reserved_per_url": 30}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    account = Account(name="gone", platform="mastodon", base_url=f"http://127.0.0.1:{closed}")
    assert Mastodon(account).fetch_limits() == {
        "max_characters": 500,
        "characters_reserved_per_url": 23,
    }


def test_a_thread_rendered_with_fetched_limits_is_accepted_by_that_instance() -> None:
    with MastodonEmulator(max_characters=1000) as roomy:
        roomy.add_account(TOKEN)
        connector = connector_for(roomy)
        draft = Mastodon.render(long_essay(), context(connector.fetch_limits(), mode="thread"))
        connector.publish(draft, Mastodon.new_key())
        assert len(roomy.published()) == len(draft.posts)
        assert max(countable_length(s["text"]) for s in roomy.published()) > 500


def test_text_over_the_limit_is_rejected_with_mastodons_words(server: MastodonEmulator) -> None:
    connector = connector_for(server)
    draft = Mastodon.render(sample_essay(), context())
    too_long = Post(request={"status": "word " * 101})
    with pytest.raises(Rejected) as caught:
        connector.create_post(too_long, "k", [], draft)
    assert (
        caught.value.platform_message == "Validation failed: Text character limit of 500 exceeded"
    )
    assert server.published() == []


def test_rate_limit_headers_give_the_wait_and_the_limit_holds() -> None:
    with MastodonEmulator(rate_limit=4, rate_window=2.0) as server:
        server.add_account(TOKEN)
        connector = connector_for(server)
        time.sleep(2.0 - time.time() % 2.0 + 0.01)  # start at the top of a window
        with pytest.raises(RateLimited) as caught:
            for _ in range(10):
                connector.verify()
        assert len(server.requests_seen) == 5  # four answered, the fifth refused: no blind retry
        assert 0 < caught.value.retry_after <= 2.0
        assert caught.value.platform_message == "Too many requests"
        assert max(server.handled.values()) <= 4
        time.sleep(caught.value.retry_after + 0.05)
        assert connector.verify() == "@writer"


# ---------------------------------------------------------------- media


@pytest.fixture
def images() -> Iterator[ImageHost]:
    with ImageHost() as host:
        yield host


def image_essay(images: ImageHost) -> Essay:
    essay = sample_essay()
    essay.blocks[1] = Image(src=f"{images.base_url}/canal.png", alt="The canal at dusk")
    return essay


def test_an_image_is_uploaded_polled_until_processed_then_attached(images: ImageHost) -> None:
    with MastodonEmulator(media_processing_polls=2) as server:
        server.add_account(TOKEN)
        draft = Mastodon.render(image_essay(images), context(attach_image=True))
        connector_for(server, cls=FastMastodon).publish(draft, Mastodon.new_key())
        [status] = server.published()
        [media] = status["media_attachments"]
        assert media["description"] == "The canal at dusk" and media["url"]
        polls = [r for r in server.requests_seen if r.path.startswith("/api/v1/media/")]
        assert len(polls) == 3  # 206, 206, then 200
        assert status["text"] == draft.posts[0].request["status"]


def test_media_that_never_finishes_is_transient_and_posts_nothing(images: ImageHost) -> None:
    with MastodonEmulator(media_processing_polls=100) as server:
        server.add_account(TOKEN)
        draft = Mastodon.render(image_essay(images), context(attach_image=True))
        with pytest.raises(Transient, match="still being processed"):
            connector_for(server, cls=FastMastodon).publish(draft, Mastodon.new_key())
        assert server.published() == []


def test_attaching_unprocessed_media_is_rejected(server: MastodonEmulator) -> None:
    connector = connector_for(server)
    upload = connector.http.post(
        f"{server.base_url}/api/v2/media",
        headers={"Authorization": f"Bearer {TOKEN}"},
        files={"file": ("a.png", tiny_png(), "image/png")},
    )
    assert upload.status_code == 202 and upload.json()["url"] is None
    draft = Mastodon.render(sample_essay(), context())
    post = Post(request={"status": "with media", "media_ids": [upload.json()["id"]]})
    with pytest.raises(Rejected) as caught:
        connector.create_post(post, "k", [], draft)
    assert "not finished processing" in (caught.value.platform_message or "")


def test_an_image_that_is_too_large_is_refused_without_posting(server: MastodonEmulator) -> None:
    class Huge(ImageHost):
        @route("GET", r"/canal\.png")
        def png(self, req: Request) -> Response:
            return Response(200, b"\0" * (9 * 1024 * 1024), content_type="image/png")

    with Huge() as host:
        draft = Mastodon.render(image_essay(host), context(attach_image=True))
        with pytest.raises(Rejected, match="larger than"):
            connector_for(server).publish(draft, Mastodon.new_key())
    assert server.published() == []


# ---------------------------------------------------------------- edit, verify, errors


def test_update_edits_the_status_in_place(server: MastodonEmulator) -> None:
    connector = connector_for(server)
    remote = connector.publish(Mastodon.render(sample_essay(), context()), Mastodon.new_key())
    edited = Mastodon.render(sample_essay("(revised)"), context())
    updated = connector.update(remote, edited)
    [status] = server.published()
    assert updated.id == remote.id == status["id"]
    assert status["text"] == edited.posts[0].request["status"]
    assert status["edited_at"] is not None
    [put] = [r for r in server.requests_seen if r.method == "PUT"]
    assert "visibility" not in put.json()  # Mastodon cannot change it on edit


def test_verify_names_the_account(server: MastodonEmulator) -> None:
    assert connector_for(server).verify() == "@walker"


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (401, {"error": "The access token is invalid"}, AuthExpired, "The access token is invalid"),
        (422, {"error": "Validation failed: Text can't be blank"}, Rejected, "can't be blank"),
        (404, {"error": "Record not found"}, Rejected, "Record not found"),
        (503, {"error": "Service Unavailable"}, Transient, "Service Unavailable"),
    ],
)
def test_error_answers_map_to_the_family_with_mastodons_words(
    server: MastodonEmulator, status: int, body: dict[str, str], error: type[Exception], words: str
) -> None:
    server.inject("status", method="POST", path=r"^/api/v1/statuses$", status=status, body=body)
    draft = Mastodon.render(sample_essay(), context())
    with pytest.raises(error) as caught:
        connector_for(server).publish(draft, Mastodon.new_key())
    assert words in str(caught.value)
    assert server.published() == []


def test_a_rate_limit_answer_waits_until_the_reset_time(server: MastodonEmulator) -> None:
    reset = datetime.now(UTC) + timedelta(seconds=42)
    server.inject(
        "status",
        method="POST",
        status=429,
        body={"error": "Too many requests"},
        headers={"X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z")},
    )
    draft = Mastodon.render(sample_essay(), context())
    with pytest.raises(RateLimited) as caught:
        connector_for(server).publish(draft, Mastodon.new_key())
    assert 40 <= caught.value.retry_after <= 42


def test_a_wrong_token_is_auth_expired_and_never_shown(server: MastodonEmulator) -> None:
    secret = "not-the-right-token-abcdef123456"
    with pytest.raises(AuthExpired) as caught:
        connector_for(server, token=secret).verify()
    assert secret not in str(caught.value)
    assert caught.value.platform_message == "The access token is invalid"


def test_a_reply_to_a_missing_status_is_rejected(server: MastodonEmulator) -> None:
    connector = connector_for(server)
    draft = Mastodon.render(sample_essay(), context())
    with pytest.raises(Rejected) as caught:
        connector.create_post(draft.posts[0], "k", [Remote(id="42")], draft)
    assert "does not appear to exist" in (caught.value.platform_message or "")
