"""Blocks -> semantic, sanitised HTML for blogs (WordPress, Ghost, Patreon's `content`).

The tree is written as it is: blocks nest inside list items and quotes, tables get a
`thead` and `tbody`, footnote references and a footnotes section follow one convention
(below) that the HTML reader reads back. Every text is escaped as it is written and the
result is then passed through nh3 with an explicit allow-list, so neither a reader's bug
nor a hostile input can put a script, an event handler or a `javascript:` link into a
post. One top-level block per line keeps diffs readable.

Footnotes: a reference is `<sup class="footnote-ref" id="fnref-L"><a href="#fn-L">N</a></sup>`
(N the note's number; a second reference to the same note gets `id="fnref-L-2"`, ids
being unique), and the notes close the body as `<section class="footnotes"><ol>` of
`<li id="fn-L">…note blocks… <a href="#fnref-L" class="footnote-back">↩</a></li>`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import quote

import nh3

from pipeline.document import (
    MARK_ORDER,
    Block,
    Code,
    Footnote,
    Heading,
    Image,
    Inline,
    InlineImage,
    LineBreak,
    ListBlock,
    ListItem,
    NoteRef,
    Paragraph,
    Quote,
    Rule,
    Run,
    Table,
    TableCell,
)
from pipeline.render.memo import by_identity
from pipeline.render.parts import SAFE_SCHEMES, safe_href

ALLOWED_TAGS = frozenset(
    {"h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "ul", "ol", "li", "blockquote", "pre"}
    | {"code", "figure", "img", "figcaption", "hr", "strong", "em", "a", "del", "sub", "sup"}
    | {"table", "thead", "tbody", "tr", "th", "td", "section", "input"}
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "class"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "code": {"class"},
    "sup": {"class", "id"},
    "li": {"id"},
    "section": {"class"},
    "th": {"style"},
    "td": {"style"},
    "input": {"type", "checked", "disabled"},
}
LANGUAGE_CLASS = re.compile(r"language-[\w+#.-]+")
ALIGN_STYLE = re.compile(r"text-align: (?:left|center|right)")
FIXED_VALUES = {
    ("a", "class"): {"footnote-back"},
    ("sup", "class"): {"footnote-ref"},
    ("section", "class"): {"footnotes"},
    ("input", "type"): {"checkbox"},
    ("input", "checked"): {""},
    ("input", "disabled"): {""},
}
MARK_TAGS = {"strong": "strong", "em": "em", "strike": "del", "sub": "sub", "sup": "sup"}
MARK_TAGS["code"] = "code"
BACK_LINK = "\u21a9"  # ↩


@by_identity()
def render_html(blocks: list[Block], footnotes: Sequence[Footnote] = ()) -> str:
    """The blocks as sanitised HTML, one top-level block per line; footnotes close it.

    Rendered once per essay: the blog destinations pass the same blocks (pipeline/render/memo.py).
    """
    writer = _Writer(footnotes)
    lines = [writer.block(block) for block in blocks]
    notes = writer.footnotes_section()
    if notes:
        lines.append(notes)
    return sanitize_html("\n".join(line for line in lines if line))


def sanitize_html(markup: str) -> str:
    """Keep only the tags, attributes and URL schemes this project emits.

    `link_rel=None`: nh3 would otherwise add rel="noopener noreferrer" to every link. We
    never emit `target`, so `noopener` protects nothing, and `noreferrer` would hide the
    author's own referrals from the sites they link to.
    """
    return nh3.clean(
        markup,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_filter_attribute,
        url_schemes=set(SAFE_SCHEMES),
        link_rel=None,
    )


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Only the attribute values this renderer writes (a class, a start, an alignment)."""
    if tag == "code" and attribute == "class":
        return value if LANGUAGE_CLASS.fullmatch(value) else None
    if tag == "ol" and attribute == "start":
        return value if value.isdigit() else None
    if tag in ("img",) and attribute in ("width", "height"):
        return value if value.isdigit() else None
    if attribute == "style":
        return value if ALIGN_STYLE.fullmatch(value) else None
    if attribute == "id":
        return value if value.startswith(("fn-", "fnref-")) and " " not in value else None
    allowed = FIXED_VALUES.get((tag, attribute))
    if allowed is not None:
        return value if value in allowed else None
    return value


class _Writer:
    """Renders blocks; remembers footnote numbers and how often each was referenced."""

    def __init__(self, footnotes: Sequence[Footnote]) -> None:
        self.footnotes = list(footnotes)
        self.numbers = {note.label: n for n, note in enumerate(self.footnotes, start=1)}
        self.seen: dict[str, int] = {}

    def block(self, block: Block) -> str:
        if isinstance(block, Heading):
            text = self.inline(block.content)
            return f"<h{block.level}>{text}</h{block.level}>" if text else ""
        if isinstance(block, Paragraph):
            text = self.inline(block.content)
            return f"<p>{text}</p>" if text else ""
        if isinstance(block, ListBlock):
            return self.listing(block)
        if isinstance(block, Quote):
            return f"<blockquote>{self.blocks(block.blocks)}</blockquote>"
        if isinstance(block, Code):
            language = code_language(block.language)
            attr = f' class="language-{language}"' if language else ""
            # every line ends with a newline, the last one too, as CommonMark writes code
            text = block.text + "\n" if block.text else ""
            return f"<pre><code{attr}>{_escape(text)}</code></pre>"
        if isinstance(block, Image):
            return _image(block)
        if isinstance(block, Rule):
            return "<hr>"
        if isinstance(block, Table):
            return self.table(block)
        return ""

    def blocks(self, blocks: list[Block]) -> str:
        return "".join(self.block(block) for block in blocks)

    def listing(self, block: ListBlock) -> str:
        if block.ordered:
            tag = "ol"
            attr = f' start="{block.start}"' if block.start != 1 else ""
        else:
            tag, attr = "ul", ""
        items = "".join(self.item(item, block.tight) for item in block.items)
        return f"<{tag}{attr}>{items}</{tag}>"

    def item(self, item: ListItem, tight: bool) -> str:
        parts: list[str] = []
        if item.checked is not None:
            checked = " checked" if item.checked else ""
            parts.append(f'<input type="checkbox" disabled{checked}> ')
        for block in item.blocks:
            if tight and isinstance(block, Paragraph):
                parts.append(self.inline(block.content))
            else:
                parts.append(self.block(block))
        return f"<li>{''.join(parts)}</li>"

    def table(self, table: Table) -> str:
        width = table.width()
        parts = ["<table>"]
        if table.header:
            parts.append(f"<thead>{self.row(table.header, 'th', table, width)}</thead>")
        if table.rows:
            rows = "".join(self.row(row, "td", table, width) for row in table.rows)
            parts.append(f"<tbody>{rows}</tbody>")
        parts.append("</table>")
        return "".join(parts)

    def row(self, cells: list[TableCell], tag: str, table: Table, width: int) -> str:
        out = []
        for index in range(width):
            cell = cells[index] if index < len(cells) else TableCell()
            align = table.align[index] if index < len(table.align) else None
            attr = f' style="text-align: {align}"' if align else ""
            out.append(f"<{tag}{attr}>{self.inline(cell.content)}</{tag}>")
        return f"<tr>{''.join(out)}</tr>"

    def footnotes_section(self) -> str:
        notes = [note for note in self.footnotes if note.label in self.seen]
        if not notes:
            return ""
        items = []
        for note in notes:
            label = _attr(note.label)
            back = f'<a href="#fnref-{_fragment(note.label)}" class="footnote-back">{BACK_LINK}</a>'
            body = self.blocks(note.blocks)
            # the back link ends the note's last paragraph, as GitHub writes it
            body = f"{body[:-4]} {back}</p>" if body.endswith("</p>") else body + back
            items.append(f'<li id="fn-{label}">{body}</li>')
        return f'<section class="footnotes"><ol>{"".join(items)}</ol></section>'

    def inline(self, content: Inline) -> str:
        """Inline nodes as HTML: a link wraps whole runs, marks nest inside it."""
        parts: list[str] = []
        group: list[str] = []
        group_href: str | None = None

        def close() -> None:
            if group:
                inner = "".join(group)
                parts.append(f'<a href="{_attr(group_href)}">{inner}</a>' if group_href else inner)
                group.clear()

        for node in content:
            if isinstance(node, NoteRef):
                close()
                group_href = None
                parts.append(self.note_ref(node))
                continue
            href = _safe_href(node.href) if node.href else None
            if isinstance(node, LineBreak):
                href = group_href  # a break stays inside the link around it
            if href != group_href:
                close()
                group_href = href
            if isinstance(node, Run):
                group.append(_run(node))
            elif isinstance(node, LineBreak):
                group.append("<br>")
            elif isinstance(node, InlineImage):
                group.append(_img(node.src, node.alt, node.title))
        close()
        return "".join(parts)

    def note_ref(self, ref: NoteRef) -> str:
        number = self.numbers.get(ref.label)
        if number is None:  # a reference to no note: keep the marker readable
            return f"<sup>{_escape(ref.label)}</sup>"
        count = self.seen.get(ref.label, 0) + 1
        self.seen[ref.label] = count
        suffix = f"-{count}" if count > 1 else ""
        return (
            f'<sup class="footnote-ref" id="fnref-{_attr(ref.label)}{suffix}">'
            f'<a href="#fn-{_fragment(ref.label)}">{number}</a></sup>'
        )


@lru_cache(maxsize=1024)
def _safe_href(href: str) -> str | None:
    """`safe_href`, remembered: an essay links to few targets, many times."""
    return safe_href(href)


def _image(image: Image) -> str:
    img = _img(image.src, image.alt, image.title, image.width, image.height)
    if not img:
        return ""
    href = safe_href(image.href) if image.href else None
    if href:
        img = f'<a href="{_attr(href)}">{img}</a>'
    caption = f"<figcaption>{_escape(image.caption)}</figcaption>" if image.caption else ""
    return f"<figure>{img}{caption}</figure>"


def _img(
    src: str, alt: str, title: str, width: int | None = None, height: int | None = None
) -> str:
    safe = safe_href(src)
    if safe is None:
        return ""
    attrs = f' title="{_attr(title)}"' if title else ""
    if width:
        attrs += f' width="{width}"'
    if height:
        attrs += f' height="{height}"'
    return f'<img src="{_attr(safe)}" alt="{_attr(alt)}"{attrs}>'


def inline_html(content: Inline) -> str:
    """Inline nodes as HTML (footnote references numbered in order of appearance)."""
    return _Writer(()).inline(content)


_INNERMOST_FIRST = tuple(reversed(MARK_ORDER))


def _run(run: Run) -> str:
    text = _escape(run.text)
    if run.marks:
        for mark in _INNERMOST_FIRST:
            if mark in run.marks:
                tag = MARK_TAGS[mark]
                text = f"<{tag}>{text}</{tag}>"
    return text


def code_language(language: str | None) -> str:
    """The language's leading name (word characters and `+#.-`), safe in a class or fence."""
    match = re.match(r"[\w+#.-]+", (language or "").strip())
    return match.group() if match else ""


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _fragment(label: str) -> str:
    return _attr(quote(label, safe="-._~!$&'()*+,;=:@/?"))
