"""The Telegram connector against the Bot API emulator: bodies, HTML, splitting, errors."""

from __future__ import annotations

import itertools
import json
import socket
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
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
    RenderContext,
    Transient,
)
from connectors.telegram import Telegram
from pipeline.document import (
    Code,
    Essay,
    Footnote,
    Heading,
    ListBlock,
    ListItem,
    NoteRef,
    Paragraph,
    Quote,
    Run,
    Table,
    TableCell,
)
from pipeline.render.composer import announcement
from pipeline.render.lengths import RULES
from tests.emulators.telegram import TelegramEmulator, parse_html
from tests.essay_strategies import nested_essays
from tests.golden_helpers import check_golden

GOLDEN = Path(__file__).parent / "golden" / "connectors" / "telegram"
TOKEN = "555111:telegram-test-token-ABCDEFGHIJ"
CHANNEL = "@slow_walks"
LINK = "https://blog.example.org/2024/bread-&-butter"


def sample_essay(marker: str = "") -> Essay:
    return Essay(
        title=f"Bread & Butter <Notes> {marker}".strip(),
        tags=["baking", "slow food"],
        blocks=[
            Paragraph(
                content=[
                    Run(text="A loaf needs "),
                    Run(text="time", marks=("strong",)),
                    Run(text=", flour & water; the rest is "),
                    Run(text="patience", href="https://example.org/patience"),
                    Run(text=" (and 2 < 3)."),
                ]
            ),
            Heading(level=2, content=[Run(text="Starter")]),
            ListBlock(
                items=[
                    ListItem(content=[Run(text="Feed it daily.")]),
                    ListItem(content=[Run(text="Keep it warm.")]),
                ]
            ),
            Code(language="python", text="if dough > 1:\n    knead()\n"),
        ],
    )


def long_essay(paragraphs: int = 40) -> Essay:
    blocks: list[Any] = []
    for i in range(1, paragraphs + 1):
        text = f"Paragraph {i}: " + "the oven hums <softly> & the crust sings. " * 6
        blocks.append(Paragraph(content=[Run(text=text.strip())]))
        if i % 10 == 0:
            blocks.append(Quote(paragraphs=[[Run(text=f"Quote after {i}.")]]))
    return Essay(title="A Very Long Loaf", tags=["baking"], blocks=blocks)


@pytest.fixture
def server() -> Iterator[TelegramEmulator]:
    emulator = TelegramEmulator(TOKEN, chat_limit=100, chat_window=1.0, global_limit=100)
    emulator.add_channel(CHANNEL[1:])
    with emulator:
        yield emulator


def connector_for(server: TelegramEmulator, token: str = TOKEN, **options: Any) -> Telegram:
    account = Account(
        name="tg",
        platform="telegram",
        options={"chat_id": CHANNEL, **options},
        credentials={"bot_token": SecretStr(token)},
        base_url=server.base_url,
    )
    return Telegram(account)


def context(**options: Any) -> RenderContext:
    return RenderContext(target="tg", options={"chat_id": CHANNEL, **options}, link=LINK)


def bodies(essay: Essay, ctx: RenderContext) -> str:
    draft = Telegram.render(essay, ctx)
    return json.dumps([p.request for p in draft.posts], indent=2, ensure_ascii=False)


# ---------------------------------------------------------------- render


def test_announcement_request_body_matches_golden() -> None:
    check_golden(bodies(sample_essay(), context()), GOLDEN / "announcement.json")


def test_thread_request_bodies_match_golden() -> None:
    check_golden(bodies(long_essay(20), context(mode="thread")), GOLDEN / "thread.json")


def test_full_mode_request_bodies_match_golden() -> None:
    check_golden(bodies(sample_essay(), context(mode="full")), GOLDEN / "full.json")


def test_announcement_shows_the_composed_text_with_the_title_in_bold() -> None:
    [post] = Telegram.render(sample_essay(), context()).posts
    visible, entities = parse_html(post.request["text"])
    assert visible == announcement(sample_essay(), LINK, RULES["telegram"])
    assert entities[0] == {"type": "b", "offset": 0, "length": len("Bread & Butter <Notes>")}
    assert post.request["link_preview_options"] == {
        "is_disabled": False,
        "url": LINK,
        "prefer_large_media": True,
    }


def test_a_template_option_shapes_the_announcement() -> None:
    [post] = Telegram.render(sample_essay(), context(template="New: {title} {url}")).posts
    assert (
        post.request["text"]
        == f"New: Bread &amp; Butter &lt;Notes&gt; {LINK.replace('&', '&amp;')}"
    )


def test_full_mode_splits_between_blocks_into_messages_that_fit() -> None:
    essay = long_essay()
    draft = Telegram.render(essay, context(mode="full"))
    assert len(draft.posts) > 2
    seen = []
    for post in draft.posts:
        visible, _ = parse_html(post.request["text"])
        assert 0 < len(visible.encode("utf-16-le")) // 2 <= 4096
        seen.extend(line for line in visible.split("\n\n") if line.startswith("Paragraph"))
    # Every paragraph arrives whole, once, in order: no block was cut in two.
    assert [s.split(":")[0] for s in seen] == [f"Paragraph {i}" for i in range(1, 41)]
    assert all(s.endswith("sings.") for s in seen)


def nested_essay() -> Essay:
    return Essay(
        title="Night trains",
        blocks=[
            Paragraph(content=[Run(text="It took a year"), NoteRef(label="y"), Run(text=".")]),
            ListBlock(
                items=[
                    ListItem(
                        blocks=[
                            Paragraph(content=[Run(text="Book early:")]),
                            Code(text="book --early"),
                            Quote(blocks=[Paragraph(content=[Run(text="said the guard")])]),
                        ]
                    )
                ]
            ),
            Table(
                header=[TableCell(content=[Run(text="Year")])],
                rows=[[TableCell(content=[Run(text="2019")])]],
            ),
        ],
        footnotes=[Footnote(label="y", blocks=[Paragraph(content=[Run(text="Or two.")])])],
    )


def test_full_mode_carries_nesting_tables_as_rows_and_notes_after_the_text() -> None:
    draft = Telegram.render(nested_essay(), context(mode="full"))
    [post] = draft.posts
    visible, _ = parse_html(post.request["text"])
    assert visible == (
        "Night trains\n\nIt took a year[1].\n\n• Book early:\nbook --early\n"
        "  said the guard\n\n• Year: 2019\n\n[1] Or two.\n\n" + LINK
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nested_essays)
def test_full_mode_of_any_nested_essay_parses_as_telegram_does_and_fits(essay: Essay) -> None:
    for post in Telegram.render(essay, context(mode="full")).posts:
        visible, _ = parse_html(post.request["text"])  # raises on what Telegram refuses
        assert 0 < len(visible.encode("utf-16-le")) // 2 <= 4096


def test_a_channel_is_required() -> None:
    with pytest.raises(Rejected, match="chat_id"):
        Telegram.render(sample_essay(), RenderContext(target="tg", link=LINK))


# ---------------------------------------------------------------- publish


def test_published_text_equals_the_rendered_text_byte_for_byte(server: TelegramEmulator) -> None:
    draft = Telegram.render(sample_essay(), context())
    remote = connector_for(server).publish(draft, Telegram.new_key())
    [message] = server.messages(CHANNEL)
    assert message["source"] == draft.posts[0].request["text"]
    assert message["link_preview_options"] == draft.posts[0].request["link_preview_options"]
    assert remote.url == f"https://t.me/{CHANNEL[1:]}/{remote.id}"


def test_every_full_mode_message_is_accepted_as_rendered(server: TelegramEmulator) -> None:
    draft = Telegram.render(long_essay(), context(mode="full"))
    connector_for(server).publish(draft, Telegram.new_key())
    messages = server.messages(CHANNEL)
    assert [m["source"] for m in messages] == [p.request["text"] for p in draft.posts]
    assert all("reply_to_message" not in m for m in messages)


def test_a_thread_is_chained_by_reply_parameters(server: TelegramEmulator) -> None:
    draft = Telegram.render(long_essay(60), context(mode="thread"))
    assert len(draft.posts) > 2
    assert all(p.length is not None and p.length <= 4096 for p in draft.posts)
    connector_for(server).publish(draft, Telegram.new_key())
    messages = server.messages(CHANNEL)
    assert [m["source"] for m in messages] == [p.request["text"] for p in draft.posts]
    for previous, reply in itertools.pairwise(messages):
        assert reply["reply_to_message"]["message_id"] == previous["message_id"]


def test_an_entity_parse_error_is_rejected_with_telegrams_words(server: TelegramEmulator) -> None:
    draft = Telegram.render(sample_essay(), context())
    bad = Post(request={"chat_id": CHANNEL, "text": "Über <p>para</p>", "parse_mode": "HTML"})
    with pytest.raises(Rejected) as caught:
        connector_for(server).create_post(bad, "k", [], draft)
    assert caught.value.platform_message == (
        'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 6'
    )
    assert server.messages() == []


def test_an_over_long_message_is_rejected(server: TelegramEmulator) -> None:
    draft = Telegram.render(sample_essay(), context())
    bad = Post(request={"chat_id": CHANNEL, "text": "x" * 4097})
    with pytest.raises(Rejected, match="message is too long"):
        connector_for(server).create_post(bad, "k", [], draft)


def test_rate_limit_answer_is_rate_limited_and_the_limit_holds() -> None:
    with TelegramEmulator(TOKEN, chat_limit=2, chat_window=2.0) as server:
        server.add_channel(CHANNEL[1:])
        connector = connector_for(server)
        draft = Telegram.render(sample_essay(), context())
        with pytest.raises(RateLimited) as caught:
            for _ in range(5):
                connector.publish(draft, Telegram.new_key())
        assert caught.value.retry_after == 2
        assert caught.value.platform_message == "Too Many Requests: retry after 2"
        assert len(server.messages()) == 2
        time.sleep(caught.value.retry_after)
        connector.publish(draft, Telegram.new_key())
        times = [t for _, t in server.sends_at]
        for i, start in enumerate(times):  # never more than two sends in any 2-second window
            assert len([t for t in times[i:] if t - start < 2.0]) <= 2


def test_update_edits_the_message_in_place(server: TelegramEmulator) -> None:
    connector = connector_for(server)
    remote = connector.publish(Telegram.render(sample_essay(), context()), Telegram.new_key())
    edited = Telegram.render(sample_essay("(second bake)"), context())
    assert connector.update(remote, edited).id == remote.id
    [message] = server.messages()
    assert message["source"] == edited.posts[0].request["text"]
    assert connector.update(remote, edited).id == remote.id  # unchanged text is not an error


def test_delete_removes_the_message(server: TelegramEmulator) -> None:
    connector = connector_for(server)
    remote = connector.publish(Telegram.render(sample_essay(), context()), Telegram.new_key())
    connector.delete(remote)
    assert server.messages() == []


def test_verify_names_the_bot_and_the_channel(server: TelegramEmulator) -> None:
    assert connector_for(server).verify() == f"@crosspost_bot in {CHANNEL}"


def test_a_bot_that_is_not_an_admin_says_what_to_do() -> None:
    with TelegramEmulator(TOKEN) as server:
        server.add_channel(CHANNEL[1:], admin=False)
        draft = Telegram.render(sample_essay(), context())
        with pytest.raises(Rejected) as caught:
            connector_for(server).publish(draft, Telegram.new_key())
    assert "admin" in caught.value.next_step


# ---------------------------------------------------------------- look-up and secrets


def test_find_cannot_know_so_it_asks_a_person(server: TelegramEmulator) -> None:
    connector = connector_for(server)
    draft = Telegram.render(sample_essay(), context())
    journal = MemoryJournal()
    server.inject("drop", method="POST", path=r"/sendMessage$")
    with pytest.raises(InDoubt):
        connector.publish(draft, "key", journal)
    with pytest.raises(NeedsPerson) as caught:
        connector.publish(draft, "key", journal)
    assert CHANNEL in caught.value.next_step
    assert len(server.messages()) == 1  # nothing sent blindly a second time


def test_resend_when_unsure_accepts_a_possible_duplicate(server: TelegramEmulator) -> None:
    connector = connector_for(server, if_unsure="resend")
    draft = Telegram.render(sample_essay(), context())
    journal = MemoryJournal()
    server.inject("drop", method="POST", path=r"/sendMessage$")
    with pytest.raises(InDoubt):
        connector.publish(draft, "key", journal)
    connector.publish(draft, "key", journal)
    assert len(server.messages()) == 2  # the documented price of at-least-once


def _all_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def test_the_bot_token_never_appears_in_errors(server: TelegramEmulator) -> None:
    wrong = "555111:wrong-telegram-token-XYZXYZ"
    with pytest.raises(AuthExpired) as caught:
        connector_for(server, token=wrong).verify()
    assert wrong not in _all_text(caught.value)
    assert caught.value.platform_message == "Unauthorized"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    account = Account(
        name="tg",
        platform="telegram",
        options={"chat_id": CHANNEL},
        credentials={"bot_token": SecretStr(TOKEN)},
        base_url=f"http://127.0.0.1:{closed}",
    )
    with pytest.raises(Transient) as unreachable:
        Telegram(account).publish(Telegram.render(sample_essay(), context()), "k")
    assert f"127.0.0.1:{closed}" in str(unreachable.value)
    assert TOKEN not in _all_text(unreachable.value)

    server.inject("slow", method="POST", path=r"/sendMessage$", delay=0.5)
    account = connector_for(server).account
    connector = Telegram(account, session=ImpatientSession())
    with pytest.raises(InDoubt) as timed_out:
        connector.publish(Telegram.render(sample_essay(), context()), "k")
    assert TOKEN not in _all_text(timed_out.value)


class ImpatientSession(requests.Session):
    """A session that gives up after 0.1 s, so a slow answer becomes a timeout quickly."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kw: Any) -> Any:
        kw["timeout"] = 0.1
        return super().request(method, url, *args, **kw)


@pytest.mark.parametrize(
    ("status", "description", "error"),
    [
        (400, "Bad Request: chat not found", Rejected),
        (403, "Forbidden: bot was kicked from the channel chat", Rejected),
        (502, "Bad Gateway", Transient),
    ],
)
def test_error_answers_map_to_the_family_with_telegrams_words(
    server: TelegramEmulator, status: int, description: str, error: type[Exception]
) -> None:
    server.inject(
        "status",
        method="POST",
        path=r"/sendMessage$",
        status=status,
        body={"ok": False, "error_code": status, "description": description},
    )
    with pytest.raises(error) as caught:
        connector_for(server).publish(Telegram.render(sample_essay(), context()), "k")
    assert description in str(caught.value)
    assert TOKEN not in str(caught.value)
