"""CommonMark + GFM body → essay blocks, from pulldown-cmark's event stream (via pyromark).

pulldown-cmark reads tables, strikethrough, footnotes and task lists itself; what it
leaves to us is GFM's extended autolinks (bare `www.`, URLs and e-mail addresses, see
`autolink`) and raw HTML, which is sanitised down to its words (see `raw_html`). The
events are folded into the tree with an explicit stack, so nesting depth never meets
Python's recursion limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pyromark

from pipeline.document import (
    Align,
    Block,
    Code,
    Footnote,
    Heading,
    Image,
    InlineImage,
    InlineNode,
    LineBreak,
    ListBlock,
    ListItem,
    Mark,
    NoteRef,
    Paragraph,
    Quote,
    Rule,
    Run,
    Table,
    TableCell,
    built,
    footnote_label,
    merge_runs,
    with_mark,
)
from pipeline.readers.autolink import autolinks
from pipeline.readers.raw_html import InlineHtml, html_block, trim
from pipeline.readers.urls import encode_url, safe_href, safe_src

OPTIONS = (
    pyromark.Options.ENABLE_TABLES
    | pyromark.Options.ENABLE_STRIKETHROUGH
    | pyromark.Options.ENABLE_FOOTNOTES
    | pyromark.Options.ENABLE_TASKLISTS
)
_MARKS: dict[str, Mark] = {"Emphasis": "em", "Strong": "strong", "Strikethrough": "strike"}
_ALIGN: dict[str, Align | None] = {
    "None": None,
    "Left": "left",
    "Center": "center",
    "Right": "right",
}
# Where a block starts, an item's unwrapped text (a tight list) ends.
_BLOCK_STARTS = frozenset(
    ("Paragraph", "Heading", "BlockQuote", "CodeBlock", "HtmlBlock", "List", "Table")
)


@dataclass
class _Inline:
    """A paragraph, heading or table cell being filled with inline nodes."""

    kind: str
    level: int = 0
    nodes: list[InlineNode] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    current: tuple[Mark, ...] = ()
    links: list[str | None] = field(default_factory=list)
    dropping_link: int = 0  # inside an unsafe `<javascript:…>`: its words go with it
    image: list[dict[str, Any]] = field(default_factory=list)
    alt: list[str] = field(default_factory=list)
    html: InlineHtml = field(default_factory=InlineHtml)
    line_end: int | None = None  # where the first line ends (a soft or hard break)


@dataclass
class _Container:
    """A quote, list item, footnote definition or the document: a list of blocks."""

    kind: str
    blocks: list[Block] = field(default_factory=list)
    label: str = ""
    checked: bool | None = None


@dataclass
class _List:
    ordered: bool
    start: int
    items: list[ListItem] = field(default_factory=list)
    loose: bool = False


@dataclass
class _Table:
    align: list[Align | None]
    header: list[TableCell] = field(default_factory=list)
    rows: list[list[TableCell]] = field(default_factory=list)
    in_head: bool = False


@dataclass
class _Raw:
    """A code block or raw HTML block collecting its text."""

    kind: str
    language: str | None = None
    parts: list[str] = field(default_factory=list)


Frame = _Inline | _Container | _List | _Table | _Raw


class TreeBuilder:
    """Folds pulldown-cmark events into blocks and footnotes.

    Runs, paragraphs and headings, the nodes made by the hundred, are `built` without
    validation: their values come typed from the parser and from this class (marks as
    tuples in `MARK_ORDER`); the essay holding them is validated as a whole.
    """

    def __init__(self) -> None:
        self.root = _Container("root")
        self.stack: list[Frame] = [self.root]
        self.definitions: dict[str, Footnote] = {}
        self.referenced: dict[str, None] = {}  # labels in order of first reference
        # The first line of a body that opens with a plain paragraph, and the rest of it.
        self.first_line: tuple[list[InlineNode], list[InlineNode]] | None = None

    # --- driving ------------------------------------------------------------------------

    def feed(self, source: str) -> None:
        for event in pyromark.events(source, options=OPTIONS, merge_text=True):
            if isinstance(event, str):
                self._bare(event)
                continue
            ((kind, value),) = event.items()
            if kind == "Text":
                self._text(value)
            elif kind == "Start":
                self._start(value)
            elif kind == "End":
                self._end(value)
            else:
                self._other(kind, value)

    def result(self) -> tuple[list[Block], list[Footnote]]:
        self._close_implicit()
        notes: list[Footnote] = []
        for label in self.referenced:
            note = self.definitions.get(label)
            if note is not None:
                notes.append(note)
        return self.root.blocks, notes

    # --- block level ----------------------------------------------------------------------

    def _start(self, value: Any) -> None:
        name = value if isinstance(value, str) else next(iter(value))
        top = self.stack[-1]
        if isinstance(top, _Inline) and top.kind in ("implicit",) and name in _BLOCK_STARTS:
            self._close_implicit()
            top = self.stack[-1]
        if name in _MARKS_OR_LINKS:
            frame = self._inline_frame()
            if frame is not None:
                self._inline_start(frame, name, value)
            return
        if name == "Paragraph":
            if isinstance(top, _Container) and top.kind == "item":
                parent = self.stack[-2]
                if isinstance(parent, _List):
                    parent.loose = True
            self.stack.append(_Inline("paragraph"))
        elif name == "Heading":
            self.stack.append(_Inline("heading", level=int(value["Heading"]["level"][1])))
        elif name == "BlockQuote":
            self.stack.append(_Container("quote"))
        elif name == "CodeBlock":
            info = value["CodeBlock"]
            fenced = info.get("Fenced") if isinstance(info, dict) else None
            language = fenced.split()[0] if fenced and fenced.strip() else None
            self.stack.append(_Raw("code", language=language))
        elif name == "HtmlBlock":
            self.stack.append(_Raw("html"))
        elif name == "List":
            start = value["List"]
            self.stack.append(_List(ordered=start is not None, start=start or 0))
        elif name == "Item":
            self.stack.append(_Container("item"))
        elif name == "FootnoteDefinition":
            self.stack.append(_Container("footnote", label=value["FootnoteDefinition"]))
        elif name == "Table":
            self.stack.append(_Table(align=[_ALIGN.get(a) for a in value["Table"]]))
        elif name == "TableHead":
            table = self.stack[-1]
            if isinstance(table, _Table):
                table.in_head = True
        elif name == "TableRow":
            table = self.stack[-1]
            if isinstance(table, _Table):
                table.rows.append([])
        elif name == "TableCell":
            self.stack.append(_Inline("cell"))
        else:  # a construct not enabled: keep its contents in the enclosing block
            self.stack.append(_Container("other"))

    def _end(self, value: Any) -> None:
        name = value if isinstance(value, str) else next(iter(value))
        top = self.stack[-1]
        if isinstance(top, _Inline) and top.kind == "implicit" and name == "Item":
            self._close_implicit()
            top = self.stack[-1]
        if isinstance(top, _Inline) and name in _MARKS_OR_LINKS:
            self._inline_end(top, name)
            return
        if name in ("TableHead", "TableRow"):
            if isinstance(top, _Table):
                top.in_head = False
            return
        frame = self.stack.pop()
        self._finish(frame)

    def _finish(self, frame: Frame) -> None:
        if isinstance(frame, _Inline):
            self._finish_inline(frame)
        elif isinstance(frame, _Raw):
            text = "".join(frame.parts)
            if frame.kind == "code":
                self._add(Code(language=frame.language, text=text.removesuffix("\n")))
            else:
                for block in html_block(text):
                    self._add(block)
        elif isinstance(frame, _List):
            self._add(
                ListBlock(
                    ordered=frame.ordered,
                    start=frame.start if frame.ordered else 1,
                    tight=not frame.loose,
                    items=frame.items,
                )
            )
        elif isinstance(frame, _Table):
            self._add(Table(header=frame.header, rows=frame.rows, align=frame.align))
        elif frame.kind == "item":
            parent = self.stack[-1]
            if isinstance(parent, _List):
                parent.items.append(ListItem(blocks=frame.blocks, checked=frame.checked))
        elif frame.kind == "quote":
            if frame.blocks:
                self._add(Quote(blocks=frame.blocks))
        elif frame.kind == "footnote":
            label = footnote_label(frame.label)
            self.definitions.setdefault(label, Footnote(label=label, blocks=frame.blocks))
        else:
            for block in frame.blocks:
                self._add(block)

    def _add(self, block: Block) -> None:
        top = self.stack[-1]
        if isinstance(top, _Container):
            top.blocks.append(block)

    def _close_implicit(self) -> None:
        top = self.stack[-1]
        if isinstance(top, _Inline) and top.kind == "implicit":
            self.stack.pop()
            self._finish_inline(top)

    def _finish_inline(self, frame: _Inline) -> None:
        meaningful = [n for n in frame.nodes if not _blank(n)]
        if (
            frame.kind == "paragraph"
            and meaningful
            and all(isinstance(n, InlineImage) for n in meaningful)
        ):
            for image in meaningful:  # images on their own: images of their own
                if isinstance(image, InlineImage) and image.src:
                    self._add(
                        Image(src=image.src, alt=image.alt, caption=image.title, href=image.href)
                    )
            return
        content = trim(unmark_edge_spaces([_unsafe_image_words(n) for n in frame.nodes]))
        if frame.kind == "cell":
            table = self.stack[-1]
            if isinstance(table, _Table):
                cell = TableCell(content=content)
                if table.in_head:
                    table.header.append(cell)
                elif table.rows:
                    table.rows[-1].append(cell)
            return
        if not any(not _blank(n) for n in content):
            return
        if frame.kind == "heading":
            self._add(built(Heading, type="heading", level=frame.level, content=content))
            return
        if frame.kind == "paragraph" and self.stack[-1] is self.root and not self.root.blocks:
            cut = frame.line_end if frame.line_end is not None else len(frame.nodes)
            self.first_line = (
                trim(merge_runs(frame.nodes[:cut])),
                trim(merge_runs(frame.nodes[cut + 1 :])),
            )
        self._add(built(Paragraph, type="paragraph", content=content))

    # --- inline level -----------------------------------------------------------------------

    def _inline_frame(self) -> _Inline | None:
        top = self.stack[-1]
        if isinstance(top, _Inline):
            return top
        if isinstance(top, _Container) and top.kind == "item":
            frame = _Inline("implicit")  # a tight item's text, not wrapped in a paragraph
            self.stack.append(frame)
            return frame
        return None

    def _text(self, text: str) -> None:
        top = self.stack[-1]
        if isinstance(top, _Raw):
            top.parts.append(text)
            return
        frame = self._inline_frame()
        if frame is None or frame.html.dropping or frame.dropping_link:
            return
        if frame.image:
            frame.alt.append(text)
            return
        href = frame.links[-1] if frame.links else frame.html.href
        if frame.links or frame.html.links:
            frame.nodes.append(built(Run, type="text", text=text, marks=frame.current, href=href))
            return
        for words, link in autolinks(text):
            frame.nodes.append(
                built(
                    Run,
                    type="text",
                    text=words,
                    marks=frame.current,
                    href=encode_url(link) if link else None,
                )
            )

    def _bare(self, event: str) -> None:
        if event == "Rule":
            self._close_implicit()
            self._add(Rule())
            return
        frame = self._inline_frame()
        if frame is None or frame.html.dropping or frame.dropping_link:
            return
        if frame.image:
            frame.alt.append(" ")
            return
        if frame.line_end is None:
            frame.line_end = len(frame.nodes)
        if event == "HardBreak":
            frame.nodes.append(LineBreak())
        else:  # SoftBreak: a line end inside a paragraph reads as a space
            href = frame.links[-1] if frame.links else None
            frame.nodes.append(built(Run, type="text", text=" ", marks=frame.current, href=href))

    def _other(self, kind: str, value: Any) -> None:
        if kind == "Html":
            top = self.stack[-1]
            if isinstance(top, _Raw):
                top.parts.append(value)
            return
        if kind == "TaskListMarker":
            for frame in reversed(self.stack):
                if isinstance(frame, _Container) and frame.kind == "item":
                    frame.checked = bool(value)
                    break
            return
        frame = self._inline_frame()
        if frame is None:
            return
        if kind == "InlineHtml":
            node = frame.html.tag(value)
            frame.current = _marks(frame)
            if node is not None and not frame.image:
                frame.nodes.append(node)
        elif frame.html.dropping or frame.dropping_link:
            return
        elif kind == "Code":
            if frame.image:
                frame.alt.append(value)
            else:
                href = frame.links[-1] if frame.links else None
                frame.nodes.append(
                    Run(text=value, marks=with_mark(frame.current, "code"), href=href)
                )
        elif kind == "FootnoteReference":
            label = footnote_label(value)
            self.referenced.setdefault(label, None)
            if not frame.image:
                frame.nodes.append(NoteRef(label=label))

    def _inline_start(self, frame: _Inline, name: str, value: Any) -> None:
        if name in _MARKS:
            frame.marks.append(_MARKS[name])
            frame.current = _marks(frame)
        elif name == "Link":
            link = value["Link"]
            if frame.dropping_link or frame.image:
                frame.dropping_link += bool(frame.dropping_link)
                return
            href = _link_target(link)
            autolink = link["link_type"] == "Autolink"
            if href is None and autolink and _SCRIPT_SCHEME.match(link["dest_url"]):
                frame.dropping_link = 1  # `<javascript:…>`: its words are the script
                return
            frame.links.append(encode_url(href) if href else None)
        elif name == "Image":
            frame.image.append(value["Image"])

    def _inline_end(self, frame: _Inline, name: str) -> None:
        if name in _MARKS:
            mark = _MARKS[name]
            if mark in frame.marks:
                del frame.marks[len(frame.marks) - 1 - frame.marks[::-1].index(mark)]
            frame.current = _marks(frame)
        elif name == "Link":
            if frame.dropping_link:
                frame.dropping_link -= 1
            elif frame.image:
                return
            elif frame.links:
                frame.links.pop()
        elif name == "Image":
            image = frame.image.pop()
            if frame.image:
                return  # an image inside an image's alt text: only its words count
            alt = "".join(frame.alt).strip()
            frame.alt = []
            src = safe_src(image["dest_url"])
            href = frame.links[-1] if frame.links else None
            # an unsafe source (data:, javascript: …) is kept empty for now: alone in its
            # paragraph the image goes, in running text its words stay (`_finish_inline`)
            frame.nodes.append(
                InlineImage(
                    src=encode_url(src) if src else "", alt=alt, title=image["title"], href=href
                )
            )


# A refused link keeps its words, except one whose words are themselves script or data.
_SCRIPT_SCHEME = re.compile(r"\s*(?:javascript|vbscript|data):", re.IGNORECASE)
_MARKS_OR_LINKS = frozenset((*_MARKS, "Link", "Image"))


def _marks(frame: _Inline) -> tuple[Mark, ...]:
    marks: tuple[Mark, ...] = ()
    for mark in (*frame.marks, *frame.html.marks):
        marks = with_mark(marks, mark)
    return marks


def _link_target(link: dict[str, Any]) -> str | None:
    url = link["dest_url"]
    if link["link_type"] == "Email":
        url = "mailto:" + url
    return safe_href(url)


def _blank(node: InlineNode) -> bool:
    if isinstance(node, LineBreak):
        return True
    return isinstance(node, Run) and "code" not in node.marks and not node.text.strip()


def unmark_edge_spaces(nodes: list[InlineNode]) -> list[InlineNode]:
    """Spaces at the edge of a marked stretch lose that mark (`<b> x</b>` is " " + bold "x").

    Markdown's own delimiters never mark such spaces, raw HTML tags can; a space inside a
    stretch (`*a **b** c*`) keeps its mark. Code keeps its spaces marked.
    """
    pieces: list[InlineNode] = []
    split = False
    for node in nodes:
        if not isinstance(node, Run) or not node.marks or "code" in node.marks:
            pieces.append(node)
            continue
        core = node.text.strip()
        if core == node.text:
            pieces.append(node)
            continue
        split = True
        start = node.text.find(core) if core else len(node.text)
        for text in (node.text[:start], core, node.text[start + len(core) :]):
            if text:
                pieces.append(Run(text=text, marks=node.marks, href=node.href))
    if not split:  # no marked run had blank edges, so none below is marked blank space
        return merge_runs(pieces)
    out: list[InlineNode] = []
    for index, node in enumerate(pieces):
        if (
            isinstance(node, Run)
            and node.marks
            and "code" not in node.marks
            and not node.text.strip()
        ):
            before = pieces[index - 1] if index else None
            after = pieces[index + 1] if index + 1 < len(pieces) else None
            kept = tuple(
                m
                for m in node.marks
                if isinstance(before, Run)
                and m in before.marks
                and isinstance(after, Run)
                and m in after.marks
            )
            if kept != node.marks:
                node = Run(text=node.text, marks=kept, href=node.href)
        out.append(node)
    return merge_runs(out)


def _unsafe_image_words(node: InlineNode) -> InlineNode:
    """An image whose source was refused, in running text: its alt text, as a run."""
    if isinstance(node, InlineImage) and not node.src:
        return Run(text=node.alt, href=node.href)
    return node


@dataclass
class ParsedBody:
    """The body's blocks, its footnotes (in order of first reference) and, when the body
    opens with a plain paragraph, that paragraph's first line and the rest of it."""

    blocks: list[Block]
    footnotes: list[Footnote]
    first_line: tuple[list[InlineNode], list[InlineNode]] | None


def parse_markdown(source: str) -> ParsedBody:
    builder = TreeBuilder()
    builder.feed(source)
    blocks, footnotes = builder.result()
    return ParsedBody(blocks, footnotes, builder.first_line)
