"""The X connector against the X emulator: bodies, weighted length, threads, duplicates, errors."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pydantic import SecretStr
from requests_oauthlib import OAuth1
from twitter_text import parse_tweet

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
from connectors.x import X, comparable
from pipeline.document import Essay, Heading, Paragraph, Quote, Run
from tests.emulators.x import DUPLICATE, XEmulator
from tests.golden_helpers import check_golden

GOLDEN = Path(__file__).parent / "golden" / "connectors" / "x"
LINK = "https://blog.example.org/2024/walking-the-long-way-home"
OAUTH1 = {
    "consumer_key": "x-test-consumer-key",
    "consumer_secret": "x-test-consumer-secret-0123456789",
    "access_token": "42-x-test-access-token",
    "access_token_secret": "x-test-access-token-secret-abcdef",
}
BEARER = "x-test-user-bearer-token-0123456789"


def sample_essay(marker: str = "") -> Essay:
    return Essay(
        title=f"Walking the Long Way Home {marker}".strip(),
        subtitle="Why the slow route & its herons taught me more than any map.",
        tags=["walking", "slow living", "essays"],
        blocks=[
            Paragraph(
                content=[
                    Run(text="Every evening I take the long way home, past the canal and the "),
                    Run(text="brick works", href="https://example.org/bricks_(1890)"),
                    Run(text="."),
                ]
            ),
        ],
    )


def long_essay() -> Essay:
    sentences = [
        f"Sentence {i} of the essay wanders on about canals, bridges and herons at dusk."
        for i in range(1, 25)
    ]
    return Essay(
        title="Herons, Bridges and the Long Way",
        tags=["walking"],
        blocks=[
            Paragraph(content=[Run(text=" ".join(sentences[:8]))]),
            Heading(level=2, content=[Run(text="What the herons know")]),
            Paragraph(
                content=[
                    Run(
                        text=" ".join(sentences[8:16])
                        + " See https://example.org/herons?from=essay and example.net too."
                    )
                ]
            ),
            Quote(paragraphs=[[Run(text="帰り道こそが道である。遠回りは近道だ。")]]),
            Paragraph(content=[Run(text=" ".join(sentences[16:]) + " 🐦🌉 The end & after.")]),
        ],
    )


@pytest.fixture
def server() -> Iterator[XEmulator]:
    emulator = XEmulator()
    user = emulator.add_user("walker")
    emulator.add_oauth1(
        OAUTH1["consumer_key"],
        OAUTH1["consumer_secret"],
        OAUTH1["access_token"],
        OAUTH1["access_token_secret"],
        user,
    )
    emulator.add_bearer(BEARER, user)
    with emulator:
        yield emulator


def connector_for(
    server: XEmulator, credentials: dict[str, str] | None = None, **options: Any
) -> X:
    account = Account(
        name="x-main",
        platform="x",
        options=options,
        credentials={k: SecretStr(v) for k, v in (credentials or OAUTH1).items()},
        base_url=server.base_url,
    )
    return X(account)


def context(**options: Any) -> RenderContext:
    return RenderContext(target="x-main", options=options, link=LINK)


def bodies(essay: Essay, ctx: RenderContext) -> str:
    draft = X.render(essay, ctx)
    return json.dumps([p.request for p in draft.posts], indent=2, ensure_ascii=False)


# ---------------------------------------------------------------- render


def test_announcement_request_body_matches_golden() -> None:
    check_golden(bodies(sample_essay(), context()), GOLDEN / "announcement.json")


def test_thread_request_bodies_match_golden() -> None:
    check_golden(bodies(long_essay(), context(mode="thread")), GOLDEN / "thread.json")


def test_every_thread_post_fits_as_twitter_text_counts() -> None:
    draft = X.render(long_essay(), context(mode="thread"))
    assert len(draft.posts) > 3
    for post in draft.posts:
        weighted = parse_tweet(post.request["text"]).weightedLength
        assert weighted <= 280
        assert post.length == weighted and post.limit == 280


def test_an_announcement_shrinks_its_teaser_rather_than_exceed_280() -> None:
    essay = sample_essay()
    essay.subtitle = "遠回りの帰り道について。" * 30  # CJK weighs 2 per character on X
    text = X.render(essay, context()).posts[0].request["text"]
    assert parse_tweet(text).weightedLength <= 280
    assert text.startswith("Walking the Long Way Home") and LINK in text


def test_the_template_option_shapes_the_announcement() -> None:
    draft = X.render(sample_essay(), context(template="New: {title} {url}"))
    assert draft.posts[0].request == {"text": f"New: Walking the Long Way Home {LINK}"}


# ---------------------------------------------------------------- publish


def test_published_text_equals_the_rendered_text(server: XEmulator) -> None:
    draft = X.render(sample_essay(), context())
    remote = connector_for(server, username="walker").publish(draft, X.new_key())
    [tweet] = server.published()
    sent = draft.posts[0].request["text"]
    assert tweet["source_text"] == sent  # byte for byte what we rendered
    # X keeps its own form: the link as a 23-character t.co URL and & escaped. Compared after
    # that normalisation, it is the same text.
    assert LINK not in tweet["text"] and "https://t.co/" in tweet["text"]
    assert "&amp;" in tweet["text"]
    assert comparable(tweet["text"]) == comparable(sent)
    assert remote.url == f"https://x.com/walker/status/{tweet['id']}"


def test_a_thread_is_chained_reply_by_reply(server: XEmulator) -> None:
    draft = X.render(long_essay(), context(mode="thread"))
    root = connector_for(server).publish(draft, X.new_key())
    tweets = server.published()
    assert [t["source_text"] for t in tweets] == [p.request["text"] for p in draft.posts]
    # X's stored form (t.co links, escaped &) matches ours once URLs are normalised
    assert [comparable(t["text"]) for t in tweets] == [
        comparable(p.request["text"]) for p in draft.posts
    ]
    assert any("example.net" in p.request["text"] for p in draft.posts)
    assert tweets[0]["id"] == root.id and tweets[0]["in_reply_to"] is None
    for previous, reply in itertools.pairwise(tweets):
        assert reply["in_reply_to"] == previous["id"]
        assert reply["conversation_id"] == root.id


def test_oauth2_user_token_works_as_well_as_oauth1(server: XEmulator) -> None:
    connector = connector_for(server, {"bearer_token": BEARER})
    assert connector.verify() == "@walker"
    draft = X.render(sample_essay(), context())
    remote = connector.publish(draft, X.new_key())
    assert remote.url == f"https://x.com/walker/status/{remote.id}"  # handle learnt by verify
    assert server.requests_seen[-1].header("Authorization") == f"Bearer {BEARER}"


def test_without_a_known_handle_the_url_is_the_handle_free_form(server: XEmulator) -> None:
    remote = connector_for(server).publish(X.render(sample_essay(), context()), X.new_key())
    assert remote.url == f"https://x.com/i/status/{remote.id}"


def test_oauth1_signs_the_request_and_the_json_body_stays_unsigned(server: XEmulator) -> None:
    connector_for(server).publish(X.render(sample_essay(), context()), X.new_key())
    create = next(r for r in server.requests_seen if r.method == "POST")
    auth = create.header("Authorization") or ""
    assert auth.startswith("OAuth ") and 'oauth_signature_method="HMAC-SHA1"' in auth
    assert create.header("Content-Type") == "application/json"


def test_a_replayed_or_forged_signature_is_refused_by_the_emulator(server: XEmulator) -> None:
    signer = OAuth1(
        OAUTH1["consumer_key"],
        client_secret=OAUTH1["consumer_secret"],
        resource_owner_key=OAUTH1["access_token"],
        resource_owner_secret=OAUTH1["access_token_secret"],
    )
    prepared = requests.Request("GET", f"{server.base_url}/2/users/me", auth=signer).prepare()
    with requests.Session() as session:
        assert session.send(prepared).status_code == 200
        assert session.send(prepared).status_code == 401  # the same nonce again
        forged = requests.Request(
            "GET", f"{server.base_url}/2/users/me?as=other", auth=signer
        ).prepare()
        forged.url = f"{server.base_url}/2/users/me?as=someone-else"
        assert session.send(forged).status_code == 401


# ---------------------------------------------------------------- exactly once


def test_a_lost_answer_then_retry_leaves_exactly_one_tweet(server: XEmulator) -> None:
    connector = connector_for(server)
    draft = X.render(sample_essay(), context())
    journal = MemoryJournal()
    server.inject("drop", method="POST", path=r"^/2/tweets$")
    with pytest.raises(InDoubt):
        connector.publish(draft, "key", journal)
    remote = connector.publish(draft, "key", journal)
    [tweet] = server.published()
    assert remote.id == tweet["id"]


class LoseAnswerAfterRoot(MemoryJournal):
    """A journal that makes the server lose the answer to the first reply."""

    def __init__(self, server: XEmulator) -> None:
        super().__init__()
        self.server = server

    def done(self, index: int, remote: Remote) -> None:
        super().done(index, remote)
        if index == 0:
            self.server.inject("drop", method="POST", path=r"^/2/tweets$")


def test_a_lost_reply_answer_resumes_the_thread_without_doubling(server: XEmulator) -> None:
    connector = connector_for(server)
    draft = X.render(long_essay(), context(mode="thread"))
    journal = LoseAnswerAfterRoot(server)
    with pytest.raises(InDoubt):
        connector.publish(draft, "thread-key", journal)
    assert len(server.published()) == 2
    connector.publish(draft, "thread-key", journal)
    tweets = server.published()
    assert [t["source_text"] for t in tweets] == [p.request["text"] for p in draft.posts]
    for previous, reply in itertools.pairwise(tweets):
        assert reply["in_reply_to"] == previous["id"]


def test_a_duplicate_answer_returns_the_existing_tweet(server: XEmulator) -> None:
    connector = connector_for(server)
    draft = X.render(sample_essay(), context())
    first = connector.create_post(draft.posts[0], "k1", [], draft)
    again = connector.create_post(draft.posts[0], "k1", [], draft)  # a blind retry
    assert again.id == first.id
    assert len(server.published()) == 1
    refused = [r for r in server.requests_seen if r.method == "POST"]
    assert len(refused) == 2  # the second create was answered 403 duplicate, then looked up


def test_a_duplicate_of_a_tweet_elsewhere_is_rejected_with_xs_words(server: XEmulator) -> None:
    connector = connector_for(server)
    draft = X.render(sample_essay(), context())
    parent = connector.create_post(Post(request={"text": "An earlier tweet"}), "k0", [], draft)
    connector.create_post(draft.posts[0], "k1", [parent], draft)  # same words, as a reply
    with pytest.raises(Rejected) as caught:
        connector.create_post(draft.posts[0], "k2", [], draft)
    assert caught.value.platform_message == DUPLICATE["detail"]
    assert len(server.published()) == 2


def test_find_matches_text_despite_tco_links_and_only_in_the_same_place(
    server: XEmulator,
) -> None:
    connector = connector_for(server)
    draft = X.render(sample_essay("find"), context())
    post = draft.posts[0]
    assert connector.find_post(post, "k", [], draft) is None  # no tweets at all yet
    parent = connector.create_post(Post(request={"text": "Parent tweet"}), "k0", [], draft)
    connector.create_post(post, "k1", [parent], draft)
    assert connector.find_post(post, "k2", [], draft) is None
    found = connector.find_post(post, "k3", [parent], draft)
    assert found is not None and server.tweets[found.id]["in_reply_to"] == parent.id


# ---------------------------------------------------------------- errors and limits


def test_text_over_280_weighted_is_rejected_with_xs_words(server: XEmulator) -> None:
    connector = connector_for(server)
    draft = X.render(sample_essay(), context())
    with pytest.raises(Rejected) as caught:
        connector.create_post(Post(request={"text": "遠" * 141}), "k", [], draft)
    assert (caught.value.platform_message or "").startswith("Your Tweet text is too long.")
    assert server.published() == []


def test_refused_credentials_are_auth_expired_and_leak_nothing(server: XEmulator) -> None:
    bad = {**OAUTH1, "consumer_secret": "wrong-consumer-secret-000000"}
    with pytest.raises(AuthExpired) as caught:
        connector_for(server, bad).publish(X.render(sample_essay(), context()), X.new_key())
    assert caught.value.platform_message == "Unauthorized"
    for value in bad.values():
        assert value not in str(caught.value)


def test_missing_credentials_say_which_to_set(server: XEmulator) -> None:
    with pytest.raises(AuthExpired) as caught:
        connector_for(server, {"consumer_key": "only-a-key"}).verify()
    assert "bearer_token" in caught.value.next_step
    assert server.requests_seen == []


def test_an_app_only_token_cannot_post(server: XEmulator) -> None:
    server.app_tokens.add("app-only-token-0123456789")
    connector = connector_for(server, {"bearer_token": "app-only-token-0123456789"})
    with pytest.raises(AuthExpired) as caught:
        connector.create_post(
            Post(request={"text": "hello"}), "k", [], X.render(sample_essay(), context())
        )
    assert "Application-Only" in (caught.value.platform_message or "")


def test_server_errors_are_transient(server: XEmulator) -> None:
    server.inject(
        "status",
        method="POST",
        path=r"^/2/tweets$",
        status=503,
        body={
            "title": "Service Unavailable",
            "detail": "Service Unavailable",
            "status": 503,
            "type": "about:blank",
        },
    )
    with pytest.raises(Transient) as caught:
        connector_for(server).publish(X.render(sample_essay(), context()), X.new_key())
    assert caught.value.platform_message == "Service Unavailable"


def test_the_post_limit_is_never_exceeded_and_the_wait_comes_from_the_reset_header() -> None:
    with XEmulator(limits={"create": 3}, window=2.0) as server:
        server.add_bearer(BEARER, server.add_user("walker"))
        connector = connector_for(server, {"bearer_token": BEARER})
        time.sleep(2.0 - time.time() % 2.0 + 0.01)  # start at the top of a window
        draft = X.render(sample_essay(), context())
        with pytest.raises(RateLimited) as caught:
            for i in range(10):
                connector.create_post(Post(request={"text": f"Post {i}"}), f"k{i}", [], draft)
        creates = [r for r in server.requests_seen if r.method == "POST"]
        assert len(creates) == 4  # three accepted, the fourth refused: no blind retry
        assert len(server.published()) == 3
        assert max(server.handled.values()) <= 3
        assert 0 < caught.value.retry_after <= 2.0
        assert caught.value.platform_message == "Too Many Requests"
        time.sleep(caught.value.retry_after + 0.05)
        connector.create_post(Post(request={"text": "After the wait"}), "k-late", [], draft)
        assert len(server.published()) == 4


def test_delete_removes_the_tweet_and_edit_is_refused(server: XEmulator) -> None:
    connector = connector_for(server)
    draft = X.render(sample_essay(), context())
    remote = connector.publish(draft, X.new_key())
    with pytest.raises(Rejected, match="cannot be edited"):
        connector.update(remote, draft)
    connector.delete(remote)
    assert server.published() == []
