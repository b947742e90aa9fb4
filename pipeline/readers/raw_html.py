"""Raw HTML a writer typed into Markdown: sanitised to words and marks, never passed through.

A `<div>` of prose keeps its words, `<b>`/`<sub>`/`<del>` keep their meaning as marks and
`<br>` is a line break; what is not prose (scripts, styles, embeds, forms) goes with its
content. Uses the standard library's tokenizer, so the Markdown path needs no HTML parser
package.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from pipeline.document import (
    Block,
    Code,
    InlineImage,
    InlineNode,
    LineBreak,
    Mark,
    Paragraph,
    Run,
    merge_runs,
    plain,
    with_mark,
)
from pipeline.readers.urls import encode_url, safe_href, safe_src

# Elements whose content is never essay text.
DROPPED = frozenset(
    [
        "script",
        "style",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "noscript",
        "template",
        "svg",
        "math",
        "canvas",
        "video",
        "audio",
        "textarea",
        "select",
        "button",
        "form",
        "head",
        "title",
    ]
)
TAG_MARKS: dict[str, Mark] = {
    "b": "strong",
    "strong": "strong",
    "i": "em",
    "em": "em",
    "cite": "em",
    "s": "strike",
    "del": "strike",
    "strike": "strike",
    "sub": "sub",
    "sup": "sup",
    "code": "code",
    "kbd": "code",
    "samp": "code",
    "tt": "code",
}
# Closing one of these ends a paragraph of the block being read.
BLOCK_BREAKS = frozenset(
    [
        "p",
        "div",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "aside",
        "blockquote",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "table",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "figure",
        "figcaption",
        "details",
        "summary",
        "address",
        "center",
    ]
)
_SPACE = re.compile(r"[ \t\n\r\f]+")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
_ATTRIBUTE = re.compile(
    r"""([A-Za-z_:][A-Za-z0-9_.:-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?"""
)


def attributes(raw: str) -> dict[str, str]:
    """The attributes of one start tag, entities decoded; the first of a repeated name wins."""
    found: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(raw, raw.find(" ") + 1 if " " in raw else len(raw)):
        value = match.group(2) or match.group(3) or match.group(4) or ""
        found.setdefault(match.group(1).lower(), html.unescape(value))
    return found


class InlineHtml:
    """The state of inline tags across a paragraph's `<b>…</b>` events."""

    def __init__(self) -> None:
        self.marks: list[Mark] = []
        self.links: list[str | None] = []
        self.dropping: str | None = None

    @property
    def href(self) -> str | None:
        return self.links[-1] if self.links else None

    def tag(self, raw: str) -> InlineNode | None:
        """Take one inline tag; a `<br>` or `<img>` comes back as the node to insert."""
        match = _TAG.match(raw)
        if match is None:
            return None  # a comment or processing instruction: nothing to show
        closing, name = match.group(1) == "/", match.group(2).lower()
        if self.dropping:
            if closing and name == self.dropping:
                self.dropping = None
            return None
        if name in DROPPED and not closing and not raw.rstrip().endswith("/>"):
            self.dropping = name
        elif name == "br" and not closing:
            return LineBreak()
        elif name == "img" and not closing:
            attrs = attributes(raw)
            src = safe_src(attrs.get("src"))
            if src:
                return InlineImage(
                    src=encode_url(src),
                    alt=attrs.get("alt", ""),
                    title=attrs.get("title", ""),
                    href=self.href,
                )
        elif name == "a" and not raw.rstrip().endswith("/>"):
            if closing:
                if self.links:
                    self.links.pop()
            else:
                href = safe_href(attrs.get("href")) if (attrs := attributes(raw)) else None
                self.links.append(encode_url(href) if href else None)
        elif name in TAG_MARKS:
            mark = TAG_MARKS[name]
            if not closing:
                self.marks.append(mark)
            elif mark in self.marks:
                del self.marks[len(self.marks) - 1 - self.marks[::-1].index(mark)]
        return None

    def current(self) -> tuple[Mark, ...]:
        marks: tuple[Mark, ...] = ()
        for mark in self.marks:
            marks = with_mark(marks, mark)
        return marks


class _BlockReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.inline = InlineHtml()
        self.runs: list[InlineNode] = []
        self.pre: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.inline.dropping:
            return
        if tag == "pre":
            self.flush()
            self.pre = []
        elif tag in BLOCK_BREAKS:
            self.flush()
        node = self.inline.tag(self.get_starttag_text() or f"<{tag}>")
        if node is not None:
            self.runs.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img"):
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.inline.tag(f"</{tag}>")
        if self.inline.dropping:
            return
        if tag == "pre" and self.pre is not None:
            text = "".join(self.pre).strip("\n")
            self.pre = None
            if text.strip():
                self.blocks.append(Code(text=text))
        elif tag in BLOCK_BREAKS:
            self.flush()

    def handle_data(self, data: str) -> None:
        if self.inline.dropping:
            return
        if self.pre is not None:
            self.pre.append(data)
        else:
            text = _SPACE.sub(" ", data)
            self.runs.append(Run(text=text, marks=self.inline.current(), href=self.inline.href))

    def flush(self) -> None:
        runs, self.runs = self.runs, []
        content = trim(merge_runs(runs))
        if plain(content).strip():
            self.blocks.append(Paragraph(content=content))


def _blank(node: InlineNode) -> bool:
    """Whitespace a paragraph's edge drops: a break, or a blank run that is not code."""
    if isinstance(node, LineBreak):
        return True
    return isinstance(node, Run) and "code" not in node.marks and not node.text.strip()


def trim(content: list[InlineNode]) -> list[InlineNode]:
    """Leading and trailing blanks and breaks removed, as a paragraph shows them."""
    nodes = list(content)
    while nodes and _blank(nodes[0]):
        nodes.pop(0)
    while nodes and _blank(nodes[-1]):
        nodes.pop()
    first = nodes[0] if nodes else None
    if isinstance(first, Run) and "code" not in first.marks and first.text[:1].isspace():
        nodes[0] = first.model_copy(update={"text": first.text.lstrip()})
    last = nodes[-1] if nodes else None
    if isinstance(last, Run) and "code" not in last.marks and last.text[-1:].isspace():
        nodes[-1] = last.model_copy(update={"text": last.text.rstrip()})
    return nodes


def html_block(markup: str) -> list[Block]:
    """A raw HTML block as paragraphs (and `<pre>` as code): its words kept, its markup not."""
    reader = _BlockReader()
    reader.feed(markup)
    reader.close()
    if reader.pre is not None:  # a <pre> the block never closes: its text still counts
        reader.handle_endtag("pre")
    reader.flush()
    return reader.blocks
