"""GitHub-flavoured Markdown, written from the GFM spec's rules, through the path essays take.

Each example is read as an essay, published as the WordPress body (sanitised HTML) and
written back as Markdown for dev.to, which must read back as the same tree.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors import connector_class
from connectors.base import RenderContext
from pipeline.document import (
    Essay,
    ListBlock,
    NoteRef,
    Paragraph,
    Run,
    Table,
    plain,
)
from pipeline.readers.markdown import read
from pipeline.render.markdown import render_markdown


def essay(body: str) -> Essay:
    return read(Path("gfm.md"), f"---\ntitle: GFM\n---\n{body}".encode())


def published(body: str) -> str:
    cls = connector_class("wordpress")
    ctx = RenderContext(target="wordpress", options={}, link="https://x")
    return cls.render(essay(body), ctx).posts[0].request["content"]


def round_trips(body: str) -> None:
    first = essay(body)
    written = render_markdown([*first.blocks, *first.promo], first.footnotes)
    again = essay(written)
    assert ([*again.blocks, *again.promo], again.footnotes) == (
        [*first.blocks, *first.promo],
        first.footnotes,
    ), written


# --- tables ---------------------------------------------------------------------------

TABLE = """\
| Train | From | Berths |
|:------|:----:|-------:|
| Nightjet | Vienna | 6 |
| Caledonian \\| Sleeper | London | `2` |
"""


def test_a_table_has_a_header_row_body_rows_and_column_alignment() -> None:
    (table,) = essay(TABLE).blocks
    assert isinstance(table, Table)
    assert [plain(c.content) for c in table.header] == ["Train", "From", "Berths"]
    assert [[plain(c.content) for c in row] for row in table.rows] == [
        ["Nightjet", "Vienna", "6"],
        ["Caledonian | Sleeper", "London", "2"],
    ]
    assert table.align == ["left", "center", "right"]
    html = published(TABLE)
    assert html.startswith("<table><thead><tr><th")
    assert '<td style="text-align: right"><code>2</code></td>' in html
    round_trips(TABLE)


def test_a_row_with_fewer_cells_is_padded_and_extra_cells_are_ignored() -> None:
    (table,) = essay("| a | b |\n|---|---|\n| 1 |\n| 1 | 2 | 3 |\n").blocks
    assert isinstance(table, Table)
    assert [[plain(c.content) for c in row] for row in table.rows] == [["1", ""], ["1", "2"]]


def test_a_delimiter_row_that_does_not_match_the_header_is_no_table() -> None:
    blocks = essay("| a | b |\n|---|\n| 1 | 2 |\n").blocks
    assert not any(isinstance(b, Table) for b in blocks)


def test_a_blank_line_ends_the_table() -> None:
    blocks = essay("| a |\n|---|\n| 1 |\n\nafter\n").blocks
    assert [type(b) for b in blocks] == [Table, Paragraph]


# --- strikethrough ----------------------------------------------------------------------


def test_tildes_strike_text_through() -> None:
    (paragraph,) = essay("Fares ~~rose~~ fell.\n").blocks
    assert Run(text="rose", marks=("strike",)) in paragraph.content
    assert "<del>rose</del>" in published("Fares ~~rose~~ fell.\n")
    round_trips("Fares ~~rose~~ fell, **~~twice~~**.\n")


def test_strikethrough_does_not_span_paragraphs() -> None:
    blocks = essay("~~one\n\ntwo~~\n").blocks
    assert [plain(b.content) for b in blocks] == ["~~one", "two~~"]


# --- autolinks (extended) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "text", "href"),
    [
        ("See www.example.org/path today.", "www.example.org/path", "http://www.example.org/path"),
        ("Visit www.example.org.", "www.example.org", "http://www.example.org"),
        ("(https://example.org/a_(b))", "https://example.org/a_(b)", "https://example.org/a_(b)"),
        ("See www.example.org/a?q=b&hl; now", "www.example.org/a?q=b", None),
        ("Mail ana.ruiz+trains@example.org now", "ana.ruiz+trains@example.org", "mailto:"),
    ],
)
def test_bare_urls_and_addresses_become_links(source: str, text: str, href: str | None) -> None:
    (paragraph,) = essay(source + "\n").blocks
    links = [run for run in paragraph.content if run.href]
    assert [run.text for run in links] == [text]
    assert links[0].href == (href if href != "mailto:" else "mailto:" + text) or href is None
    round_trips(source + "\n")


@pytest.mark.parametrize(
    "source",
    [
        "www.exa_mple.org/x has an underscore in its last labels",
        "an address ending in a dash: ana@example-",
        "mywww.example.org is not at a word start",
        "`www.example.org` in code stays code",
    ],
)
def test_what_the_rules_exclude_is_not_linked(source: str) -> None:
    (paragraph,) = essay(source + "\n").blocks
    assert all(run.href is None for run in paragraph.content)


def test_an_autolink_inside_a_link_is_not_linked_again() -> None:
    (paragraph,) = essay("[see www.example.org](https://other.example)\n").blocks
    assert {run.href for run in paragraph.content} == {"https://other.example"}


# --- task lists ---------------------------------------------------------------------------


def test_task_list_items_are_checked_or_open() -> None:
    source = "- [x] book the couchette\n- [ ] pack earplugs\n- [X] print tickets\n- plain\n"
    (listing,) = essay(source).blocks
    assert isinstance(listing, ListBlock)
    assert [item.checked for item in listing.items] == [True, False, True, None]
    assert plain(listing.items[0].content) == "book the couchette"
    html = published(source)
    assert '<li><input type="checkbox" disabled="" checked=""> book the couchette</li>' in html
    assert '<li><input type="checkbox" disabled=""> pack earplugs</li>' in html
    round_trips(source)


# --- footnotes ----------------------------------------------------------------------------

NOTES = """\
Night trains came back[^back] in 2016, and the fares[^Fares] followed.

Again the return[^back].

[^fares]: Cheaper than flying on most routes.

    With a second paragraph.
[^back]: After a decade of cuts.
[^unused]: Nobody cites this one.
"""


def test_footnotes_are_kept_in_order_of_first_reference() -> None:
    result = essay(NOTES)
    assert [note.label for note in result.footnotes] == ["back", "fares"]
    assert [len(note.blocks) for note in result.footnotes] == [1, 2]
    refs = [n for b in result.blocks for n in b.content if isinstance(n, NoteRef)]
    assert [r.label for r in refs] == ["back", "fares", "back"]


def test_footnotes_publish_as_numbered_references_and_a_notes_section() -> None:
    html = published(NOTES)
    assert '<sup class="footnote-ref" id="fnref-back"><a href="#fn-back">1</a></sup>' in html
    assert '<sup class="footnote-ref" id="fnref-fares"><a href="#fn-fares">2</a></sup>' in html
    assert 'id="fnref-back-2"' in html  # a second reference gets an id of its own
    assert html.endswith(
        '<section class="footnotes"><ol><li id="fn-back"><p>After a decade of cuts. '
        '<a href="#fnref-back" class="footnote-back">↩</a></p></li>'
        '<li id="fn-fares"><p>Cheaper than flying on most routes.</p><p>With a second '
        'paragraph. <a href="#fnref-fares" class="footnote-back">↩</a></p></li></ol></section>'
    )
    assert "Nobody cites" not in html
    round_trips(NOTES)


def test_a_reference_without_a_note_stays_text() -> None:
    (paragraph,) = essay("A claim[^nowhere].\n").blocks
    assert plain(paragraph.content) == "A claim[^nowhere]."


def test_a_promo_followed_by_footnote_definitions_is_still_the_promo() -> None:
    result = essay(
        "Body with a note[^1].\n\n"
        "If you enjoyed this, [support me on Patreon](https://www.patreon.com/x).\n\n"
        "[^1]: The note.\n"
    )
    assert [plain(b.content) for b in result.blocks] == ["Body with a note."]
    assert len(result.promo) == 1 and [n.label for n in result.footnotes] == ["1"]
