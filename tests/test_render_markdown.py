"""Markdown output parses back (with markdown-it, CommonMark) to the text the author wrote."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from pipeline.document import (
    Block,
    Code,
    Heading,
    Image,
    ListBlock,
    ListItem,
    Paragraph,
    Quote,
    Run,
    plain,
)
from pipeline.readers.raw_html import trim
from pipeline.render.markdown import code_span, render_markdown

MD = MarkdownIt("commonmark")


# --- reading Markdown back into per-block text -------------------------------------------


def inline_text(token: Token) -> str:
    out = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type == "hardbreak":
            out.append("\n")
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "image":
            out.append(child.content)
    return "".join(out)


def parsed_blocks(markdown: str) -> list[tuple[str, object]]:
    """(kind, text) per top-level block; a list gives the texts of all its items in order."""
    tokens = MD.parse(markdown)
    blocks: list[tuple[str, object]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type in ("heading_open", "paragraph_open"):
            kind = token.type.removesuffix("_open")
            blocks.append((kind, inline_text(tokens[i + 1])))
            i += 3
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            depth, items, j = 0, [], i
            while True:
                t = tokens[j]
                depth += (
                    t.nesting
                    if t.type.endswith("list_open") or t.type.endswith("list_close")
                    else 0
                )
                if t.type == "list_item_open":
                    items.append("")  # an item with no paragraph is an empty item
                if t.type == "inline":
                    items[-1] = inline_text(t)
                if depth == 0:
                    break
                j += 1
            blocks.append(("list", items))
            i = j + 1
        elif token.type == "blockquote_open":
            depth, paragraphs, j = 0, [], i
            while True:
                t = tokens[j]
                if t.type in ("blockquote_open", "blockquote_close"):
                    depth += t.nesting
                if t.type == "inline":
                    paragraphs.append(inline_text(t))
                if depth == 0:
                    break
                j += 1
            blocks.append(("quote", "\n".join(paragraphs)))
            i = j + 1
        elif token.type == "fence":
            blocks.append(("code", (token.info, token.content)))
            i += 1
        else:
            blocks.append((token.type, None))
            i += 1
    return blocks


def shown(content: list) -> str:
    """A paragraph's text as Markdown shows it: blank edges go, a code span's spaces stay."""
    return plain(trim(content))


def item_texts(block: ListBlock) -> list[str]:
    texts: list[str] = []
    for item in block.items:
        texts.append(shown(item.content))
        for child in item.children:
            texts.extend(item_texts(child))
    return texts


def expected_blocks(blocks: list[Block]) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(("heading", shown(block.content).replace("\n", " ").strip()))
        elif isinstance(block, Paragraph):
            out.append(("paragraph", shown(block.content)))
        elif isinstance(block, ListBlock):
            out.append(("list", item_texts(block)))
        elif isinstance(block, Quote):
            out.append(("quote", "\n".join(shown(p) for p in block.paragraphs)))
    return out


# --- strategies -------------------------------------------------------------------------

SPECIALS = "*_[]`#>+-=!&<\\~()|.1 "
fragment = st.one_of(
    st.sampled_from([*SPECIALS, "&amp;", "&#42;", "1.", "\n", "**", "__", "日本", "😀"]),
    st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]),
)
text = st.lists(fragment, min_size=1, max_size=10).map("".join).filter(lambda s: s.strip())
marks = st.lists(st.sampled_from(["strong", "em", "code"]), max_size=3, unique=True).map(tuple)
hrefs = st.one_of(
    st.none(), st.sampled_from(["https://example.com/a_(b)", "https://ex.com/?q=1&amp;r=2"])
)
runs = st.builds(Run, text=text, marks=marks, href=hrefs)
inline = st.lists(runs, min_size=1, max_size=5).filter(
    lambda rs: "".join(r.text for r in rs).strip()
)


def list_blocks(depth: int) -> st.SearchStrategy[ListBlock]:
    children = st.just([]) if depth == 0 else st.lists(list_blocks(depth - 1), max_size=1)
    items = st.builds(ListItem, content=inline, children=children)
    return st.builds(
        ListBlock,
        ordered=st.booleans(),
        start=st.integers(0, 12),
        items=st.lists(items, min_size=1, max_size=3),
    )


blocks = st.lists(
    st.one_of(
        st.builds(Paragraph, content=inline),
        st.builds(Heading, level=st.integers(1, 6), content=inline),
        list_blocks(2),
        st.builds(Quote, paragraphs=st.lists(inline, min_size=1, max_size=2)),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks)
def test_every_block_parses_back_to_the_same_text(document: list[Block]) -> None:
    markdown = render_markdown(document)
    assert parsed_blocks(markdown) == expected_blocks(document), markdown


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("`a ")), min_size=1, max_size=10).filter(
        lambda s: s.strip()
    )
)
def test_code_spans_survive_any_backticks(code: str) -> None:
    tokens = MD.parseInline(code_span(code))[0].children or []
    assert [t.type for t in tokens] == ["code_inline"]
    assert tokens[0].content == code


# --- examples a reader would check ------------------------------------------------------


def test_markdown_specials_in_text_stay_text() -> None:
    source = "# not a heading *not em* _nor this_ [no](link) `no code` 1. <b>no html</b> &amp;"
    markdown = render_markdown([Paragraph(content=[Run(text=source)])])
    assert parsed_blocks(markdown) == [("paragraph", source)]
    assert MD.render(markdown).count("<") == 2  # only <p> and </p>


def test_marks_and_links_use_commonmark_syntax() -> None:
    markdown = render_markdown(
        [
            Paragraph(
                content=[
                    Run(text="bold", marks=("strong",)),
                    Run(text=" and "),
                    Run(text="italic", marks=("em",)),
                    Run(text=" and "),
                    Run(text="code", marks=("code",)),
                    Run(text=" and "),
                    Run(text="a link", href="https://en.wikipedia.org/wiki/Foo_(bar)"),
                ]
            )
        ]
    )
    assert markdown == (
        "**bold** and *italic* and `code` and [a link](https://en.wikipedia.org/wiki/Foo_\\(bar\\))\n"
    )
    html = MD.render(markdown)
    assert '<a href="https://en.wikipedia.org/wiki/Foo_(bar)">a link</a>' in html


def test_whitespace_stays_outside_emphasis_delimiters() -> None:
    markdown = render_markdown(
        [Paragraph(content=[Run(text="a"), Run(text=" bold ", marks=("strong",)), Run(text="b")])]
    )
    assert markdown == "a **bold** b\n"


def test_emphasis_that_cannot_parse_is_dropped_not_left_as_asterisks() -> None:
    # `a**"b"**c` is not strong in CommonMark (flanking rules), so the text goes plain.
    document = [
        Paragraph(content=[Run(text="a"), Run(text='"b"', marks=("strong",)), Run(text="c")])
    ]
    markdown = render_markdown(document)
    assert markdown == 'a"b"c\n'


def test_nested_lists_indent_by_marker_width() -> None:
    document = [
        ListBlock(
            ordered=True,
            start=9,
            items=[
                ListItem(content=[Run(text="nine")]),
                ListItem(
                    content=[Run(text="ten")],
                    children=[
                        ListBlock(
                            items=[
                                ListItem(
                                    content=[Run(text="deep")],
                                    children=[
                                        ListBlock(
                                            ordered=True,
                                            items=[ListItem(content=[Run(text="deeper")])],
                                        )
                                    ],
                                )
                            ]
                        )
                    ],
                ),
            ],
        )
    ]
    assert render_markdown(document) == "9. nine\n10. ten\n    - deep\n      1. deeper\n"
    html = MD.render(render_markdown(document))
    assert html.count("<ol") == 2 and html.count("<ul>") == 1


def test_adjacent_lists_of_the_same_kind_stay_separate() -> None:
    one = ListBlock(items=[ListItem(content=[Run(text="one")])])
    two = ListBlock(items=[ListItem(content=[Run(text="two")])])
    assert MD.render(render_markdown([one, two])).count("<ul>") == 2


def test_fence_is_longer_than_any_backtick_run_in_the_code() -> None:
    code = Code(language="markdown", text="```python\nprint(1)\n```\n")
    markdown = render_markdown([code])
    assert markdown.startswith("````markdown\n")
    # the essay keeps code without its last line's newline; Markdown adds it back
    assert parsed_blocks(markdown) == [("code", ("markdown", code.text + "\n"))]


def test_image_with_caption_becomes_title() -> None:
    markdown = render_markdown(
        [Image(src="https://x.example/a (1).png", alt="An [odd] alt", caption='Say "hi"')]
    )
    token = MD.parseInline(markdown.strip())[0].children[0]
    assert token.type == "image"
    assert token.attrs["src"] == "https://x.example/a%20(1).png"
    assert "".join(child.content for child in token.children or []) == "An [odd] alt"
    assert token.attrs["title"] == 'Say "hi"'


def test_entity_like_text_in_urls_is_not_decoded() -> None:
    markdown = render_markdown(
        [Paragraph(content=[Run(text="q", href="https://x.example/?a=1&amp;b=2")])]
    )
    link = MD.parseInline(markdown.strip())[0].children[0]
    assert link.attrs["href"] == "https://x.example/?a=1&amp;b=2"


def test_unsafe_links_render_as_plain_text() -> None:
    markdown = render_markdown([Paragraph(content=[Run(text="click", href="javascript:alert(1)")])])
    assert markdown == "click\n"


_RUN_TEXT = st.text(
    alphabet=st.sampled_from(list("ab1 :.,!?\"'()*_[]-—é東😀")), min_size=1, max_size=8
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            _RUN_TEXT,
            st.sampled_from([(), ("strong",), ("em",), ("strong", "em"), ("code",)]),
            st.sampled_from([None, None, "https://example.org/x"]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_the_fast_path_only_skips_the_parse_back_when_it_would_agree(runs: list) -> None:
    from pipeline.render.markdown import _chars, _inline, _parsed_chars, _plainly_safe, _strip_ends

    content = _strip_ends([Run(text=t, marks=m, href=h) for t, m, h in runs])
    if content and _plainly_safe(content):
        assert _chars(content) == _parsed_chars(_inline(content, emphasis=True))
