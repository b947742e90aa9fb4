"""HTML output: semantic, escaped, and sanitised."""

from __future__ import annotations

from html.parser import HTMLParser

from pipeline.document import Code, Image, ListBlock, ListItem, Paragraph, Quote, Run
from pipeline.render.html import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, render_html, sanitize_html

HOSTILE = [
    Paragraph(
        content=[
            Run(text="<script>alert(1)</script>"),
            Run(text="click", href="javascript:alert(1)"),
            Run(text="also", href=" jAvAsCrIpT:alert(1)"),
            Run(text="data", href="data:text/html;base64,PHNjcmlwdD4="),
            Run(text="quote", href='https://example.com/"onmouseover="alert(1)'),
        ]
    ),
    Image(src="javascript:alert(1)", alt='"><script>alert(1)</script>'),
    Image(src="https://example.com/a.png", alt='x" onerror="alert(1)'),
    Code(language='py" onclick="alert(1)', text="</code><script>alert(1)</script>"),
    Quote(paragraphs=[[Run(text="<img src=x onerror=alert(1)>")]]),
]


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = TagCollector()
    collector.feed(markup)
    return collector.tags


def test_hostile_text_and_links_never_become_executable() -> None:
    markup = render_html(HOSTILE)
    for tag, attrs in tags_of(markup):
        assert tag in ALLOWED_TAGS
        assert set(attrs) <= ALLOWED_ATTRIBUTES.get(tag, set())
        for name in ("href", "src"):
            if name in attrs:
                assert (attrs[name] or "").startswith("https://"), attrs
    assert "<script" not in markup
    assert "&lt;script&gt;" in markup  # the author's text is still there, as text


def test_unsafe_link_keeps_its_text_without_the_link() -> None:
    markup = render_html([Paragraph(content=[Run(text="click", href="javascript:alert(1)")])])
    assert markup == "<p>click</p>"


def test_marks_and_links_are_semantic_tags() -> None:
    markup = render_html(
        [
            Paragraph(
                content=[
                    Run(text="a", marks=("strong",)),
                    Run(text="b", marks=("em",)),
                    Run(text="c", marks=("code",)),
                    Run(text="d", href="https://example.com/x_(y)"),
                ]
            )
        ]
    )
    assert markup == (
        '<p><strong>a</strong><em>b</em><code>c</code><a href="https://example.com/x_(y)">d</a></p>'
    )


def test_ordered_list_keeps_its_start_and_nesting() -> None:
    block = ListBlock(
        ordered=True,
        start=4,
        items=[
            ListItem(
                content=[Run(text="four")],
                children=[ListBlock(items=[ListItem(content=[Run(text="sub")])])],
            )
        ],
    )
    assert render_html([block]) == '<ol start="4"><li>four<ul><li>sub</li></ul></li></ol>'


def test_one_block_per_line() -> None:
    markup = render_html(
        [Paragraph(content=[Run(text="one")]), Paragraph(content=[Run(text="two")])]
    )
    assert markup.split("\n") == ["<p>one</p>", "<p>two</p>"]


def test_sanitize_html_strips_foreign_markup_to_the_same_policy() -> None:
    dirty = (
        '<p onclick="x()">Hi<script>alert(1)</script><iframe src="https://evil"></iframe>'
        '<a href="javascript:alert(1)" target="_blank">l</a><a href="https://ok.example">ok</a>'
        '<code class="language-python">x</code><code class="evil">y</code>'
        '<ol start="3" style="color:red"><li>i</li></ol></p>'
    )
    clean = sanitize_html(dirty)
    assert "script" not in clean and "iframe" not in clean and "onclick" not in clean
    assert "javascript" not in clean and "target" not in clean and "style" not in clean
    assert '<a href="https://ok.example">ok</a>' in clean  # no rel added: link_rel=None
    assert '<code class="language-python">x</code>' in clean
    assert "<code>y</code>" in clean
    assert '<ol start="3">' in clean
