"""The Substack connector (unofficial, session cookie) against the Substack emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.base import (
    Account,
    AuthExpired,
    Draft,
    InDoubt,
    MemoryJournal,
    RateLimited,
    Rejected,
    RenderContext,
    Transient,
)
from connectors.substack import Substack
from pipeline.document import (
    Code,
    Essay,
    Footnote,
    Heading,
    Image,
    ListBlock,
    ListItem,
    NoteRef,
    Paragraph,
    Quote,
    RelatedLink,
    Run,
    Table,
    TableCell,
)
from tests.emulators.substack import SubstackEmulator, check_doc
from tests.golden_helpers import check_golden

GOLDEN = Path(__file__).parent / "golden" / "connectors" / "substack"
SID = "substack-test-sid-abcdef0123456789"


def sample_essay(marker: str = "") -> Essay:
    return Essay(
        title=f"Letters From the Harbour {marker}".strip(),
        subtitle="What the tide leaves behind",
        tags=["sea", "letters"],
        blocks=[
            Paragraph(
                content=[
                    Run(text="The ferry was late again, "),
                    Run(text="as always", marks=("em",)),
                    Run(text=". See the "),
                    Run(text="timetable", href="https://example.org/ferry"),
                    Run(text=f".\nSigned, the harbour. {marker}".rstrip()),
                ]
            ),
            Heading(level=2, content=[Run(text="Low tide")]),
            ListBlock(
                ordered=True,
                items=[
                    ListItem(content=[Run(text="Crabs", marks=("strong",))]),
                    ListItem(content=[Run(text="Rope")]),
                ],
            ),
            Quote(paragraphs=[[Run(text="The sea keeps no diary.")]]),
            Code(language="python", text="tide = 'low'"),
            Image(src="https://img.example.org/harbour.jpg", alt="Boats", caption="Morning"),
        ],
        promo=[
            Paragraph(
                content=[Run(text="Back me on "), Run(text="Patreon", href="https://patreon.com/x")]
            )
        ],
        related=[RelatedLink(title="Letters From the Dunes", url="https://example.org/dunes")],
    )


def draft_for(essay: Essay, **options: Any) -> Draft:
    return Substack.render(essay, RenderContext(target="letters", options=options))


@pytest.fixture
def server() -> Iterator[SubstackEmulator]:
    emulator = SubstackEmulator(subdomain="harbour")
    emulator.add_user(SID, "Ada Writer")
    emulator.start()
    yield emulator
    emulator.stop()


def connector(server: SubstackEmulator, sid: str = SID, **options: Any) -> Substack:
    account = Account(
        name="letters",
        platform="substack",
        options={"publication_url": server.base_url + "/", **options},
        credentials={"session_cookie": SecretStr(f"substack.sid={sid}")},
    )
    return Substack(account)


def received(server: SubstackEmulator, method: str, pattern: str) -> list[dict[str, Any]]:
    import re

    return [
        r.json()
        for r in server.requests_seen
        if r.method == method and re.fullmatch(pattern, r.path)
    ]


# ---------------------------------------------------------------- render (pure)


def test_render_body_matches_the_golden_file() -> None:
    request = draft_for(sample_essay()).posts[0].request
    shown = {**request, "draft_body": json.loads(request["draft_body"])}
    check_golden(json.dumps(shown, indent=2, ensure_ascii=False), GOLDEN / "render.json")


def test_body_is_a_prosemirror_string_substack_accepts_without_the_patreon_promo() -> None:
    body = draft_for(sample_essay()).posts[0].request["draft_body"]
    assert isinstance(body, str)
    assert check_doc(json.loads(body)) is None
    assert "patreon.com" not in body and "Letters From the Dunes" in body


def test_nested_blocks_tables_and_footnotes_reach_the_draft_as_substack_nodes() -> None:
    essay = Essay(
        title="Tides",
        blocks=[
            Paragraph(content=[Run(text="Twice a day"), NoteRef(label="t"), Run(text=".")]),
            ListBlock(
                items=[
                    ListItem(
                        blocks=[
                            Paragraph(content=[Run(text="Check:")]),
                            Code(text="tide --now"),
                        ]
                    )
                ]
            ),
            Table(
                header=[TableCell(content=[Run(text="Port")])],
                rows=[[TableCell(content=[Run(text="Dover")])]],
            ),
        ],
        footnotes=[Footnote(label="t", blocks=[Paragraph(content=[Run(text="Roughly.")])])],
    )
    doc = json.loads(draft_for(essay).posts[0].request["draft_body"])
    assert check_doc(doc) is None
    kinds = [node["type"] for node in doc["content"]]
    assert kinds == ["paragraph", "bullet_list", "bullet_list", "footnote"]
    assert doc["content"][0]["content"][1] == {"type": "footnoteAnchor", "attrs": {"number": 1}}
    assert [n["type"] for n in doc["content"][1]["content"][0]["content"]] == [
        "paragraph",
        "codeBlock",
    ]
    assert "|" not in json.dumps(doc)


def test_audience_and_comment_options_are_checked() -> None:
    assert draft_for(sample_essay()).posts[0].request["audience"] == "everyone"
    assert draft_for(sample_essay(), audience="only_paid").posts[0].request["audience"] == (
        "only_paid"
    )
    with pytest.raises(Rejected, match="audience must be one of"):
        draft_for(sample_essay(), audience="patrons")
    with pytest.raises(Rejected, match="comments must be one of"):
        draft_for(sample_essay(), comments="friends")


# ---------------------------------------------------------------- publishing


def test_published_post_is_the_rendered_draft_with_the_authors_byline(
    server: SubstackEmulator,
) -> None:
    draft = draft_for(sample_essay())
    remote = connector(server).publish(draft, "k")
    [sent] = received(server, "POST", r"/api/v1/drafts")
    user_id = server.sessions[SID]["id"]
    assert sent == {**draft.posts[0].request, "draft_bylines": [{"id": user_id, "is_guest": False}]}
    [post] = server.published()
    assert post["is_published"] and post["body"] == draft.posts[0].request["draft_body"]
    assert remote.url == "https://harbour.substack.com/p/letters-from-the-harbour"
    assert remote.id == str(post["id"])
    assert server.emails == []  # no e-mail unless the account asks for it
    assert received(server, "POST", r"/api/v1/drafts/\d+/publish") == [
        {"send": False, "share_automatically": False}
    ]


def test_send_email_option_emails_subscribers(server: SubstackEmulator) -> None:
    connector(server).publish(draft_for(sample_essay(), send_email=True), "k")
    assert len(server.emails) == 1


def test_future_publish_at_is_scheduled_on_substack(server: SubstackEmulator) -> None:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    essay = sample_essay().model_copy(update={"publish_at": when})
    draft = draft_for(essay, schedule_on_platform=True)
    remote = connector(server).publish(draft, "k")
    [post] = server.published()
    assert not post["is_published"]
    assert datetime.fromisoformat(post["scheduled_for"].replace("Z", "+00:00")) == when
    assert received(server, "POST", r"/api/v1/drafts/\d+/publish") == []
    assert connector(server).find("k", draft).id == remote.id


def test_lost_create_answer_publishes_the_orphan_draft_not_a_second(
    server: SubstackEmulator,
) -> None:
    draft = draft_for(sample_essay(marker="orphan"))
    journal = MemoryJournal()
    server.inject("drop", method="POST", path=r"^/api/v1/drafts$")
    with pytest.raises(InDoubt):
        connector(server).publish(draft, "k", journal)
    remote = connector(server).publish(draft, "k", journal)  # a new process
    assert list(server.drafts) == [int(remote.id)]
    assert server.drafts[int(remote.id)]["is_published"]


def test_lost_publish_answer_finds_the_published_post(server: SubstackEmulator) -> None:
    draft = draft_for(sample_essay(marker="lost"))
    journal = MemoryJournal()
    server.inject("drop", method="POST", path=r"^/api/v1/drafts/\d+/publish$")
    with pytest.raises(InDoubt):
        connector(server).publish(draft, "k", journal)
    remote = connector(server).publish(draft, "k", journal)
    assert [str(d["id"]) for d in server.published()] == [remote.id]
    assert len(server.drafts) == 1


def test_update_republishes_in_place_without_email(server: SubstackEmulator) -> None:
    client = connector(server, send_email=True)
    remote = client.publish(draft_for(sample_essay(marker="v1"), send_email=True), "k")
    updated = client.update(remote, draft_for(sample_essay(marker="v2"), send_email=True))
    [post] = server.published()
    assert updated.id == remote.id and updated.url == remote.url
    assert post["title"] == "Letters From the Harbour v2" and "v2" in post["body"]
    assert len(server.emails) == 1


def test_delete_removes_the_post(server: SubstackEmulator) -> None:
    client = connector(server)
    remote = client.publish(draft_for(sample_essay()), "k")
    client.delete(remote)
    assert server.drafts == {}


def test_verify_names_the_writer_and_a_bare_cookie_value_works(server: SubstackEmulator) -> None:
    account = Account(
        name="letters",
        platform="substack",
        options={"publication_url": server.base_url},
        credentials={"session_cookie": SecretStr(SID)},
    )
    assert "Ada Writer" in Substack(account).verify()


# ---------------------------------------------------------------- errors


def test_refused_cookie_is_auth_expired_and_stays_secret(server: SubstackEmulator) -> None:
    client = connector(server, sid="expired-sid-0123456789")
    with pytest.raises(AuthExpired) as caught:
        client.publish(draft_for(sample_essay()), "k")
    assert "expired-sid-0123456789" not in str(caught.value)
    assert caught.value.platform_message == "Not authorized"
    assert "session_cookie" in caught.value.next_step


def test_too_many_requests_is_rate_limited_with_the_wait() -> None:
    busy = SubstackEmulator(rate_limit=3, rate_window=60)
    busy.add_user(SID, "Ada Writer")
    with busy, pytest.raises(RateLimited) as caught:
        for index in range(3):
            connector(busy).publish(draft_for(sample_essay(marker=str(index))), f"k{index}")
    assert caught.value.retry_after is not None and 1 <= caught.value.retry_after <= 60


def test_server_error_is_transient(server: SubstackEmulator) -> None:
    server.inject("status", method="POST", status=502, body="Bad Gateway")
    with pytest.raises(Transient) as caught:
        connector(server).publish(draft_for(sample_essay()), "k")
    assert caught.value.platform_message == "Bad Gateway"
    assert server.drafts == {}


def test_invalid_body_is_rejected_with_substacks_raw_words(server: SubstackEmulator) -> None:
    draft = draft_for(sample_essay())
    broken = dict(draft.posts[0].request)
    broken["draft_body"] = json.dumps(
        {
            "type": "doc",
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": ""}]}],
        }
    )
    draft = draft.model_copy(
        update={"posts": [draft.posts[0].model_copy(update={"request": broken})]}
    )
    with pytest.raises(Rejected) as caught:
        connector(server).publish(draft, "k")
    assert "empty text nodes are not allowed" in str(caught.value.platform_message)


def test_missing_publication_url_is_rejected_before_any_request() -> None:
    account = Account(
        name="letters", platform="substack", credentials={"session_cookie": SecretStr(SID)}
    )
    with pytest.raises(Rejected, match="publication_url"):
        Substack(account).verify()
