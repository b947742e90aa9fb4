"""The dev.to (Forem) connector: its article bodies, and what the Forem emulator keeps of them.

Render tests are pure. The others publish to `tests/emulators/devto.py`, which enforces
Forem's validation, its one-write-per-second throttle and the five-minute same-title rule.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from markdown_it import MarkdownIt
from pydantic import SecretStr

from connectors.base import (
    Account,
    AuthExpired,
    InDoubt,
    MemoryJournal,
    RateLimited,
    Rejected,
    Remote,
    RenderContext,
    Transient,
)
from connectors.devto import ACCEPT, DevTo, devto_tags
from pipeline.document import (
    Block,
    Code,
    Essay,
    Heading,
    Image,
    ListBlock,
    ListItem,
    Paragraph,
    Quote,
    RelatedLink,
    Run,
    list_item_texts,
    plain,
)
from pipeline.readers import read_file
from pipeline.render.parts import blocks_for
from tests.emulators.devto import DevToEmulator
from tests.golden_helpers import check_golden

GOLDEN = Path(__file__).parent / "golden" / "connectors" / "devto"
MEDIUM_COPY = Path(__file__).parent / "golden" / "readers" / "medium-copy-north-korean-troops.txt"
API_KEY = "devto-test-key-ABCDEFGHIJ0123"
LINK = "https://blog.example.org/keeping-a-notebook"


def sample_essay(marker: str = "", image: str | None = "https://example.org/lead.png") -> Essay:
    """An essay with the structure a reader notices when a platform mangles it."""
    blocks: list[Any] = [
        Paragraph(
            content=[
                Run(text="Writing every day is "),
                Run(text="hard", marks=("strong",)),
                Run(text=", so I keep a "),
                Run(text="notebook", href="https://example.org/notebook_(paper)"),
                Run(text=f". Stars like *these* stay text. {marker}".rstrip()),
            ]
        ),
        Heading(level=2, content=[Run(text="What helps")]),
        ListBlock(
            items=[
                ListItem(
                    content=[Run(text="A fixed hour")],
                    children=[
                        ListBlock(ordered=True, items=[ListItem(content=[Run(text="Morning")])])
                    ],
                ),
                ListItem(content=[Run(text="A small "), Run(text="goal", marks=("em",))]),
            ]
        ),
        Quote(paragraphs=[[Run(text="Nulla dies sine linea.")]]),
        Code(language="python", text="print('one page')"),
        Heading(level=3, content=[Run(text="1. Not a list")]),
    ]
    if image:
        blocks.append(Image(src=image, alt="A green square", caption="The notebook's cover"))
    return Essay(
        title=f"Keeping a Notebook {marker}".strip(),
        subtitle="Why a daily page beats a weekly plan",
        tags=["Writing", "open web", "node.js", "C++", "writing", "habits"],
        canonical_url="https://blog.example.org/original",
        blocks=blocks,
        promo=[
            Paragraph(
                content=[
                    Run(text="Support my writing on "),
                    Run(text="Patreon", href="https://www.patreon.com/example"),
                    Run(text="."),
                ]
            )
        ],
        related=[RelatedLink(title="On drafts", url="https://blog.example.org/on-drafts")],
    )


def article(essay: Essay, link: str | None = LINK, **options: Any) -> dict[str, Any]:
    draft = DevTo.render(essay, RenderContext(target="devto", options=options, link=link))
    return draft.posts[0].request["article"]


@pytest.fixture
def server() -> Iterator[DevToEmulator]:
    emulator = DevToEmulator()
    emulator.add_user(API_KEY, "notebook")
    emulator.start()
    yield emulator
    emulator.stop()


def connector_for(server: DevToEmulator, key: str = API_KEY) -> DevTo:
    account = Account(
        name="devto-test",
        platform="devto",
        credentials={"api_key": SecretStr(key)},
        base_url=server.base_url,
    )
    return DevTo(account)


def publish(connector: DevTo, essay: Essay, link: str | None = LINK, **options: Any) -> Remote:
    draft = DevTo.render(essay, RenderContext(target="devto", options=options, link=link))
    return connector.publish(draft, DevTo.new_key())


# ---------------------------------------------------------------- render (pure)


def test_render_body_matches_the_golden_file() -> None:
    draft = DevTo.render(sample_essay(), RenderContext(target="devto", link=LINK))
    actual = json.dumps(draft.posts[0].request, indent=2, ensure_ascii=False)
    check_golden(actual, GOLDEN / "render.json")


def test_render_of_the_medium_copy_matches_the_golden_body() -> None:
    essay = read_file(MEDIUM_COPY)
    link = f"https://blog.example.org/{essay.effective_slug()}"
    draft = DevTo.render(essay, RenderContext(target="devto", link=link))
    actual = json.dumps(draft.posts[0].request, indent=2, ensure_ascii=False)
    check_golden(actual, GOLDEN / "medium-copy.json")


def test_tags_are_normalised_to_forems_rules() -> None:
    assert article(sample_essay())["tags"] == ["writing", "openweb", "nodejs", "c"]
    assert devto_tags(["***", "x" * 31, "Café", "Café", "rust"]) == ["café", "rust"]
    assert devto_tags([]) == []


def test_canonical_url_is_the_blog_post_else_the_essays_own() -> None:
    assert article(sample_essay())["canonical_url"] == LINK
    assert (
        article(sample_essay(), link=None)["canonical_url"] == "https://blog.example.org/original"
    )
    bare = sample_essay().model_copy(update={"canonical_url": None})
    assert "canonical_url" not in article(bare, link=None)


def test_description_is_the_subtitle_else_the_lead_within_150_characters() -> None:
    assert article(sample_essay())["description"] == "Why a daily page beats a weekly plan"
    long_lead = Essay(title="Long", blocks=[Paragraph(content=[Run(text="word " * 80)])], tags=[])
    description = article(long_lead)["description"]
    assert len(description) <= 150 and description.endswith("…")


def test_first_web_image_becomes_the_cover_and_options_shape_the_article() -> None:
    assert article(sample_essay())["main_image"] == "https://example.org/lead.png"
    assert "main_image" not in article(sample_essay(image="data:image/png;base64,AAAA"))
    assert "main_image" not in article(sample_essay(), main_image=False)
    shaped = article(sample_essay(), draft=True, series="Notebooks")
    assert shaped["published"] is False and shaped["series"] == "Notebooks"
    assert article(sample_essay())["published"] is True


def test_a_title_longer_than_forem_allows_is_rejected_before_sending() -> None:
    with pytest.raises(Rejected, match="128"):
        article(Essay(title="t" * 129, blocks=[Paragraph(content=[Run(text="x")])]))


# ---------------------------------------------------------------- against the emulator


def markdown_structure(markdown: str) -> dict[str, list[Any]]:
    """Headings, list items and link targets as a CommonMark reader sees them."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    found: dict[str, list[Any]] = {"headings": [], "items": [], "links": []}
    for index, token in enumerate(tokens):
        if token.type == "inline":
            for child in token.children or []:
                if child.type == "link_open":
                    found["links"].append(child.attrs["href"])
        if token.type == "heading_open":
            found["headings"].append((int(token.tag[1]), _inline_text(tokens[index + 1])))
        if token.type == "list_item_open":
            found["items"].append(_inline_text(tokens[index + 2]))
    return found


def _inline_text(token: Any) -> str:
    return "".join(c.content for c in token.children or [] if c.type in ("text", "code_inline"))


def essay_structure(blocks: list[Block]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {"headings": [], "items": [], "links": []}

    def links(runs: list[Run]) -> None:
        for run in runs:
            if run.href and (not found["links"] or found["links"][-1] != run.href):
                found["links"].append(run.href)

    def items(block: ListBlock) -> None:
        for item in block.items:
            links(item.content)
            for child in item.children:
                items(child)

    for block in blocks:
        if isinstance(block, Heading):
            found["headings"].append((block.level, plain(block.content)))
            links(block.content)
        elif isinstance(block, Paragraph):
            links(block.content)
        elif isinstance(block, Quote):
            for paragraph in block.paragraphs:
                links(paragraph)
        elif isinstance(block, ListBlock):
            found["items"].extend(list_item_texts(block))
            items(block)
    return found


@pytest.mark.parametrize("which", ["sample", "medium-copy"])
def test_stored_markdown_reads_back_with_the_same_structure(
    server: DevToEmulator, which: str
) -> None:
    essay = sample_essay() if which == "sample" else read_file(MEDIUM_COPY)
    publish(connector_for(server), essay)
    [stored] = server.published()
    assert stored["body_markdown"] == article(essay)["body_markdown"]
    assert markdown_structure(stored["body_markdown"]) == essay_structure(blocks_for(essay, "blog"))
    assert stored["title"] == essay.title


def test_calls_carry_the_api_key_header_v1_accept_and_a_user_agent(server: DevToEmulator) -> None:
    connector = connector_for(server)
    remote = publish(connector, sample_essay())
    assert connector.verify() == "@notebook"
    assert remote.url and remote.url.startswith("https://dev.to/notebook/keeping-a-notebook")
    for seen in server.requests_seen:
        assert seen.header("api-key") == API_KEY
        assert seen.header("Accept") == ACCEPT
        assert seen.header("User-Agent")
        assert API_KEY not in seen.path


def test_writes_are_spaced_so_the_throttle_never_fires(server: DevToEmulator) -> None:
    connector = connector_for(server)
    first = publish(connector, sample_essay("one"), link=f"{LINK}-1")
    second = publish(connector_for(server), sample_essay("two"), link=f"{LINK}-2")
    edited = DevTo.render(sample_essay("one, edited"), RenderContext("devto", link=f"{LINK}-1"))
    connector.update(first, edited)
    assert second.id != first.id
    assert server.throttled == []
    assert len(server.write_times) == 3
    seconds = [int(t) for t in server.write_times]
    assert len(set(seconds)) == len(seconds), "two writes landed in one Rack::Attack window"
    gaps = [b - a for a, b in zip(server.write_times, server.write_times[1:], strict=False)]
    assert min(gaps) >= DevTo.write_interval * 0.99


def test_the_throttles_wait_is_raised_as_rate_limited(server: DevToEmulator) -> None:
    """Another client using the same key just wrote: Rack::Attack refuses ours."""
    while time.time() % 1 > 0.5:  # start early in a window so both writes share it
        time.sleep(0.05)
    requests.post(
        f"{server.base_url}/api/articles",
        json={"article": {"title": "Written elsewhere", "body_markdown": "x"}},
        headers={"api-key": API_KEY, "Accept": ACCEPT},
        timeout=5,
    )
    with pytest.raises(RateLimited) as caught:
        publish(connector_for(server), sample_essay())
    assert server.last_retry_after is not None
    assert caught.value.retry_after == float(server.last_retry_after)
    assert caught.value.platform_message == "Retry later"
    assert [a["title"] for a in server.published()] == ["Written elsewhere"]


def test_the_app_limit_on_new_articles_says_wait_thirty_seconds() -> None:
    with DevToEmulator(publish_limit=1) as emulator:
        emulator.add_user(API_KEY, "notebook")
        connector = connector_for(emulator)
        publish(connector, sample_essay("one"), link=f"{LINK}-1")
        with pytest.raises(RateLimited) as caught:
            publish(connector, sample_essay("two"), link=f"{LINK}-2")
    assert caught.value.retry_after == 30
    assert "Rate limit reached" in (caught.value.platform_message or "")


def test_a_lost_answer_then_a_blind_resend_leaves_exactly_one_article(
    server: DevToEmulator,
) -> None:
    """The resend meets the five-minute title rule: the article is found, not failed."""
    connector = connector_for(server)
    draft = DevTo.render(sample_essay(), RenderContext("devto", link=LINK))
    server.inject("drop", method="POST", path=r"^/api/articles$")
    with pytest.raises(InDoubt):
        connector.publish(draft, DevTo.new_key(), MemoryJournal())
    # A fresh journal: nothing says the first attempt began, so the create goes out again.
    remote = connector.publish(draft, DevTo.new_key(), MemoryJournal())
    stored = server.published()
    assert len(stored) == 1
    assert remote.id == str(stored[0]["id"])
    creates = [r for r in server.requests_seen if r.method == "POST"]
    assert len(creates) == 2


def test_a_lost_answer_with_the_journal_is_found_without_a_second_create(
    server: DevToEmulator,
) -> None:
    connector = connector_for(server)
    draft = DevTo.render(sample_essay(), RenderContext("devto", options={"draft": True}, link=LINK))
    journal = MemoryJournal()
    key = DevTo.new_key()
    server.inject("drop", method="POST", path=r"^/api/articles$")
    with pytest.raises(InDoubt):
        connector.publish(draft, key, journal)
    remote = connector.publish(draft, key, journal)
    assert [r.method for r in server.requests_seen].count("POST") == 1
    assert remote.id == str(server.published()[0]["id"])
    assert remote.extra["published"] is False


def test_someone_elses_use_of_the_title_is_a_rejection_with_forems_words(
    server: DevToEmulator,
) -> None:
    connector = connector_for(server)
    publish(connector, sample_essay(), link=f"{LINK}-first")
    with pytest.raises(Rejected) as caught:
        publish(connector, sample_essay(), link=f"{LINK}-second")
    assert "Title has already been used in the last five minutes" in str(
        caught.value.platform_message
    )
    assert len(server.published()) == 1


def test_find_reads_past_the_first_page(server: DevToEmulator) -> None:
    class SmallPages(DevTo):
        lookup_page_size = 1

    connector = connector_for(server)
    first = publish(connector, sample_essay("oldest"), link=f"{LINK}-1")
    publish(connector, sample_essay("newer"), link=f"{LINK}-2")
    small = SmallPages(connector.account)
    draft = DevTo.render(sample_essay("oldest"), RenderContext("devto", link=f"{LINK}-1"))
    found = small.find(DevTo.new_key(), draft)
    assert found is not None and found.id == first.id
    assert (
        small.find(
            DevTo.new_key(),
            DevTo.render(sample_essay("never"), RenderContext("devto", link=f"{LINK}-3")),
        )
        is None
    )


def test_update_edits_the_article_in_place(server: DevToEmulator) -> None:
    connector = connector_for(server)
    remote = publish(connector, sample_essay())
    edited = sample_essay().model_copy(
        update={"blocks": [Paragraph(content=[Run(text="Rewritten.")])]}
    )
    updated = connector.update(remote, DevTo.render(edited, RenderContext("devto", link=LINK)))
    [stored] = server.published()
    assert updated.id == remote.id and updated.url == remote.url
    assert stored["body_markdown"].startswith("Rewritten.")


def test_updating_an_article_that_is_gone_says_what_to_do(server: DevToEmulator) -> None:
    draft = DevTo.render(sample_essay(), RenderContext("devto", link=LINK))
    with pytest.raises(Rejected) as caught:
        connector_for(server).update(Remote(id="424242"), draft)
    assert caught.value.status == 404
    assert "gone" in caught.value.next_step


def test_delete_is_refused_because_forem_has_no_delete() -> None:
    account = Account(name="d", platform="devto", credentials={"api_key": SecretStr(API_KEY)})
    with pytest.raises(Rejected, match="cannot be deleted"):
        DevTo(account).delete(Remote(id="1"))


def test_a_wrong_key_is_auth_expired_with_the_next_step_and_no_key(server: DevToEmulator) -> None:
    wrong = "devto-wrong-key-ZYXWVUTS98765"
    with pytest.raises(AuthExpired) as caught:
        publish(connector_for(server, wrong), sample_essay())
    assert caught.value.platform_message == "unauthorized"
    assert "settings/extensions" in caught.value.next_step
    assert wrong not in str(caught.value) and wrong not in caught.value.next_step
    with pytest.raises(AuthExpired):
        connector_for(server, wrong).verify()


@pytest.mark.parametrize(
    ("status", "body", "headers", "error", "words"),
    [
        (
            422,
            {"error": "Tag list exceed the maximum of 4 tags", "status": 422},
            {},
            Rejected,
            "Tag list exceed the maximum of 4 tags",
        ),
        (429, "Retry later\n", {"Retry-After": "1"}, RateLimited, "Retry later"),
        (
            503,
            {"error": "Service Unavailable", "status": 503},
            {},
            Transient,
            "Service Unavailable",
        ),
        (403, "Forbidden Bots", {}, Rejected, "Forbidden Bots"),
    ],
)
def test_error_answers_map_to_the_family_with_forems_words(
    server: DevToEmulator,
    status: int,
    body: Any,
    headers: dict[str, str],
    error: type[Exception],
    words: str,
) -> None:
    server.inject("status", method="POST", status=status, body=body, headers=headers)
    with pytest.raises(error) as caught:
        publish(connector_for(server), sample_essay())
    assert caught.value.platform_message == words  # type: ignore[attr-defined]
    assert server.published() == []


def test_the_emulator_refuses_what_forem_refuses(server: DevToEmulator) -> None:
    """Guard the guard: sent raw, invalid articles meet Forem's own validation."""

    def post(article: Any) -> requests.Response:
        time.sleep(1.0)  # one write per second
        return requests.post(
            f"{server.base_url}/api/articles",
            json={"article": article},
            headers={"api-key": API_KEY, "Accept": ACCEPT},
            timeout=5,
        )

    not_hash = post("just a string")
    assert not_hash.status_code == 422 and "JSON object" in not_hash.json()["error"]
    too_many = post({"title": "T", "body_markdown": "b", "tags": ["a", "b", "c", "d", "e"]})
    assert too_many.json()["error"] == "Tag list exceed the maximum of 4 tags"
    spaced = post({"title": "T", "body_markdown": "b", "tags": ["open web"]})
    assert "non-alphanumeric" in spaced.json()["error"]
    untitled = post({"body_markdown": "b"})
    assert untitled.json() == {"error": "Title can't be blank", "status": 422}
    assert server.published() == []
