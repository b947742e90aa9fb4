"""The LinkedIn connector against the LinkedIn emulator: little text, headers, limits, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pydantic import SecretStr

from connectors.base import (
    Account,
    AuthExpired,
    InDoubt,
    MemoryJournal,
    Post,
    RateLimited,
    Rejected,
    RenderContext,
    Transient,
)
from connectors.linkedin import LinkedIn
from pipeline.document import Essay, Paragraph, Run
from tests.emulators.linkedin import LinkedInEmulator, read_little
from tests.golden_helpers import check_golden

GOLDEN = Path(__file__).parent / "golden" / "connectors" / "linkedin"
TOKEN = "linkedin-test-token-0123456789abcdef"
AUTHOR = "urn:li:person:walker42"
LINK = "https://blog.example.org/2024/notes-on-craft"
RESERVED_TITLE = r"Notes (draft #2) on craft_work: *stars*, <tags>, [links], {braces} | @ana ~ \o/"


def sample_essay(marker: str = "") -> Essay:
    return Essay(
        title=f"{RESERVED_TITLE} {marker}".strip(),
        subtitle="What I learnt (the hard way) about C# and 100% focus.",
        tags=["craft", "writing life", "C#"],
        blocks=[Paragraph(content=[Run(text="Every morning I write (badly) for an hour.")])],
    )


def long_essay() -> Essay:
    sentences = [
        f"Sentence {i} (of many) wanders on about craft_work, #drafts and the ~morning~ light."
        for i in range(1, 61)
    ]
    return Essay(
        title="A Long Essay (in parts)",
        tags=["craft"],
        blocks=[Paragraph(content=[Run(text=" ".join(sentences))])],
    )


@pytest.fixture
def server() -> Iterator[LinkedInEmulator]:
    emulator = LinkedInEmulator()
    emulator.add_member(TOKEN, "Walker", "walker42")
    with emulator:
        yield emulator


def connector_for(server: LinkedInEmulator, token: str = TOKEN, **options: Any) -> LinkedIn:
    account = Account(
        name="li",
        platform="linkedin",
        options=options,
        credentials={"access_token": SecretStr(token)},
        base_url=server.base_url,
    )
    return LinkedIn(account)


def context(**options: Any) -> RenderContext:
    return RenderContext(target="li", options=options, link=LINK)


def bodies(essay: Essay, ctx: RenderContext) -> str:
    draft = LinkedIn.render(essay, ctx)
    return json.dumps([p.request for p in draft.posts], indent=2, ensure_ascii=False)


# ---------------------------------------------------------------- render


def test_announcement_request_body_matches_golden() -> None:
    check_golden(bodies(sample_essay(), context(author=AUTHOR)), GOLDEN / "announcement.json")


def test_thread_mode_request_body_matches_golden() -> None:
    check_golden(bodies(long_essay(), context(mode="thread")), GOLDEN / "long_post.json")


def test_every_reserved_character_is_escaped_and_hashtags_are_templates() -> None:
    body = LinkedIn.render(sample_essay(), context()).posts[0].request
    commentary = body["commentary"]
    stored, visible = read_little(commentary)
    assert stored == commentary  # nothing in it would cut the post short
    assert visible == LinkedIn.render(sample_essay(), context()).posts[0].text
    assert "{hashtag|\\#|craft} {hashtag|\\#|WritingLife} {hashtag|\\#|C}" in commentary
    assert body["content"]["article"] == {
        "source": LINK,
        "title": sample_essay().title,
        "description": "What I learnt (the hard way) about C# and 100% focus.",
    }
    assert LINK not in visible  # the card carries the link


def test_the_limit_counts_visible_text_not_escapes() -> None:
    essay = sample_essay()
    essay.subtitle = "(a) [b] {c} " * 400  # every third character needs an escape
    post = LinkedIn.render(essay, context()).posts[0]
    _, visible = read_little(post.request["commentary"])
    assert len(post.request["commentary"]) > 3000
    assert len(visible) <= 3000 and post.length == len(visible)


def test_thread_mode_is_one_long_post_within_3000() -> None:
    draft = LinkedIn.render(long_essay(), context(mode="thread"))
    [post] = draft.posts
    _, visible = read_little(post.request["commentary"])
    assert 2500 < len(visible) <= 3000
    assert visible.startswith("A Long Essay (in parts)\n" + LINK)


def test_an_unknown_visibility_is_refused() -> None:
    with pytest.raises(Rejected, match="visibility"):
        LinkedIn.render(sample_essay(), context(visibility="friends"))


# ---------------------------------------------------------------- publish


def test_the_stored_post_is_the_intended_text_because_everything_is_escaped(
    server: LinkedInEmulator,
) -> None:
    connector = connector_for(server)
    draft = LinkedIn.render(sample_essay(), context())
    remote = connector.publish(draft, LinkedIn.new_key())
    [post] = server.published()
    assert post["commentary"] == draft.posts[0].request["commentary"]  # byte for byte
    assert post["text"] == draft.posts[0].text  # what readers see: nothing cut off
    assert post["author"] == AUTHOR  # learnt from /v2/userinfo
    assert remote.id == post["id"]
    assert remote.url == f"https://www.linkedin.com/feed/update/{post['id']}/"


def test_the_same_text_unescaped_would_be_cut_short(server: LinkedInEmulator) -> None:
    """The control for the test above: the emulator does cut at a reserved character."""
    connector = connector_for(server, author=AUTHOR)
    draft = LinkedIn.render(sample_essay(), context(author=AUTHOR))
    raw = Post(request={**draft.posts[0].request, "commentary": draft.posts[0].text})
    connector.create_post(raw, "k", [], draft)
    [post] = server.published()
    assert post["text"] == "Notes "


def test_requests_carry_the_version_and_protocol_headers(server: LinkedInEmulator) -> None:
    connector_for(server, version="202608").publish(
        LinkedIn.render(sample_essay(), context()), LinkedIn.new_key()
    )
    create = next(r for r in server.requests_seen if r.method == "POST")
    assert create.header("LinkedIn-Version") == "202608"
    assert create.header("X-Restli-Protocol-Version") == "2.0.0"
    assert create.header("Authorization") == f"Bearer {TOKEN}"


def test_a_retired_version_needs_a_person_and_says_which_option(
    server: LinkedInEmulator,
) -> None:
    connector = connector_for(server, version="202401", author=AUTHOR)
    with pytest.raises(Rejected) as caught:
        connector.publish(LinkedIn.render(sample_essay(), context()), LinkedIn.new_key())
    assert caught.value.platform_message == "Requested version 202401 is not active"
    assert "options.version" in caught.value.next_step
    assert server.published() == []


# ---------------------------------------------------------------- exactly once


def test_a_lost_answer_then_retry_leaves_exactly_one_post(server: LinkedInEmulator) -> None:
    connector = connector_for(server)
    draft = LinkedIn.render(sample_essay(), context())
    journal = MemoryJournal()
    server.inject("drop", method="POST", path=r"^/rest/posts$")
    with pytest.raises(InDoubt):
        connector.publish(draft, "key", journal)
    remote = connector.publish(draft, "key", journal)
    [post] = server.published()
    assert remote.id == post["id"]


def test_a_duplicate_answer_names_the_post_that_exists(server: LinkedInEmulator) -> None:
    connector = connector_for(server)
    draft = LinkedIn.render(sample_essay(), context())
    first = connector.create_post(draft.posts[0], "k1", [], draft)
    again = connector.create_post(draft.posts[0], "k1", [], draft)  # a blind retry
    assert again.id == first.id and len(server.published()) == 1


def test_find_lists_the_authors_posts_and_matches_the_text(server: LinkedInEmulator) -> None:
    connector = connector_for(server)
    draft = LinkedIn.render(sample_essay("one"), context())
    other = LinkedIn.render(sample_essay("two"), context())
    assert connector.find_post(draft.posts[0], "k", [], draft) is None
    connector.create_post(other.posts[0], "k0", [], other)
    assert connector.find_post(draft.posts[0], "k", [], draft) is None
    made = connector.create_post(draft.posts[0], "k1", [], draft)
    found = connector.find_post(draft.posts[0], "k2", [], draft)
    assert found is not None and found.id == made.id
    listing = next(r for r in server.requests_seen if r.path == "/rest/posts" and r.method == "GET")
    assert listing.query == {"author": [AUTHOR], "q": ["author"], "count": ["20"]}


# ---------------------------------------------------------------- edit, delete, errors


def test_update_changes_the_commentary_in_place(server: LinkedInEmulator) -> None:
    connector = connector_for(server)
    remote = connector.publish(LinkedIn.render(sample_essay("v1"), context()), "k")
    edited = LinkedIn.render(sample_essay("v2"), context())
    assert connector.update(remote, edited).id == remote.id
    [post] = server.published()
    assert post["text"] == edited.posts[0].text
    update = next(r for r in server.requests_seen if r.path.startswith("/rest/posts/"))
    assert update.header("X-RestLi-Method") == "PARTIAL_UPDATE"
    assert update.path == "/rest/posts/" + remote.id.replace(":", "%3A")


def test_delete_removes_the_post(server: LinkedInEmulator) -> None:
    connector = connector_for(server)
    remote = connector.publish(LinkedIn.render(sample_essay(), context()), "k")
    connector.delete(remote)
    assert server.published() == []


def test_a_refused_token_is_auth_expired_without_the_token(server: LinkedInEmulator) -> None:
    connector = connector_for(server, token="expired-linkedin-token-000000")
    with pytest.raises(AuthExpired) as caught:
        connector.verify()
    assert caught.value.platform_message == "Invalid access token"
    assert "expired-linkedin-token-000000" not in str(caught.value)


def test_verify_names_the_member_and_author(server: LinkedInEmulator) -> None:
    assert connector_for(server).verify() == f"Walker ({AUTHOR})"


def test_the_daily_quota_is_never_exceeded_and_waits_until_midnight_utc() -> None:
    with LinkedInEmulator(daily_quota=2) as server:
        server.add_member(TOKEN, "Walker", "walker42")
        connector = connector_for(server, author=AUTHOR)
        with pytest.raises(RateLimited) as caught:
            for marker in ("a", "b", "c", "d"):
                draft = LinkedIn.render(sample_essay(marker), context())
                connector.publish(draft, LinkedIn.new_key())
        assert len(server.published()) == 2
        assert max(server.handled_creates.values()) == 2
        creates = [r for r in server.requests_seen if r.method == "POST"]
        assert len(creates) == 3  # the refused one was not retried
        assert 0 < caught.value.retry_after <= 86400
        assert "MEMBER DAY limit" in (caught.value.platform_message or "")


def test_server_errors_are_transient(server: LinkedInEmulator) -> None:
    server.inject(
        "status",
        method="POST",
        path=r"^/rest/posts$",
        status=504,
        body={"status": 504, "code": "GATEWAY_TIMEOUT", "message": "Gateway timeout"},
    )
    with pytest.raises(Transient) as caught:
        connector_for(server, author=AUTHOR).publish(
            LinkedIn.render(sample_essay(), context()), "k"
        )
    assert caught.value.platform_message == "Gateway timeout"


def test_posting_as_someone_else_is_rejected(server: LinkedInEmulator) -> None:
    connector = connector_for(server, author="urn:li:organization:999")
    with pytest.raises(Rejected) as caught:
        connector.publish(LinkedIn.render(sample_essay(), context()), "k")
    assert "urn:li:organization:999" in (caught.value.platform_message or "")


def test_the_emulator_refuses_calls_without_either_header(server: LinkedInEmulator) -> None:
    """Proof that the header test above means something: LinkedIn needs both headers."""
    url = f"{server.base_url}/rest/posts"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    params = {"author": AUTHOR, "q": "author"}
    missing_version = requests.get(url, params=params, headers=auth, timeout=5)
    assert missing_version.status_code == 400
    assert missing_version.json()["code"] == "VERSION_MISSING"
    versioned = {**auth, "LinkedIn-Version": "202609"}
    missing_protocol = requests.get(url, params=params, headers=versioned, timeout=5)
    assert missing_protocol.status_code == 400
    both = {**versioned, "X-Restli-Protocol-Version": "2.0.0"}
    assert requests.get(url, params=params, headers=both, timeout=5).status_code == 200
