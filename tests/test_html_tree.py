"""The generic HTML converter builds the tree: what nests in the page nests in the essay."""

from __future__ import annotations

from pathlib import Path

from pipeline.document import (
    Code,
    Heading,
    Image,
    InlineImage,
    LineBreak,
    ListBlock,
    NoteRef,
    Paragraph,
    Quote,
    Run,
    Table,
    plain,
)
from pipeline.readers.html import read


def essay(body: str):
    page = f"<html><body><article><h1>Title</h1>{body}</article></body></html>"
    return read(Path("page.html"), page.encode())


def test_list_items_hold_paragraphs_code_quotes_and_lists() -> None:
    (listing,) = essay(
        "<ol start='0'><li><p>Step zero.</p><pre><code class='language-sh'>make\n</code></pre>"
        "<blockquote><p>Careful.</p></blockquote><ul><li>sub</li></ul></li></ol>"
    ).blocks
    assert isinstance(listing, ListBlock) and listing.start == 0 and not listing.tight
    kinds = [type(b) for b in listing.items[0].blocks]
    assert kinds == [Paragraph, Code, Quote, ListBlock]
    assert listing.items[0].blocks[1] == Code(language="sh", text="make")


def test_quotes_nest_and_keep_their_headings() -> None:
    (quote,) = essay(
        "<blockquote><h3>Said</h3><blockquote><p>inner</p></blockquote></blockquote>"
    ).blocks
    assert isinstance(quote, Quote)
    assert isinstance(quote.blocks[0], Heading) and quote.blocks[0].level == 3
    assert quote.blocks[1] == Quote(blocks=[Paragraph(content=[Run(text="inner")])])


def test_tables_keep_header_rows_and_alignment() -> None:
    (table,) = essay(
        "<table><thead><tr><th align='right'>Fare</th><th style='text-align: center'>Route</th>"
        "</tr></thead><tbody><tr><td>€29</td><td><em>Vienna</em>–Rome</td></tr></tbody></table>"
    ).blocks
    assert isinstance(table, Table)
    assert [plain(c.content) for c in table.header] == ["Fare", "Route"]
    assert table.align == ["right", "center"]
    assert table.rows[0][1].content[0] == Run(text="Vienna", marks=("em",))


def test_a_table_without_a_header_row_has_none() -> None:
    (table,) = essay("<table><tr><td>a</td><td>b</td></tr></table>").blocks
    assert isinstance(table, Table) and table.header == [] and len(table.rows) == 1


def test_figures_pictures_and_linked_images() -> None:
    blocks = essay(
        "<figure><a href='https://example.org/big'><picture>"
        "<source srcset='https://example.org/s.webp 400w, https://example.org/l.webp 1200w'>"
        "<img alt='A sleeper' width='600'></picture></a>"
        "<figcaption>Berth 42</figcaption></figure>"
    ).blocks
    assert blocks == [
        Image(
            src="https://example.org/l.webp",
            alt="A sleeper",
            caption="Berth 42",
            href="https://example.org/big",
            width=600,
        )
    ]


def test_images_in_running_text_stay_inline() -> None:
    (paragraph,) = essay("<p>Look <img src='https://example.org/i.png' alt='icon'> here</p>").blocks
    assert paragraph.content == [
        Run(text="Look "),
        InlineImage(src="https://example.org/i.png", alt="icon"),
        Run(text=" here"),
    ]


def test_breaks_and_marks() -> None:
    (paragraph,) = essay(
        "<p>H<sub>2</sub>O and x<sup>2</sup><br><del>old</del> <s>price</s></p>"
    ).blocks
    assert paragraph.content == [
        Run(text="H"),
        Run(text="2", marks=("sub",)),
        Run(text="O and x"),
        Run(text="2", marks=("sup",)),
        LineBreak(),
        Run(text="old", marks=("strike",)),
        Run(text=" "),
        Run(text="price", marks=("strike",)),
    ]


def test_task_list_checkboxes_become_checked_items() -> None:
    (listing,) = essay(
        "<ul><li><input type='checkbox' checked disabled> done</li>"
        "<li><input type='checkbox'> open</li></ul>"
    ).blocks
    assert [item.checked for item in listing.items] == [True, False]
    assert [plain(item.content) for item in listing.items] == ["done", "open"]


def test_hrefs_from_html_are_percent_encoded() -> None:
    (paragraph,) = essay('<p><a href="https://example.org/a b|c">x</a></p>').blocks
    assert paragraph.content[0].href == "https://example.org/a%20b%7Cc"


def test_footnotes_in_the_blog_convention_are_read_back() -> None:
    result = essay(
        '<p>Trains<sup class="footnote-ref" id="fnref-a"><a href="#fn-a">1</a></sup>.</p>'
        '<section class="footnotes"><ol><li id="fn-a"><p>Since 1830. '
        '<a href="#fnref-a" class="footnote-back">↩</a></p></li></ol></section>'
    )
    assert result.blocks[0].content == [Run(text="Trains"), NoteRef(label="a"), Run(text=".")]
    assert [(n.label, [plain(b.content) for b in n.blocks]) for n in result.footnotes] == [
        ("a", ["Since 1830."])
    ]


def test_footnotes_as_github_and_pandoc_write_them() -> None:
    github = essay(
        '<p>A<sup><a href="#user-content-fn-1" id="user-content-fnref-1" data-footnote-ref>1'
        '</a></sup></p><section data-footnotes class="footnotes"><ol>'
        '<li id="user-content-fn-1"><p>Note. <a href="#user-content-fnref-1" '
        'data-footnote-backref class="data-footnote-backref">↩</a></p></li></ol></section>'
    )
    pandoc = essay(
        '<p>A<a href="#fn1" class="footnote-ref" id="fnref1" role="doc-noteref"><sup>1</sup></a>'
        '</p><section id="footnotes" class="footnotes" role="doc-endnotes"><ol>'
        '<li id="fn1"><p>Note.<a href="#fnref1" class="footnote-back" role="doc-backlink">↩'
        "</a></p></li></ol></section>"
    )
    for result in (github, pandoc):
        assert result.blocks[0].content == [Run(text="A"), NoteRef(label="1")]
        assert [plain(b.content) for b in result.footnotes[0].blocks] == ["Note."]


def test_scripts_go_but_the_words_a_writer_put_in_a_div_stay() -> None:
    blocks = essay("<div>Kept words<script>evil()</script><style>p{}</style></div>").blocks
    assert [plain(b.content) for b in blocks] == ["Kept words"]
