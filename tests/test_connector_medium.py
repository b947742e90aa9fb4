"""The Medium connector (legacy API): its post bodies, and what the Medium emulator keeps.

Medium no longer supports its API and cannot read posts back; these tests hold the
connector to saying so (a person decides after a lost answer) rather than guessing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from pydantic import SecretStr

from connectors.base import (
    Account,
    AuthExpired,
    InDoubt,
    MemoryJournal,
    NeedsPerson,
    Post,
    RateLimited,
    Rejected,
    Remote,
    RenderContext,
    Transient,
)
from connectors.medium import NO_NEW_TOKENS, Medium, medium_tags
from pipeline.document import Essay, Paragraph, Run
from pipeline.readers import read_file
from tests.emulators.medium import MediumEmulator
from tests.golden_helpers import check_golden
from tests.test_connector_devto import sample_essay

GOLDEN = Path(__file__).parent / "golden" / "connectors" / "medium"
MEDIUM_COPY = Path(__file__).parent / "golden" / "readers" / "medium-copy-north-korean-troops.txt"
TOKEN = "2b0c0ffee0medium0test0token0abc"
LINK = "https://blog.example.org/keeping-a-notebook"


def body(essay: Essay, link: str | None = LINK, **options: Any) -> dict[str, Any]:
    return (
        Medium.render(essay, RenderContext("medium", options=options, link=link)).posts[0].request
    )


@pytest.fixture
def server() -> Iterator[MediumEmulator]:
    emulator = MediumEmulator()
    emulator.add_user(TOKEN, "notebook")
    emulator.start()
    yield emulator
    emulator.stop()


def connector_for(server: MediumEmulator, token: str = TOKEN, **options: Any) -> Medium:
    account = Account(
        name="medium-test",
        platform="medium",
        options=options,
        credentials={"integration_token": SecretStr(token)},
        base_url=server.base_url,
    )
    return Medium(account)


def draft_of(essay: Essay, **options: Any) -> Any:
    return Medium.render(essay, RenderContext("medium", options=options, link=LINK))


# ---------------------------------------------------------------- render (pure)


def test_render_body_matches_the_golden_file() -> None:
    actual = json.dumps(body(sample_essay()), indent=2, ensure_ascii=False)
    check_golden(actual, GOLDEN / "render.json")


def test_render_of_the_medium_copy_matches_the_golden_body() -> None:
    essay = read_file(MEDIUM_COPY)
    link = f"https://blog.example.org/{essay.effective_slug()}"
    actual = json.dumps(body(essay, link=link), indent=2, ensure_ascii=False)
    check_golden(actual, GOLDEN / "medium-copy.json")


def test_the_title_opens_the_content_so_readers_see_it() -> None:
    content = BeautifulSoup(body(sample_essay())["content"], "html.parser")
    first = content.find(True)
    assert first is not None and first.name == "h1" and first.get_text() == "Keeping a Notebook"
    assert len(content.find_all("h1")) == 1


def test_a_long_title_is_clipped_for_listings_but_shown_whole() -> None:
    title = "A very long title " * 8
    rendered = body(Essay(title=title.strip(), blocks=[Paragraph(content=[Run(text="x")])]))
    assert len(rendered["title"]) <= 100 and rendered["title"].endswith("…")
    heading = BeautifulSoup(rendered["content"], "html.parser").h1
    assert heading is not None and heading.get_text() == title.strip()


def test_tags_keep_the_three_medium_will_use() -> None:
    assert medium_tags(["a" * 26, "Writing", "writing", "open  web", "habits", "more"]) == [
        "Writing",
        "open web",
        "habits",
    ]
    assert body(sample_essay())["tags"] == ["Writing", "open web", "node.js"]


def test_options_choose_format_status_and_notification() -> None:
    markdown = body(
        sample_essay(),
        format="markdown",
        publish_status="draft",
        notify_followers=False,
        license="cc-40-by",
    )
    assert markdown["contentFormat"] == "markdown"
    assert markdown["content"].startswith("# Keeping a Notebook\n\n")
    assert markdown["publishStatus"] == "draft"
    assert markdown["notifyFollowers"] is False and markdown["license"] == "cc-40-by"
    plain = body(sample_essay())
    assert plain["contentFormat"] == "html" and plain["publishStatus"] == "public"
    assert "notifyFollowers" not in plain and "license" not in plain
    with pytest.raises(Rejected, match="publish_status"):
        body(sample_essay(), publish_status="secret")


def test_canonical_url_is_the_blog_post_else_the_essays_own() -> None:
    assert body(sample_essay())["canonicalUrl"] == LINK
    assert body(sample_essay(), link=None)["canonicalUrl"] == "https://blog.example.org/original"
    bare = sample_essay().model_copy(update={"canonical_url": None})
    assert "canonicalUrl" not in body(bare, link=None)


# ---------------------------------------------------------------- against the emulator


def test_medium_receives_the_rendered_post_byte_for_byte(server: MediumEmulator) -> None:
    connector = connector_for(server)
    first = connector.publish(draft_of(sample_essay("one")), Medium.new_key())
    second = connector.publish(draft_of(read_file(MEDIUM_COPY)), Medium.new_key())
    stored = server.published()
    assert [p["content"] for p in stored] == [
        body(sample_essay("one"))["content"],
        body(read_file(MEDIUM_COPY))["content"],
    ]
    assert stored[0]["tags"] == ["Writing", "open web", "node.js"]
    assert stored[0]["canonicalUrl"] == LINK
    assert (first.id, first.url) == (stored[0]["id"], stored[0]["url"])
    assert second.url and second.url.startswith("https://medium.com/@notebook/")
    asked_me = [r for r in server.requests_seen if r.path == "/v1/me"]
    assert len(asked_me) == 1, "the user id is asked once per connector"
    for seen in server.requests_seen:
        assert seen.header("Authorization") == f"Bearer {TOKEN}"


def test_find_cannot_know_so_it_asks_a_person(server: MediumEmulator) -> None:
    connector = connector_for(server)
    draft = draft_of(sample_essay())
    journal = MemoryJournal()
    key = Medium.new_key()
    server.inject("drop", method="POST", path=r"/posts$")
    with pytest.raises(InDoubt):
        connector.publish(draft, key, journal)
    with pytest.raises(NeedsPerson) as caught:
        connector.publish(draft, key, journal)
    assert "medium.com/me/stories" in caught.value.next_step
    assert len(server.published()) == 1, "nothing was sent a second time"


def test_resend_when_unsure_accepts_a_possible_duplicate(server: MediumEmulator) -> None:
    connector = connector_for(server, if_unsure="resend")
    draft = draft_of(sample_essay())
    journal = MemoryJournal()
    key = Medium.new_key()
    server.inject("drop", method="POST", path=r"/posts$")
    with pytest.raises(InDoubt):
        connector.publish(draft, key, journal)
    connector.publish(draft, key, journal)
    assert len(server.published()) == 2  # at least once, as the option says


def test_an_orphaned_token_says_medium_issues_no_new_ones(server: MediumEmulator) -> None:
    orphan = "2b0c0ffee0orphaned0token0xyz"
    server.add_user(orphan, "old")
    server.orphan(orphan)
    with pytest.raises(AuthExpired) as caught:
        connector_for(server, orphan).publish(draft_of(sample_essay()), Medium.new_key())
    assert caught.value.platform_message == "Application not found (code 6005)"
    assert caught.value.next_step == NO_NEW_TOKENS
    assert orphan not in str(caught.value)
    assert Medium.legacy is True
    assert server.published() == []


def test_an_invalid_token_is_auth_expired_and_verify_names_the_user(
    server: MediumEmulator,
) -> None:
    assert connector_for(server).verify() == "@notebook"
    wrong = "2b0c0ffee0wrong0token0qwerty"
    with pytest.raises(AuthExpired) as caught:
        connector_for(server, wrong).verify()
    assert caught.value.platform_message == "Token was invalid. (code 6003)"
    assert wrong not in str(caught.value)


def test_a_field_medium_does_not_know_is_rejected_with_its_words(server: MediumEmulator) -> None:
    connector = connector_for(server)
    post = Post(request={**body(sample_essay()), "subtitle": "Not a Medium field"})
    with pytest.raises(Rejected) as caught:
        connector.create_post(post, "k", [], draft_of(sample_essay()))
    assert caught.value.status == 400
    assert caught.value.platform_message == "Unexpected field (subtitle) specified (code 6007)"


@pytest.mark.parametrize(
    ("status", "body_", "headers", "error", "words"),
    [
        (
            403,
            {"errors": [{"message": "User not allowed to publish", "code": 6027}]},
            {},
            Rejected,
            "User not allowed to publish (code 6027)",
        ),
        (
            429,
            {"errors": [{"message": "Too many requests", "code": 429}]},
            {"Retry-After": "12"},
            RateLimited,
            "Too many requests (code 429)",
        ),
        (502, "<html>Bad gateway</html>", {}, Transient, "<html>Bad gateway</html>"),
    ],
)
def test_error_answers_map_to_the_family_with_mediums_words(
    server: MediumEmulator,
    status: int,
    body_: Any,
    headers: dict[str, str],
    error: type[Exception],
    words: str,
) -> None:
    server.inject("status", method="POST", status=status, body=body_, headers=headers)
    with pytest.raises(error) as caught:
        connector_for(server).publish(draft_of(sample_essay()), Medium.new_key())
    assert caught.value.platform_message == words  # type: ignore[attr-defined]
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 12
    assert server.published() == []


def test_edit_and_delete_are_refused_because_medium_has_neither() -> None:
    account = Account(
        name="m", platform="medium", credentials={"integration_token": SecretStr(TOKEN)}
    )
    connector = Medium(account)
    with pytest.raises(Rejected, match="cannot be edited"):
        connector.update(Remote(id="abc"), draft_of(sample_essay()))
    with pytest.raises(Rejected, match="cannot be deleted"):
        connector.delete(Remote(id="abc"))
