"""The Threads connector against the Threads emulator: two-step publishing, quota, errors."""

from __future__ import annotations

import itertools
import json
import socket
from collections.abc import Iterator
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
from connectors.threads import QUOTA_WAIT, Threads
from pipeline.document import Essay, Heading, Paragraph, Quote, Run
from tests.emulators.threads import ThreadsEmulator, threads_length
from tests.golden_helpers import check_golden

GOLDEN = Path(__file__).parent / "golden" / "connectors" / "threads"
TOKEN = "threads-test-token-0123456789abcdef"
LINK = "https://blog.example.org/2024/walking-the-long-way-home"
PUBLISH = r"^/v1\.0/\d+/threads_publish$"
CONTAINER = r"^/v1\.0/\d+/threads$"


def sample_essay(marker: str = "") -> Essay:
    return Essay(
        title=f"Walking the Long Way Home {marker}".strip(),
        subtitle="Why the slow route taught me more than any map. 🐦",
        tags=["walking", "slow living"],
        blocks=[Paragraph(content=[Run(text="Every evening I take the long way home.")])],
    )


def long_essay() -> Essay:
    sentences = [
        f"Sentence {i} of the essay wanders on about canals 🌉, bridges and herons 🐦 at dusk."
        for i in range(1, 31)
    ]
    return Essay(
        title="Herons, Bridges and the Long Way",
        tags=["walking"],
        blocks=[
            Paragraph(content=[Run(text=" ".join(sentences[:12]))]),
            Heading(level=2, content=[Run(text="What the herons know")]),
            Quote(paragraphs=[[Run(text="The way home is the way. 👨‍👩‍👧")]]),
            Paragraph(content=[Run(text=" ".join(sentences[12:]))]),
        ],
    )


@pytest.fixture
def server() -> Iterator[ThreadsEmulator]:
    emulator = ThreadsEmulator()
    emulator.add_user(TOKEN, "walker")
    with emulator:
        yield emulator


def connector_for(server: ThreadsEmulator, token: str = TOKEN, **options: Any) -> Threads:
    account = Account(
        name="threads-main",
        platform="threads",
        options=options,
        credentials={"access_token": SecretStr(token)},
        base_url=server.base_url,
    )
    return Threads(account)


def context(**options: Any) -> RenderContext:
    return RenderContext(target="threads-main", options=options, link=LINK)


def bodies(essay: Essay, ctx: RenderContext) -> str:
    draft = Threads.render(essay, ctx)
    return json.dumps([p.request for p in draft.posts], indent=2, ensure_ascii=False)


# ---------------------------------------------------------------- render


def test_announcement_request_body_matches_golden() -> None:
    check_golden(bodies(sample_essay(), context()), GOLDEN / "announcement.json")


def test_thread_request_bodies_match_golden() -> None:
    check_golden(bodies(long_essay(), context(mode="thread")), GOLDEN / "thread.json")


def test_every_thread_post_fits_500_with_emoji_counted_as_bytes() -> None:
    draft = Threads.render(long_essay(), context(mode="thread"))
    assert len(draft.posts) > 2
    for post in draft.posts:
        assert threads_length(post.request["text"]) <= 500
        assert post.length == threads_length(post.request["text"]) and post.limit == 500
    # the emoji matter: counted as characters, some posts would hold more
    assert any(len(p.request["text"]) < threads_length(p.request["text"]) for p in draft.posts)


def test_only_the_first_post_carries_the_link_card() -> None:
    draft = Threads.render(long_essay(), context(mode="thread"))
    assert draft.posts[0].request["link_attachment"] == LINK
    assert all("link_attachment" not in p.request for p in draft.posts[1:])


# ---------------------------------------------------------------- publish


def test_published_text_equals_the_rendered_text_byte_for_byte(server: ThreadsEmulator) -> None:
    draft = Threads.render(sample_essay(), context())
    remote = connector_for(server).publish(draft, Threads.new_key())
    [post] = server.published()
    assert post["text"] == draft.posts[0].request["text"]
    assert post["link_attachment"] == LINK
    assert remote.id == post["id"] and remote.url == post["permalink"]
    assert remote.url.startswith("https://www.threads.net/@walker/post/")


def test_a_thread_is_chained_reply_by_reply(server: ThreadsEmulator) -> None:
    draft = Threads.render(long_essay(), context(mode="thread"))
    root = connector_for(server).publish(draft, Threads.new_key())
    posts = server.published()
    assert [p["text"] for p in posts] == [p.request["text"] for p in draft.posts]
    assert posts[0]["id"] == root.id and posts[0]["reply_to_id"] is None
    for previous, reply in itertools.pairwise(posts):
        assert reply["reply_to_id"] == previous["id"]


def test_the_token_travels_as_a_parameter_and_user_id_option_skips_me(
    server: ThreadsEmulator,
) -> None:
    user_id = server.users[TOKEN]["id"]
    connector_for(server, user_id=user_id).publish(Threads.render(sample_essay(), context()), "k")
    assert all(r.path != "/v1.0/me" for r in server.requests_seen)
    container = next(r for r in server.requests_seen if r.method == "POST")
    assert container.form()["access_token"] == [TOKEN]
    assert container.header("Authorization") is None


# ---------------------------------------------------------------- exactly once


def test_a_lost_publish_answer_then_retry_leaves_exactly_one_post(
    server: ThreadsEmulator,
) -> None:
    connector = connector_for(server)
    draft = Threads.render(sample_essay(), context())
    journal = MemoryJournal()
    server.inject("drop", method="POST", path=PUBLISH)
    with pytest.raises(InDoubt):
        connector.publish(draft, "key", journal)
    remote = connector.publish(draft, "key", journal)
    [post] = server.published()
    assert remote.id == post["id"]
    assert len(server.containers) == 1  # found, not made again


def test_a_lost_container_answer_then_retry_leaves_exactly_one_post(
    server: ThreadsEmulator,
) -> None:
    connector = connector_for(server)
    draft = Threads.render(sample_essay(), context())
    journal = MemoryJournal()
    server.inject("drop", method="POST", path=CONTAINER)
    with pytest.raises(InDoubt):
        connector.publish(draft, "key", journal)
    connector.publish(draft, "key", journal)
    assert len(server.published()) == 1
    orphans = [c for c in server.containers.values() if not c["published"]]
    assert len(orphans) == 1  # never published, it expires unseen


class LoseAnswerAfterRoot(MemoryJournal):
    """A journal that makes the server lose the answer to the first reply's publish."""

    def __init__(self, server: ThreadsEmulator) -> None:
        super().__init__()
        self.server = server

    def done(self, index: int, remote: Remote) -> None:
        super().done(index, remote)
        if index == 0:
            self.server.inject("drop", method="POST", path=PUBLISH)


def test_a_lost_reply_answer_resumes_the_thread_without_doubling(
    server: ThreadsEmulator,
) -> None:
    connector = connector_for(server)
    draft = Threads.render(long_essay(), context(mode="thread"))
    journal = LoseAnswerAfterRoot(server)
    with pytest.raises(InDoubt):
        connector.publish(draft, "thread-key", journal)
    assert len(server.published()) == 2
    connector.publish(draft, "thread-key", journal)
    posts = server.published()
    assert [p["text"] for p in posts] == [p.request["text"] for p in draft.posts]
    for previous, reply in itertools.pairwise(posts):
        assert reply["reply_to_id"] == previous["id"]


def test_a_container_publishes_once(server: ThreadsEmulator) -> None:
    connector = connector_for(server)
    draft = Threads.render(sample_essay(), context())
    remote = connector.create_post(draft.posts[0], "k", [], draft)
    user_id = server.users[TOKEN]["id"]
    again = connector.http.post(
        f"{server.base_url}/v1.0/{user_id}/threads_publish",
        params={"creation_id": remote.extra["container"]},
        data={"access_token": TOKEN},
    )
    assert again.status_code == 400
    assert again.json()["error"]["message"] == "The media has already been published"
    assert len(server.published()) == 1


def test_a_failed_permalink_read_does_not_hide_a_live_post(server: ThreadsEmulator) -> None:
    server.inject("status", method="GET", path=r"^/v1\.0/\d+$", status=500, body={})
    draft = Threads.render(sample_essay(), context())
    remote = connector_for(server).publish(draft, "k")
    assert remote.url is None and remote.id == server.published()[0]["id"]


# ---------------------------------------------------------------- quota


def test_a_used_up_quota_stops_before_any_container_is_made() -> None:
    with ThreadsEmulator(post_quota=2) as server:
        server.add_user(TOKEN)
        connector = connector_for(server)
        for marker in ("a", "b"):
            connector.publish(Threads.render(sample_essay(marker), context()), marker)
        with pytest.raises(RateLimited) as caught:
            connector.publish(Threads.render(sample_essay("c"), context()), "c")
        assert caught.value.retry_after == QUOTA_WAIT
        assert len(server.containers) == 2 and len(server.published()) == 2
        assert server.refused_publishes == 0  # the platform's limit was never hit


def test_replies_have_their_own_quota() -> None:
    with ThreadsEmulator(reply_quota=2) as server:
        server.add_user(TOKEN)
        connector = connector_for(server)
        draft = Threads.render(long_essay(), context(mode="thread"))
        assert len(draft.posts) > 3
        journal = MemoryJournal()
        with pytest.raises(RateLimited, match="2 of 2 replies"):
            connector.publish(draft, "k", journal)
        assert len(server.published()) == 3 and server.refused_publishes == 0


# ---------------------------------------------------------------- errors


def graph(code: int, message: str, status: int = 400) -> dict[str, Any]:
    body = {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "Atrace",
        }
    }
    return {"status": status, "body": body}


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_graph_rate_codes_are_rate_limited(server: ThreadsEmulator, code: int) -> None:
    server.inject("status", method="POST", path=CONTAINER, **graph(code, "Too many calls"))
    with pytest.raises(RateLimited) as caught:
        connector_for(server).publish(Threads.render(sample_essay(), context()), "k")
    assert caught.value.platform_message == "Too many calls"
    assert caught.value.retry_after == QUOTA_WAIT


def test_a_bad_token_is_auth_expired_and_never_shown(server: ThreadsEmulator) -> None:
    token = "threads-revoked-token-0123456789"
    with pytest.raises(AuthExpired) as caught:
        connector_for(server, token=token).verify()
    assert "Cannot parse access token" in (caught.value.platform_message or "")
    server.inject("status", method="GET", **graph(190, f"Token {token} has expired"))
    with pytest.raises(AuthExpired) as caught:
        connector_for(server, token=token).verify()
    assert token not in str(caught.value) and "***" in str(caught.value)


def test_a_token_in_the_url_stays_out_of_network_errors() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    account = Account(
        name="gone",
        platform="threads",
        options={"user_id": "1"},
        credentials={"access_token": SecretStr(TOKEN)},
        base_url=f"http://127.0.0.1:{closed}",
    )
    with pytest.raises(Transient) as caught:
        Threads(account).verify()
    assert TOKEN not in str(caught.value)


def test_text_over_500_is_rejected_with_the_platforms_words(server: ThreadsEmulator) -> None:
    connector = connector_for(server)
    draft = Threads.render(sample_essay(), context())
    too_long = Post(request={"media_type": "TEXT", "text": "🐦" * 126})  # 504 by bytes
    with pytest.raises(Rejected) as caught:
        connector.create_post(too_long, "k", [], draft)
    assert caught.value.platform_message == "Param text must be at most 500 characters long."
    assert server.published() == []


def test_a_reply_to_a_missing_post_is_rejected(server: ThreadsEmulator) -> None:
    connector = connector_for(server)
    draft = Threads.render(sample_essay(), context())
    with pytest.raises(Rejected, match="does not exist"):
        connector.create_post(draft.posts[0], "k", [Remote(id="123456")], draft)


def test_server_errors_are_transient(server: ThreadsEmulator) -> None:
    server.inject("status", method="POST", path=CONTAINER, status=503, body="Service Unavailable")
    with pytest.raises(Transient):
        connector_for(server).publish(Threads.render(sample_essay(), context()), "k")
    assert server.published() == []


def test_delete_removes_the_post_and_edit_is_refused(server: ThreadsEmulator) -> None:
    connector = connector_for(server)
    draft = Threads.render(sample_essay(), context())
    remote = connector.publish(draft, "k")
    with pytest.raises(Rejected, match="cannot be edited"):
        connector.update(remote, draft)
    connector.delete(remote)
    assert server.published() == []
