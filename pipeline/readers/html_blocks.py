"""HTML → essay blocks: the one walker behind the HTML, feed and DOCX readers.

Blocks nest as the HTML nests: a list item or a quote holds blocks (paragraphs, code,
quotes, lists, tables, images), tables keep their header row and column alignment, an
image inside running text stays inline, footnotes are read from the convention the HTML
renderer writes (`render/html.py`).

Safety comes from what the walker keeps, not from what it removes: only text, safe
link targets and safe image sources ever leave it, so attributes such as `onerror=` or
`style=` cannot reach an `Essay`. `prune` still deletes scripts, styles, embeds and
forms first, so their *text* never turns into paragraphs either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from pipeline.document import (
    Align,
    Block,
    Code,
    Footnote,
    Heading,
    Image,
    Inline,
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
    footnote_label,
    merge_runs,
    plain,
    with_mark,
)
from pipeline.errors import ReadError
from pipeline.readers.urls import (  # re-exported: readers import them from here
    encode_url,
    safe_href,
    safe_src,
)


def _tags(*groups: str) -> frozenset[str]:
    return frozenset(" ".join(groups).split())


# Elements whose content is never essay text: code, styling, embeds, forms, chrome.
DROPPED_TAGS = _tags(
    "script style iframe frame frameset object embed applet param noscript template",
    "svg math canvas video audio source track form input button select textarea label",
    "option link meta base head title nav dialog",
)
CONTAINER_TAGS = _tags(
    "html body div section article main header footer aside center details summary",
    "address hgroup fieldset dl dt dd thead tbody tfoot caption p",
)
HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
BLOCK_TAGS = CONTAINER_TAGS | frozenset(
    (*HEADING_TAGS, "ul", "ol", "li", "blockquote", "pre", "figure", "hr", "table", "tr")
)
MARK_TAGS: Mapping[str, Mark] = {
    "strong": "strong",
    "b": "strong",
    "em": "em",
    "i": "em",
    "cite": "em",
    "code": "code",
    "kbd": "code",
    "samp": "code",
    "tt": "code",
    "del": "strike",
    "s": "strike",
    "strike": "strike",
    "sub": "sub",
    "sup": "sup",
}
# Real pages nest 10-40 elements deep; each level costs the walker a few stack frames.
MAX_DEPTH = 100

# Generic HTML: h2..h6 keep their level; a stray h1 left after the title is a section.
GENERIC_HEADING_LEVELS: Mapping[str, int] = {
    "h1": 2,
    "h2": 2,
    "h3": 3,
    "h4": 4,
    "h5": 5,
    "h6": 6,
}

_SPACE = re.compile(r"[ \t\n\r\f]+")
_TASK = "data-crosspost-task"
_ALIGN = re.compile(r"text-align\s*:\s*(left|center|right)", re.IGNORECASE)
# Where footnote conventions put the notes and mark the links back to the text.
_NOTES_SELECTOR = "section.footnotes, div.footnotes, [role=doc-endnotes], [data-footnotes]"
_BACK_LINK_SELECTOR = (
    "a.footnote-back, a.footnote-backref, a[role=doc-backlink], a[data-footnote-backref]"
)
_NOTE_ID_PREFIX = re.compile(r"^(?:user-content-)?(?:fn-|fn)")


def parse_html(text: str, origin: Path | str) -> BeautifulSoup:
    """Parse with lxml (lenient, fast); comments go at once, the rest when walking.

    The walker recurses once per element level, so a document nested deeper than any
    essay (`MAX_DEPTH`) is refused here with a `ReadError` naming `origin`.
    """
    soup = BeautifulSoup(text, "lxml")
    for node in soup.find_all(string=lambda s: isinstance(s, PreformattedString)):
        node.extract()
    depth = nesting_depth(soup)
    if depth > MAX_DEPTH:
        raise ReadError(origin, f"HTML nested {depth} elements deep; the limit is {MAX_DEPTH}")
    return soup


def nesting_depth(root: Tag) -> int:
    """How many elements deep the tree goes, measured without recursion."""
    deepest = 0
    stack: list[tuple[Tag, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tag))
    return deepest


def prune(root: Tag) -> None:
    """Delete comments, scripts, styles, embeds, forms and hidden elements in place.

    What those elements still tell about the essay is noted first: a task list's
    checkbox becomes a mark on its item, a `<picture>`'s best source its image's `src`.
    """
    for node in root.find_all(string=lambda s: isinstance(s, PreformattedString)):
        node.extract()
    _note_task_items(root)
    _note_picture_sources(root)
    for tag in root.find_all([*DROPPED_TAGS]):
        tag.decompose()
    for tag in root.find_all(attrs={"hidden": True}):
        tag.decompose()


def _note_task_items(root: Tag) -> None:
    for box in root.find_all("input", attrs={"type": "checkbox"}):
        item = box.find_parent("li")
        if item is not None and _TASK not in item.attrs:
            item[_TASK] = "done" if box.has_attr("checked") else "open"


def _note_picture_sources(root: Tag) -> None:
    """A `<picture>` whose `<img>` has no usable `src` takes its first source's best one."""
    for picture in root.find_all("picture"):
        img = picture.find("img")
        if isinstance(img, Tag) and not safe_src(_image_src(img)):
            for source in picture.find_all("source"):
                best = best_srcset_candidate(_attr(source, "srcset"))
                if best:
                    img["src"] = best
                    break
        for source in picture.find_all("source"):
            source.unwrap()  # lxml may nest the <img> inside a <source> it does not know


def best_srcset_candidate(srcset: str | None) -> str | None:
    """The widest (or densest) candidate of a `srcset`; the first when none says."""
    best: tuple[float, str] | None = None
    for candidate in (srcset or "").split(","):
        parts = candidate.split()
        if not parts:
            continue
        size = 0.0
        if len(parts) > 1 and parts[1][:-1].replace(".", "", 1).isdigit():
            size = float(parts[1][:-1])
        if best is None or size > best[0]:
            best = (size, parts[0])
    return best[1] if best else None


def _image_src(img: Tag) -> str | None:
    return (
        _attr(img, "src") or _attr(img, "data-src") or best_srcset_candidate(_attr(img, "srcset"))
    )


def _attr(tag: Tag, name: str) -> str | None:
    value = tag.get(name)
    if isinstance(value, list):
        return " ".join(value)
    return value


def classes(tag: Tag) -> list[str]:
    value = tag.get("class") or []
    return value.split() if isinstance(value, str) else list(value)


def is_tracking_pixel(img: Tag) -> bool:
    """A 1×1 image is a view counter, never part of the essay."""
    return _attr(img, "width") == "1" and _attr(img, "height") == "1"


def _dimension(img: Tag, name: str) -> int | None:
    value = (_attr(img, name) or "").strip().removesuffix("px")
    return int(value) if value.isdigit() and 0 < int(value) < 100_000 else None


@dataclass
class _Piece:
    text: str
    marks: tuple[Mark, ...] = ()
    href: str | None = None
    node: InlineNode | None = None  # a break, an inline image or a note reference
    size: tuple[int | None, int | None] = (None, None)  # an image's width and height


@dataclass
class InlineBuffer:
    """Collects text pieces and folds them into inline nodes with HTML whitespace rules."""

    pieces: list[_Piece] = field(default_factory=list)

    def add(self, text: str, marks: tuple[Mark, ...] = (), href: str | None = None) -> None:
        if text:
            self.pieces.append(_Piece(text, marks, href))

    def add_break(self) -> None:
        self.pieces.append(_Piece("", node=LineBreak()))

    def add_node(
        self, node: InlineNode, size: tuple[int | None, int | None] = (None, None)
    ) -> None:
        self.pieces.append(_Piece("", node=node, size=size))

    def has_text(self) -> bool:
        return any(
            p.text.strip() or (p.node is not None and not isinstance(p.node, LineBreak))
            for p in self.pieces
        )

    def only_images(self) -> list[tuple[InlineImage, tuple[int | None, int | None]]] | None:
        """The images, when the buffer holds images and nothing else but blanks and breaks."""
        images = [(p.node, p.size) for p in self.pieces if isinstance(p.node, InlineImage)]
        rest = [
            p
            for p in self.pieces
            if (p.node is None and p.text.strip()) or isinstance(p.node, NoteRef)
        ]
        return images if images and not rest else None  # type: ignore[return-value]

    def take(self) -> Inline:
        """The collected nodes (whitespace collapsed, edges trimmed); empties the buffer."""
        pieces, self.pieces = self.pieces, []
        out: list[list] = []  # [text, marks, href, node]
        for piece in pieces:
            if isinstance(piece.node, LineBreak):
                if out and out[-1][3] is None:
                    out[-1][0] = out[-1][0].rstrip(" ")
                out.append(["", (), None, piece.node])
                continue
            if piece.node is not None:
                out.append(["", (), None, piece.node])
                continue
            text = _SPACE.sub(" ", piece.text)
            if text.startswith(" ") and (
                not out
                or isinstance(out[-1][3], LineBreak)
                or (out[-1][3] is None and out[-1][0].endswith(" "))
            ):
                text = text[1:]
            out.append([text, piece.marks, piece.href, None])
        # trim the paragraph's ends: blank text and breaks
        while (out and out[0][3] is None and not out[0][0].strip()) or (
            out and isinstance(out[0][3], LineBreak)
        ):
            out.pop(0)
        while (out and out[-1][3] is None and not out[-1][0].strip()) or (
            out and isinstance(out[-1][3], LineBreak)
        ):
            out.pop()
        if not out:
            return []
        if out[0][3] is None:
            out[0][0] = out[0][0].lstrip()
        if out[-1][3] is None:
            out[-1][0] = out[-1][0].rstrip()
        nodes: list[InlineNode] = []
        for text, marks, href, node in out:
            if node is not None:
                nodes.append(node)
            else:
                nodes.extend(_split_edge_space(text, marks, href))
        return merge_runs(nodes)


def _split_edge_space(text: str, marks: tuple[Mark, ...], href: str | None) -> list[Run]:
    """Move spaces at the edges of a marked run outside the marks (`**a **b` breaks Markdown)."""
    if not marks or not text.strip():
        return [Run(text=text, marks=marks if text.strip() else (), href=href)]
    core = text.strip(" ")
    lead = text[: len(text) - len(text.lstrip(" "))]
    trail = text[len(text.rstrip(" ")) :]
    return [
        Run(text=lead, href=href),
        Run(text=core, marks=marks, href=href),
        Run(text=trail, href=href),
    ]


@dataclass
class BlockWalker:
    """Walks an HTML tree into blocks; `heading_levels` maps h1..h6 to essay levels.

    Footnotes in the convention the HTML renderer writes (and the common ones like it:
    GitHub's, pandoc's) are read too: after `blocks()`, `footnotes` holds the notes in
    order of first reference.
    """

    heading_levels: Mapping[str, int] = field(default_factory=lambda: GENERIC_HEADING_LEVELS)
    footnotes: list[Footnote] = field(default_factory=list)
    _note_labels: dict[str, str] = field(default_factory=dict)  # note element id -> label
    _note_order: dict[str, None] = field(default_factory=dict)

    def blocks(self, root: Tag) -> list[Block]:
        """The blocks under `root`; prunes `root` in place first."""
        prune(root)
        notes = self._take_notes(root)
        blocks = self._blocks(root)
        found = {note.label: note for note in notes}
        self.footnotes = [found[label] for label in self._note_order if label in found]
        return blocks

    def _blocks(self, root: Tag) -> list[Block]:
        out: list[Block] = []
        self._container(root, out)
        return out

    def inline(self, root: Tag) -> Inline:
        """A node's content as inline nodes (for titles, captions and cells)."""
        buffer = InlineBuffer()
        self._inline_children(root, buffer, (), None)
        return buffer.take()

    # footnotes

    def _take_notes(self, root: Tag) -> list[Footnote]:
        """Footnote sections removed from `root`, read as notes (their back links dropped)."""
        sections = [s for s in root.select(_NOTES_SELECTOR) if s.find("li", id=True)]
        items: list[tuple[str, Tag]] = []
        for section in sections:
            for li in section.find_all("li", id=True):
                label = footnote_label(_NOTE_ID_PREFIX.sub("", str(li["id"])) or str(li["id"]))
                self._note_labels[str(li["id"])] = label
                items.append((label, li))
            section.extract()
        notes: list[Footnote] = []
        for label, li in items:
            for back in li.select(_BACK_LINK_SELECTOR):
                back.decompose()
            for back in li.find_all("a", href=True):
                if str(back["href"]).startswith("#") and back.get_text(strip=True) in ("↩", "↩︎"):
                    back.decompose()
            notes.append(Footnote(label=label, blocks=self._blocks(li)))
        return notes

    def _note_ref(self, tag: Tag) -> NoteRef | None:
        """A reference to a note: a `#id` link to one of the notes, in a `sup` or marked so."""
        if not self._note_labels:
            return None
        link = tag if tag.name == "a" else tag.find("a", href=True)
        if not isinstance(link, Tag):
            return None
        href = str(link.get("href") or "")
        label = self._note_labels.get(href[1:]) if href.startswith("#") else None
        if label is None:
            return None
        if tag.name == "sup" or link.find_parent("sup") is not None or classes(link):
            self._note_order.setdefault(label, None)
            return NoteRef(label=label)
        return None

    # block level

    def _container(self, node: Tag, out: list[Block]) -> None:
        buffer = InlineBuffer()
        for child in node.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, PreformattedString):
                    buffer.add(str(child))
            elif isinstance(child, Tag):
                if child.name in BLOCK_TAGS or _has_block(child):
                    self._flush(buffer, out)
                    self._block(child, out)
                else:
                    self._inline_tag(child, buffer, (), None)
        self._flush(buffer, out)

    @staticmethod
    def _flush(buffer: InlineBuffer, out: list[Block]) -> None:
        images = buffer.only_images()
        if images:  # images on their own: images of their own
            buffer.take()
            for image, (width, height) in images:
                out.append(
                    Image(
                        src=image.src,
                        alt=image.alt,
                        title=image.title,
                        href=image.href,
                        width=width,
                        height=height,
                    )
                )
        elif buffer.has_text():
            content = buffer.take()
            if content:
                out.append(Paragraph(content=content))
        else:
            buffer.take()

    def _block(self, tag: Tag, out: list[Block]) -> None:
        name = tag.name
        if name in DROPPED_TAGS:
            return
        if name in HEADING_TAGS:
            content = self.inline(tag)
            if plain(content).strip():
                out.append(Heading(level=self.heading_levels.get(name, 2), content=content))
        elif name in ("ul", "ol"):
            listing = self._list(tag)
            if listing.items:
                out.append(listing)
        elif name == "li":  # a stray item outside any list: keep its words
            self._container(tag, out)
        elif name == "blockquote":
            blocks = self._blocks(tag)
            if blocks:
                out.append(Quote(blocks=blocks))
        elif name == "pre":
            out.append(self._code(tag))
        elif name == "figure":
            self._figure(tag, out)
        elif name == "hr":
            out.append(Rule())
        elif name == "table":
            self._table(tag, out)
        elif name == "tr":
            self._row(tag, out)
        else:
            self._container(tag, out)

    def _list(self, tag: Tag) -> ListBlock:
        start = (_attr(tag, "start") or "1").strip()
        items: list[ListItem] = []
        loose = False
        for child in tag.children:
            if isinstance(child, Tag) and child.name == "li":
                item, item_loose = self._item(child)
                items.append(item)
                loose = loose or item_loose
            elif isinstance(child, Tag) and child.name in ("ul", "ol") and items:
                # <ul><li>a</li><ul>…</ul></ul>: the nested list belongs to the item before it
                nested = self._list(child)
                if nested.items:
                    items[-1].blocks.append(nested)
        return ListBlock(
            ordered=tag.name == "ol",
            start=int(start) if start.isdigit() else 1,
            tight=not loose,
            items=items,
        )

    def _item(self, li: Tag) -> tuple[ListItem, bool]:
        """The item's blocks, and whether it is loose (its text stands in `<p>` elements)."""
        task = _attr(li, _TASK)
        checked = None if task is None else task == "done"
        loose = any(isinstance(c, Tag) and c.name == "p" for c in li.children)
        return ListItem(blocks=self._blocks(li), checked=checked), loose

    @staticmethod
    def _code(pre: Tag) -> Code:
        parts: list[str] = []
        for node in pre.descendants:
            if isinstance(node, Tag) and node.name == "br":
                parts.append("\n")
            elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
                parts.append(str(node))
        text = "".join(parts).replace("\r\n", "\n").strip("\n")
        return Code(language=_code_language(pre), text=text)

    def _figure(self, figure: Tag, out: list[Block]) -> None:
        caption_tag = figure.find("figcaption")
        caption = plain(self.inline(caption_tag)).strip() if caption_tag else ""
        if isinstance(caption_tag, Tag):
            caption_tag.extract()
        images: list[Block] = []
        self._container(figure, images)
        if not any(isinstance(b, Image) for b in images):
            out.extend(images)  # a figure around a quote or an embed: keep what it says
            if caption:
                out.append(Paragraph(content=[Run(text=caption)]))
            return
        if caption:
            last = max(i for i, b in enumerate(images) if isinstance(b, Image))
            images[last] = images[last].model_copy(update={"caption": caption})
        out.extend(images)

    def _image(self, img: Tag, href: str | None) -> InlineImage | None:
        if is_tracking_pixel(img):
            return None
        src = safe_src(_image_src(img))
        if not src:
            return None
        alt = _SPACE.sub(" ", _attr(img, "alt") or "").strip()
        title = _SPACE.sub(" ", _attr(img, "title") or "").strip()
        return InlineImage(src=encode_url(src), alt=alt, title=title, href=href)

    def _table(self, table: Tag, out: list[Block]) -> None:
        rows = [
            tr
            for tr in table.find_all("tr")
            if tr.find_parent("table") is table  # not the rows of a table inside a cell
        ]
        if not rows:
            self._container(table, out)
            return
        header: list[TableCell] = []
        body = rows
        first = rows[0]
        cells = first.find_all(["td", "th"], recursive=False)
        if first.find_parent("thead") is not None or (cells and all(c.name == "th" for c in cells)):
            header = [TableCell(content=self.inline(c)) for c in cells]
            body = rows[1:]
        align = [_cell_align(c) for c in cells]
        grid = [
            [TableCell(content=self.inline(c)) for c in tr.find_all(["td", "th"], recursive=False)]
            for tr in body
        ]
        out.append(Table(header=header, rows=grid, align=align))

    def _row(self, tr: Tag, out: list[Block]) -> None:
        """A table row outside any table: one paragraph, cells joined by " | "."""
        cells = [self.inline(cell) for cell in tr.find_all(["td", "th"], recursive=False)]
        content: Inline = []
        for cell in (c for c in cells if plain(c).strip()):
            if content:
                content.append(Run(text=" | "))
            content.extend(cell)
        if content:
            out.append(Paragraph(content=merge_runs(content)))

    # inline level

    def _inline_children(
        self, node: Tag, buffer: InlineBuffer, marks: tuple[Mark, ...], href: str | None
    ) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, PreformattedString):
                    buffer.add(str(child), marks, href)
            elif isinstance(child, Tag):
                self._inline_tag(child, buffer, marks, href)

    def _inline_tag(
        self, tag: Tag, buffer: InlineBuffer, marks: tuple[Mark, ...], href: str | None
    ) -> None:
        name = tag.name
        if name in DROPPED_TAGS or name == "hr":
            return
        if name == "br":
            buffer.add_break()
            return
        if name == "img":
            image = self._image(tag, href)
            if image is not None:
                buffer.add_node(image, (_dimension(tag, "width"), _dimension(tag, "height")))
            return
        if name in ("sup", "a"):
            ref = self._note_ref(tag)
            if ref is not None:
                buffer.add_node(ref)
                return
        if name in MARK_TAGS:
            marks = with_mark(marks, MARK_TAGS[name])
        elif name == "a":
            target = safe_href(_attr(tag, "href"))  # an unsafe link keeps only its words
            href = encode_url(target) if target else None
        self._inline_children(tag, buffer, marks, href)


def _has_block(tag: Tag) -> bool:
    return tag.find(BLOCK_TAGS) is not None


def _cell_align(cell: Tag) -> Align | None:
    match = _ALIGN.search(_attr(cell, "style") or "")
    value = (match.group(1) if match else _attr(cell, "align") or "").strip().lower()
    return value if value in ("left", "center", "right") else None  # type: ignore[return-value]


_LANGUAGE_CLASS = re.compile(r"^(?:language|lang)-([\w+#.\-]+)$")


def _code_language(pre: Tag) -> str | None:
    """`class="language-x"` on the pre or its code, or Medium's `data-code-block-lang`."""
    candidates = [pre, *pre.find_all("code", limit=1)]
    for tag in candidates:
        for name in classes(tag):
            match = _LANGUAGE_CLASS.match(name)
            if match:
                return match.group(1).lower()
        for attr in ("data-code-block-lang", "data-lang", "data-language"):
            value = _attr(tag, attr)
            if value and value.strip():
                return value.strip().lower()
    return None


def drop_leading_title(blocks: list[Block], title: str) -> tuple[list[Block], str | None]:
    """Remove a first heading that repeats the title; a heading right after it is the subtitle.

    Medium's feed and many blog exports open the body with the title (h3) and subtitle
    (h4); the essay carries both as metadata, so they must not show twice.
    """
    if not blocks or not isinstance(blocks[0], Heading) or not title.strip():
        return blocks, None
    if _fold(plain(blocks[0].content)) != _fold(title):
        return blocks, None
    rest = blocks[1:]
    if rest and isinstance(rest[0], Heading) and rest[0].level > blocks[0].level:
        return rest[1:], plain(rest[0].content).strip() or None
    return rest, None


def _fold(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def text_of(tag: Tag | None) -> str:
    """A tag's visible text with whitespace collapsed; '' for a missing tag."""
    if tag is None:
        return ""
    return _SPACE.sub(" ", tag.get_text(" ")).strip()


def meta_content(soup: BeautifulSoup, *keys: str) -> str | None:
    """The first non-empty `<meta name|property=key content>` among `keys`."""
    for key in keys:
        for attr in ("name", "property"):
            tag = soup.find("meta", attrs={attr: key})
            value = _attr(tag, "content") if isinstance(tag, Tag) else None
            if value and value.strip():
                return _SPACE.sub(" ", value).strip()
    return None
