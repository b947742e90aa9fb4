"""The HTML reader: Medium's export and generic article pages, safely."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.document import (
    Block,
    Code,
    Essay,
    Heading,
    Image,
    ListBlock,
    Paragraph,
    Quote,
    Rule,
    Run,
    block_text,
    list_item_texts,
    plain,
)
from pipeline.errors import ReadError
from pipeline.readers import html, read_bytes
from pipeline.readers.html_blocks import safe_href, safe_src
from tests.golden_helpers import check_golden

GOLDEN = Path(__file__).parent / "golden" / "html"
INPUTS = sorted(GOLDEN.glob("*.html"))


@cache  # parsed once per run; tests only read the essay
def read_fixture(name: str) -> Essay:
    path = GOLDEN / name
    return html.read(path, path.read_bytes())


def read_text(text: str, name: str = "page.html") -> Essay:
    return html.read(Path(name), text.encode("utf-8"))


def all_text(essay: Essay) -> str:
    return "\n".join(block_text(b) for b in [*essay.blocks, *essay.promo])


def test_there_are_golden_inputs_beyond_the_corpus() -> None:
    assert len(INPUTS) >= 6


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.stem)
def test_html_matches_golden_essay(path: Path) -> None:
    essay = html.read(path, path.read_bytes())
    check_golden(essay.model_dump_json(indent=2), path.with_suffix(".essay.json"))


# Medium export (corpus)


def test_medium_export_title_appears_once_and_not_as_first_block() -> None:
    essay = read_fixture("medium-export-night-trains.html")
    title = "Night Trains Are Back, and They Are Not Nostalgia"
    assert essay.title == title
    assert title not in all_text(essay)
    assert isinstance(essay.blocks[0], Paragraph)
    assert plain(essay.blocks[0].content).startswith("Ten years ago")


def test_medium_export_metadata_comes_from_the_footer() -> None:
    essay = read_fixture("medium-export-night-trains.html")
    assert essay.subtitle == (
        "A sleeper berth is the cheapest hotel room in Europe, if you count properly"
    )
    assert essay.author == "Jonas Weber"
    assert essay.published == date(2025, 1, 12)
    assert essay.canonical_url == (
        "https://medium.com/@railnotes/night-trains-are-back-0a1b2c3d4e5f"
    )
    assert essay.source_format == "medium-export"


def test_medium_export_list_items_open_with_strong_lead_ins() -> None:
    essay = read_fixture("medium-export-night-trains.html")
    lists = [b for b in essay.blocks if isinstance(b, ListBlock)]
    assert len(lists) == 1
    assert not lists[0].ordered
    items = lists[0].items
    assert [item.content[0].text for item in items] == ["Door to door:", "Sleep included:"]
    assert all(item.content[0].marks == ("strong",) for item in items)
    fares = [run for run in items[1].content if run.href]
    assert [(r.text, r.href) for r in fares] == [("here", "https://example.org/fares")]


def test_medium_export_section_heading_is_level_two() -> None:
    essay = read_fixture("medium-export-night-trains.html")
    headings = [b for b in essay.blocks if isinstance(b, Heading)]
    assert [(h.level, plain(h.content)) for h in headings] == [(2, "1. Count the Hotel Night")]


def test_medium_export_patreon_paragraph_is_promo_not_body() -> None:
    essay = read_fixture("medium-export-night-trains.html")
    assert len(essay.promo) == 1
    links = [run.href for run in essay.promo[0].content if run.href]
    assert links == ["https://www.patreon.com/railnotes"]
    assert "Patreon" not in "\n".join(block_text(b) for b in essay.blocks)


# Medium export (figure, pullquote, code, card, sections)


def test_medium_figure_keeps_image_and_caption_and_drops_repeated_subtitle() -> None:
    essay = read_fixture("medium-export-figure-pullquote.html")
    assert essay.subtitle == "Mechanical interlocking, and why it still works"
    assert essay.subtitle not in all_text(essay)
    image = essay.blocks[0]
    assert isinstance(image, Image)
    assert image.src == "https://cdn-images-1.medium.com/max/800/1*AbCdEf.jpeg"
    assert image.caption == "The lever frame at Hexham, 1990."


def test_medium_pullquote_blockquote_pre_and_h4_keep_their_kinds() -> None:
    essay = read_fixture("medium-export-figure-pullquote.html")
    quotes = [block_text(b) for b in essay.blocks if isinstance(b, Quote)]
    assert quotes[0] == "Iron does not crash. It only refuses."
    assert quotes[1].startswith("“We trusted the frame")
    code = next(b for b in essay.blocks if isinstance(b, Code))
    assert code.text == "lever 3 -> locks 5, 7\nlever 5 -> free"
    heading = next(b for b in essay.blocks if isinstance(b, Heading))
    assert (heading.level, plain(heading.content)) == (3, "How a lever is locked")
    ordered = next(b for b in essay.blocks if isinstance(b, ListBlock))
    assert ordered.ordered and len(ordered.items) == 2


def test_medium_second_section_starts_after_a_rule_and_card_is_a_link() -> None:
    essay = read_fixture("medium-export-figure-pullquote.html")
    kinds = [b.type for b in essay.blocks]
    assert kinds.count("rule") == 1
    after_rule = essay.blocks[kinds.index("rule") + 1 :]
    assert [block_text(b) for b in after_rule] == ["Further reading:", "Interlocking explained"]
    card = after_rule[1]
    assert isinstance(card, Paragraph)
    assert card.content[0].href == "https://railnotes.example/interlocking"


def test_medium_inline_code_mark_survives() -> None:
    essay = read_fixture("medium-export-figure-pullquote.html")
    runs = [r for b in essay.blocks if isinstance(b, Paragraph) for r in b.content]
    assert any(r.text == "lever frame" and r.marks == ("code",) for r in runs)


# Generic HTML


def test_generic_article_metadata_from_head() -> None:
    essay = read_fixture("generic-article.html")
    assert essay.title == "Packing for Long Train Trips"
    assert essay.subtitle == "A checklist that fits on one page"
    assert essay.author == "Mira Okafor"
    assert essay.published == date(2024, 10, 5)
    assert essay.tags == ["travel", "packing", "checklists", "trains"]
    assert essay.canonical_url == "https://railnotes.example/packing-for-long-trips/"
    assert essay.language == "en"
    assert "Packing for Long Train Trips" not in all_text(essay)


def test_generic_article_ignores_site_header_and_footer_outside_article() -> None:
    text = all_text(read_fixture("generic-article.html"))
    assert "Rail Notes" not in text
    assert "About" not in text
    assert "©" not in text


def test_nested_lists_keep_their_depth() -> None:
    essay = read_fixture("generic-article.html")
    outer = next(b for b in essay.blocks if isinstance(b, ListBlock))
    assert [plain(i.content) for i in outer.items] == [
        "Food: more than you think.",
        "A travel pillow",
    ]
    fruit = outer.items[0].children[0]
    assert [plain(i.content) for i in fruit.items] == [
        "Bread and cheese",
        "Fruit that does not bruise",
    ]
    kinds = fruit.items[1].children[0]
    assert kinds.ordered and list_item_texts(kinds) == ["apples", "oranges"]


def test_ordered_list_start_and_loose_items() -> None:
    essay = read_fixture("generic-article.html")
    ordered = [b for b in essay.blocks if isinstance(b, ListBlock) and b.ordered]
    assert ordered[0].start == 3
    first = ordered[0].items[0]
    # a loose item keeps its paragraphs as paragraphs of its own
    assert [plain(b.content) for b in first.blocks] == [
        "Third step, written loose.",
        "With a second line.",
    ]
    assert not ordered[0].tight


def test_code_block_keeps_language_and_exact_text() -> None:
    code = next(b for b in read_fixture("generic-article.html").blocks if isinstance(b, Code))
    assert code.language == "python"
    assert code.text.splitlines() == [
        "for train in board.departures():",
        "    if train.delayed:",
        '        print(train.number, "<late>")',
    ]


def test_inline_marks_nest_and_links_stay_links() -> None:
    first = read_fixture("generic-article.html").blocks[0]
    assert isinstance(first, Paragraph)
    marked = {(r.text, r.marks) for r in first.content if r.marks}
    assert ("flights", ("em",)) in marked
    assert ("real food", ("strong", "em")) in marked
    assert ("luggage rack", ("code",)) in marked
    links = [(r.text, r.href) for r in first.content if r.href]
    assert links == [("carrier rules", "https://railnotes.example/rules")]


def test_figure_image_rule_and_line_break() -> None:
    blocks = read_fixture("generic-article.html").blocks
    images = [b for b in blocks if isinstance(b, Image)]
    assert [(i.src, i.alt, i.caption) for i in images] == [
        ("https://railnotes.example/img/rack.jpg", "A full luggage rack", "What not to do."),
        ("/img/ticket.png", "Ticket", ""),
    ]
    assert any(isinstance(b, Rule) for b in blocks)
    assert "Line one\nline two" in [block_text(b) for b in blocks]


def test_generic_ko_fi_call_to_action_is_promo() -> None:
    essay = read_fixture("generic-article.html")
    assert [block_text(b) for b in essay.promo] == ["Enjoyed this? Buy me a coffee on Ko-fi."]


def test_page_without_article_reads_body_without_site_chrome() -> None:
    essay = read_fixture("no-article.html")
    assert essay.title == "Notes on Waiting Rooms"  # from <title>: there is no h1
    assert essay.author == "Sam Reyes"
    texts = [block_text(b) for b in essay.blocks]
    assert texts[:2] == [
        "Waiting rooms are the last public living rooms.",
        "Nobody asks you to buy anything.",
    ]
    assert "Some are warm,\nsome are not." in texts
    joined = "\n".join(texts)
    for chrome in ("My Blog", "Archive", "Popular posts", "Copyright"):
        assert chrome not in joined


def test_cjk_and_emoji_survive_exactly() -> None:
    essay = read_fixture("cjk-emoji.html")
    assert essay.title == "夜行列車の旅 🚆"
    assert essay.language == "ja"
    assert essay.tags == ["鉄道", "旅行", "🚆"]
    text = all_text(essay)
    assert "寝台列車は最高のホテルです。😴💤 本当に！" in text
    assert "👨\u200d👩\u200d👧" in text and "🇯🇵" in text and "café" in text


# Hostile input


def test_hostile_html_leaves_no_code_handlers_frames_or_unsafe_links() -> None:
    essay = read_fixture("hostile.html")
    dumped = essay.model_dump_json().lower()
    for word in ("script", "onerror", "onclick", "javascript:", "iframe", "vbscript", "data:"):
        assert word not in dumped, word
    for leaked in ("alert", "evil.example", "password", "turn on js", "never shown", "vector"):
        assert leaked not in dumped, leaked


def test_hostile_html_keeps_the_words_of_unsafe_links_and_the_safe_links() -> None:
    essay = read_fixture("hostile.html")
    texts = [block_text(b) for b in essay.blocks]
    assert texts[0] == "First paragraph, a link that runs code and a disguised one."
    hrefs = [r.href for b in essay.blocks if isinstance(b, Paragraph) for r in b.content if r.href]
    assert hrefs == ["https://good.example/page", "mailto:author@example.org"]


def test_text_that_mentions_tags_is_kept_as_text() -> None:
    essay = read_text("<article><h1>On XSS</h1><p>Never trust &lt;script&gt; tags.</p></article>")
    assert block_text(essay.blocks[0]) == "Never trust <script> tags."


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "\x01javascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,hi",
        "file:///etc/passwd",
        "",
    ],
)
def test_unsafe_hrefs_are_refused(href: str) -> None:
    assert safe_href(href) is None


@pytest.mark.parametrize(
    "href",
    [
        "https://a.example/x?y=1",
        "http://a.example",
        "mailto:me@a.example",
        "/path",
        "#part",
        "../up",
    ],
)
def test_safe_hrefs_are_kept(href: str) -> None:
    assert safe_href(href) == href


def test_image_sources_allow_only_web_urls() -> None:
    assert safe_src("https://a.example/i.png") == "https://a.example/i.png"
    assert safe_src("img/i.png") == "img/i.png"
    assert safe_src("mailto:me@a.example") is None
    assert safe_src("data:image/png;base64,AAAA") is None


def test_title_falls_back_to_title_element_and_h1_in_body_is_not_repeated() -> None:
    essay = read_text(
        "<html><head><title>Only Title</title></head><body><p>Text.</p></body></html>"
    )
    assert essay.title == "Only Title"
    essay = read_text("<main><h1>Main Title</h1><h2>Part</h2><p>Text.</p></main>")
    assert essay.title == "Main Title"
    assert [b.type for b in essay.blocks] == ["heading", "paragraph"]


def test_tracking_pixel_is_not_an_image() -> None:
    essay = read_text(
        "<article><h1>T</h1><p>x</p>"
        '<img src="https://t.example/p.gif" width="1" height="1"></article>'
    )
    assert essay.images() == []


def test_invalid_utf8_is_a_read_error() -> None:
    with pytest.raises(ReadError, match="UTF-8"):
        html.read(Path("bad.html"), b"<html><body><p>caf\xe9</p></body></html>")


def test_page_declaring_windows_1252_is_decoded_with_that_charset() -> None:
    page = '<html><head><meta charset="windows-1252"><title>Caf\xe9</title></head>'
    page += "<body><p>Na\xefve \x93quotes\x94</p></body></html>"
    essay = html.read(Path("old.html"), page.encode("latin-1"))
    assert essay.title == "Café"
    assert block_text(essay.blocks[0]) == "Naïve “quotes”"


def test_dispatch_sends_html_files_to_this_reader() -> None:
    path = GOLDEN / "medium-export-night-trains.html"
    assert read_bytes(path, path.read_bytes()) == read_fixture(path.name)


def test_absurdly_deep_nesting_is_a_read_error_not_a_crash() -> None:
    page = "<html><body><h1>T</h1>" + "<div>" * 5000 + "deep" + "</div>" * 5000 + "</body></html>"
    with pytest.raises(ReadError, match=r"nested 500\d elements deep"):
        read_text(page)


def every_run(blocks: list[Block]) -> list[Run]:
    runs: list[Run] = []
    for block in blocks:
        if isinstance(block, Paragraph | Heading):
            runs.extend(block.content)
        elif isinstance(block, Quote):
            runs.extend(run for paragraph in block.paragraphs for run in paragraph)
        elif isinstance(block, ListBlock):
            for item in block.items:
                runs.extend(item.content)
                runs.extend(every_run(list(item.children)))
    return runs


FUZZ_TAGS = [
    *("p", "div", "span", "a", "b", "em", "code", "pre", "ul", "ol", "li", "blockquote"),
    *("h1", "h2", "h4", "img", "figure", "figcaption", "br", "hr", "table", "tr", "td"),
    *("script", "iframe", "style", "svg", "form"),
]
FUZZ_ATTRS = st.sampled_from(
    [
        "",
        'href="javascript:alert(1)"',
        'href=" java\tscript:alert(1)"',
        'href="https://ok.example/"',
        'href="/relative"',
        'src="javascript:alert(1)"',
        'src="data:image/png;base64,AA"',
        'src="/i.png"',
        'onerror="alert(1)"',
        'class="language-py"',
        'width="1" height="1" src="/pixel.gif"',
    ]
)
FUZZ_TEXT = st.text(alphabet="ab <>&é😀\n", max_size=6).map(
    lambda t: t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
)
FUZZ_HTML = st.recursive(
    FUZZ_TEXT,
    lambda inner: st.builds(
        lambda tag, attr, kids: f"<{tag} {attr}>{''.join(kids)}</{tag}>",
        st.sampled_from(FUZZ_TAGS),
        FUZZ_ATTRS,
        st.lists(inner, max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(FUZZ_HTML)
def test_any_html_becomes_an_essay_with_only_safe_links_and_images(fragment: str) -> None:
    essay = read_text(f"<html><body><h1>T</h1>{fragment}</body></html>")
    hrefs = {run.href for run in every_run(essay.blocks + essay.promo) if run.href}
    assert hrefs <= {"https://ok.example/", "/relative"}
    assert {image.src for image in essay.images()} <= {"/i.png"}
    assert "alert" not in essay.model_dump_json()
