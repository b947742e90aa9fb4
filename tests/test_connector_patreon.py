"""The Patreon connector: the rendered post, the hand-off folder, and the unofficial session mode
against the Patreon emulator (CSRF, access rules, orphan drafts, errors)."""

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
    HandedOff,
    InDoubt,
    MemoryJournal,
    RateLimited,
    Rejected,
    Remote,
    RenderContext,
    Transient,
)
from connectors.patreon import TEASER_LIMIT, Patreon, teaser
from pipeline.document import Essay, Heading, ListBlock, ListItem, Paragraph, RelatedLink, Run
from tests.emulators.base import Request, Response, route
from tests.emulators.patreon import PatreonEmulator
from tests.golden_helpers import check_golden

GOLDEN = Path(__file__).parent / "golden" / "connectors" / "patreon"
SESSION = "patreon-test-session-abcdef0123456789"
PATREON_PROMO = "https://www.patreon.com/example"


def sample_essay(marker: str = "", subtitle: str | None = "Why a daily page beats a plan") -> Essay:
    return Essay(
        title=f"Keeping a Notebook {marker}".strip(),
        subtitle=subtitle,
        tags=["writing", "habits", "writing"],
        canonical_url="https://blog.example.org/keeping-a-notebook",
        blocks=[
            Paragraph(
                content=[
                    Run(text="Writing every day is "),
                    Run(text="hard", marks=("strong",)),
                    Run(text=", so I keep a "),
                    Run(text="notebook", href="https://example.org/notebook"),
                    Run(text=f". {marker}".rstrip()),
                ]
            ),
            Heading(level=2, content=[Run(text="What helps")]),
            ListBlock(
                items=[
                    ListItem(content=[Run(text="A fixed hour")]),
                    ListItem(content=[Run(text="A small "), Run(text="goal", marks=("em",))]),
                ]
            ),
        ],
        promo=[
            Paragraph(
                content=[
                    Run(text="Support my writing on "),
                    Run(text="Patreon", href=PATREON_PROMO),
                    Run(text="."),
                ]
            )
        ],
        related=[RelatedLink(title="On drafts", url="https://blog.example.org/on-drafts")],
    )


def render(essay: Essay, **options: Any) -> dict[str, Any]:
    return Patreon.render(essay, RenderContext(target="patrons", options=options)).posts[0].request


# ---------------------------------------------------------------- render (pure)


def test_render_body_matches_the_golden_file() -> None:
    actual = json.dumps(render(sample_essay()), indent=2, ensure_ascii=False)
    check_golden(actual, GOLDEN / "render.json")


def test_patrons_do_not_get_the_promo_that_invites_them_to_patreon() -> None:
    content = render(sample_essay())["content"]
    assert "patreon.com" not in content and "Support my writing" not in content
    assert "<strong>hard</strong>" in content and "On drafts" in content


def test_teaser_is_the_subtitle_or_the_first_paragraph_within_the_limit() -> None:
    assert render(sample_essay())["teaser"] == "Why a daily page beats a plan"
    lead = render(sample_essay(subtitle=None))["teaser"]
    assert lead == "Writing every day is hard, so I keep a notebook."
    long = teaser("word " * 80)
    assert len(long) <= TEASER_LIMIT and long.endswith("…") and "wor…" not in long


def test_access_defaults_to_patrons_and_a_tier_needs_its_name() -> None:
    assert (render(sample_essay())["access"], render(sample_essay())["tier"]) == ("patrons", None)
    assert render(sample_essay(), access="public")["access"] == "public"
    tier = render(sample_essay(), access="tier", tier="Gold")
    assert (tier["access"], tier["tier"]) == ("tier", "Gold")
    with pytest.raises(Rejected, match="needs option tier"):
        render(sample_essay(), access="tier")
    with pytest.raises(Rejected, match="access must be one of"):
        render(sample_essay(), access="Gold")
    with pytest.raises(Rejected, match="mode must be one of"):
        render(sample_essay(), mode="api")


def test_schedule_is_sent_only_when_asked_and_still_ahead() -> None:
    essay = sample_essay().model_copy(
        update={"publish_at": datetime(2031, 5, 1, 9, 30, tzinfo=UTC)}
    )
    assert render(essay)["scheduled_for"] is None
    assert render(essay, schedule_on_platform=True)["scheduled_for"] == "2031-05-01T09:30:00+00:00"
    past = {"schedule_on_platform": True, "now": "2031-06-01T00:00:00+00:00"}
    assert render(essay, **past)["scheduled_for"] is None


# ---------------------------------------------------------------- hand-off


def handoff_connector(home: Path, **options: Any) -> Patreon:
    account = Account(name="patrons", platform="patreon", options=options, home=str(home))
    return Patreon(account)


def test_handoff_prepares_the_post_and_never_claims_it_was_published(tmp_path: Path) -> None:
    connector = handoff_connector(tmp_path, access="tier", tier="Gold")
    draft = Patreon.render(
        sample_essay(), RenderContext("patrons", {"access": "tier", "tier": "Gold"})
    )
    with pytest.raises(HandedOff) as caught:
        connector.publish(draft, "key-1")
    folder = tmp_path / "outbox" / "patrons" / "key-1"
    assert caught.value.location == str(folder)
    assert json.loads((folder / "post.json").read_text()) == draft.posts[0].request
    page = (folder / "post.html").read_text()
    assert draft.posts[0].request["content"] in page and "patreon.com" not in page
    readme = (folder / "README.txt").read_text()
    for words in (
        "https://www.patreon.com/posts/new",
        "crosspost confirm",
        "crosspost status",
        'tier "Gold"',
        "Keeping a Notebook",
        "NOT on Patreon yet",
    ):
        assert words in readme
    assert connector.find("key-1", draft) is None


def test_handoff_written_twice_leaves_one_identical_folder(tmp_path: Path) -> None:
    connector = handoff_connector(tmp_path)
    draft = Patreon.render(sample_essay(), RenderContext("patrons"))
    journal = MemoryJournal()
    for _ in range(2):
        with pytest.raises(HandedOff):
            connector.publish(draft, "key-1", journal)
    folders = list((tmp_path / "outbox" / "patrons").iterdir())
    assert [f.name for f in folders] == ["key-1"]
    assert sorted(p.name for p in folders[0].iterdir()) == ["README.txt", "post.html", "post.json"]


def test_handoff_verify_needs_no_credentials_and_edits_are_handed_off_too(tmp_path: Path) -> None:
    connector = handoff_connector(tmp_path)
    assert "hand-off" in connector.verify()
    draft = Patreon.render(sample_essay(marker="v2"), RenderContext("patrons"))
    remote = Remote(id="https://www.patreon.com/posts/keeping-a-notebook-123", url=None)
    with pytest.raises(HandedOff) as caught:
        connector.update(remote, draft)
    folder = Path(caught.value.location or "")
    assert folder.name == "edit-123"
    assert "Keeping a Notebook v2" in (folder / "README.txt").read_text()
    with pytest.raises(Rejected, match="cannot be deleted"):
        connector.delete(remote)


# ---------------------------------------------------------------- session mode (emulator)


@pytest.fixture
def server() -> Iterator[PatreonEmulator]:
    emulator = PatreonEmulator()
    emulator.add_creator(SESSION, "Ada Writer", tiers={"Gold": 500, "Silver": 300})
    emulator.start()
    yield emulator
    emulator.stop()


def session_connector(server: PatreonEmulator, session: str = SESSION, **options: Any) -> Patreon:
    account = Account(
        name="patrons",
        platform="patreon",
        options={"mode": "session", **options},
        credentials={"session_cookie": SecretStr(f"session_id={session}; locale=en-US")},
        base_url=server.base_url,
    )
    return Patreon(account)


def session_draft(essay: Essay, **options: Any) -> Draft:
    return Patreon.render(essay, RenderContext("patrons", {"mode": "session", **options}))


def campaign(server: PatreonEmulator) -> str:
    return server.sessions[SESSION]["campaign_id"]


def test_published_post_is_the_rendered_post_for_patrons(server: PatreonEmulator) -> None:
    connector = session_connector(server)
    draft = session_draft(sample_essay())
    remote = connector.publish(draft, "k")
    [post] = server.published()
    request = draft.posts[0].request
    assert (post["title"], post["content"], post["teaser_text"]) == (
        request["title"],
        request["content"],
        request["teaser"],
    )
    assert post["access_rules"] == [server.rule_id(campaign(server), "patrons")]
    assert post["tags"] == ["writing", "habits"] and post["published_at"]
    assert remote.url == f"https://www.patreon.com/posts/{post['id']}"
    patch = next(r for r in server.requests_seen if r.method == "PATCH")
    assert patch.header("X-CSRF-Signature") == server.csrf[SESSION]
    assert patch.json()["data"]["attributes"]["tags"] == {"publish": True}


def test_tier_access_uses_that_tiers_rule(server: PatreonEmulator) -> None:
    connector = session_connector(server, access="tier", tier="silver")
    connector.publish(session_draft(sample_essay(), access="tier", tier="silver"), "k")
    [post] = server.published()
    assert post["access_rules"] == [server.rule_id(campaign(server), "tier", "Silver")]


def test_unknown_tier_is_rejected_before_any_draft_exists(server: PatreonEmulator) -> None:
    connector = session_connector(server)
    with pytest.raises(Rejected) as caught:
        connector.publish(session_draft(sample_essay(), access="tier", tier="Platinum"), "k")
    assert "Gold" in caught.value.next_step and "Silver" in caught.value.next_step
    assert server.posts == {}


def test_future_publish_at_is_scheduled_on_patreon(server: PatreonEmulator) -> None:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    essay = sample_essay().model_copy(update={"publish_at": when})
    connector = session_connector(server, schedule_on_platform=True)
    remote = connector.publish(session_draft(essay, schedule_on_platform=True), "k")
    [post] = server.published()
    assert post["published_at"] is None
    assert datetime.fromisoformat(post["scheduled_for"]) == when
    assert connector.find("k", session_draft(essay, schedule_on_platform=True)).id == remote.id


def test_lost_publish_answer_then_restart_finds_the_live_post(server: PatreonEmulator) -> None:
    draft = session_draft(sample_essay(marker="lost"))
    journal = MemoryJournal()
    server.inject("drop", method="PATCH", path=r"^/api/posts/\d+$")
    with pytest.raises(InDoubt):
        session_connector(server).publish(draft, "k", journal)
    remote = session_connector(server).publish(draft, "k", journal)  # a new process
    assert [p["id"] for p in server.posts.values()] == [remote.id]


def test_crash_after_the_empty_draft_reuses_it_instead_of_making_another(
    server: PatreonEmulator,
) -> None:
    draft = session_draft(sample_essay(marker="orphan"))
    journal = MemoryJournal()
    server.inject("drop", method="POST", path=r"^/api/posts$")
    with pytest.raises(InDoubt):
        session_connector(server).publish(draft, "k", journal)
    [orphan] = server.drafts()
    remote = session_connector(server).publish(draft, "k", journal)
    assert remote.id == orphan["id"]
    assert list(server.posts) == [orphan["id"]] and not server.drafts()


def test_outdated_content_is_transient_and_the_retry_patches_the_same_draft(
    server: PatreonEmulator,
) -> None:
    connector = session_connector(server)
    draft = session_draft(sample_essay())
    journal = MemoryJournal()
    server.inject(
        "status",
        method="PATCH",
        status=400,
        body={
            "errors": [
                {
                    "code_name": "POST_CONTENT_OUTDATED",
                    "status": "400",
                    "detail": "This post was changed elsewhere.",
                }
            ]
        },
    )
    with pytest.raises(Transient) as caught:
        connector.publish(draft, "k", journal)
    assert "changed elsewhere" in str(caught.value.platform_message)
    connector.publish(draft, "k", journal)
    assert len(server.posts) == 1 and len(server.published()) == 1


def test_throttled_answer_is_rate_limited_with_patreons_wait(server: PatreonEmulator) -> None:
    slow = PatreonEmulator(rate_limit=4, rate_window=60)
    slow.add_creator(SESSION, "Ada Writer")
    with slow:
        connector = session_connector(slow)
        with pytest.raises(RateLimited) as caught:
            for index in range(3):
                connector.publish(session_draft(sample_essay(marker=str(index))), f"k{index}")
    assert caught.value.retry_after is not None and 1 <= caught.value.retry_after <= 60
    assert "RequestThrottled" in str(caught.value.platform_message)


def test_expired_cookie_is_auth_expired_and_the_cookie_stays_secret(
    server: PatreonEmulator,
) -> None:
    connector = session_connector(server, session="dead-session-0123456789")
    with pytest.raises(AuthExpired) as caught:
        connector.publish(session_draft(sample_essay()), "k")
    assert "dead-session-0123456789" not in str(caught.value)
    assert "session_cookie" in caught.value.next_step
    with pytest.raises(AuthExpired):
        connector.verify()


def test_rotated_csrf_token_is_fetched_again(server: PatreonEmulator) -> None:
    connector = session_connector(server)
    connector.publish(session_draft(sample_essay(marker="one")), "k1")
    server.rotate_csrf(SESSION)
    connector.publish(session_draft(sample_essay(marker="two")), "k2")
    assert len(server.published()) == 2
    assert sum(1 for r in server.requests_seen if r.path == "/membership") == 2


def test_refused_csrf_twice_is_auth_expired(server: PatreonEmulator) -> None:
    connector = session_connector(server)
    connector.verify()
    server.inject(
        "status",
        method="POST",
        times=2,
        status=403,
        body={"errors": [{"code_name": "CSRFFailed", "status": "403"}]},
    )
    with pytest.raises(AuthExpired):
        connector.publish(session_draft(sample_essay()), "k")


def test_update_patches_the_post_in_place(server: PatreonEmulator) -> None:
    connector = session_connector(server)
    remote = connector.publish(session_draft(sample_essay(marker="v1")), "k")
    updated = connector.update(remote, session_draft(sample_essay(marker="v2")))
    [post] = server.published()
    assert updated.id == remote.id == post["id"]
    assert post["title"] == "Keeping a Notebook v2" and "v2" in post["content"]


def test_find_matches_the_title_only(server: PatreonEmulator) -> None:
    connector = session_connector(server)
    connector.publish(session_draft(sample_essay(marker="mine")), "k")
    assert connector.find("other", session_draft(sample_essay(marker="another"))) is None
    assert connector.find("k", session_draft(sample_essay(marker="mine"))) is not None


def test_delete_removes_the_post(server: PatreonEmulator) -> None:
    connector = session_connector(server)
    remote = connector.publish(session_draft(sample_essay()), "k")
    connector.delete(remote)
    assert server.posts == {}


class ForeignLinkPatreon(PatreonEmulator):
    """Answers the create call with a `links.self` on another host."""

    @route("POST", r"/api/posts")
    def create_post(self, req: Request) -> Response:
        answer = super().create_post(req)
        answer.body["links"]["self"] = "http://elsewhere.invalid/api/posts/1"
        return answer


def test_cookie_never_follows_a_links_self_to_another_host() -> None:
    emulator = ForeignLinkPatreon()
    emulator.add_creator(SESSION, "Ada Writer")
    with emulator:
        session_connector(emulator).publish(session_draft(sample_essay()), "k")
        assert len(emulator.published()) == 1
