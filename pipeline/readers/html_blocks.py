"""HTML → essay blocks: the one walker behind the HTML, feed and DOCX readers.

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
    Block,
    Code,
    Heading,
    Image,
    Inline,
    ListBlock,
    ListItem,
    Mark,
    Paragraph,
    Quote,
    Rule,
    Run,
    block_text,
    merge_runs,
    plain,
)
from pipeline.errors import ReadError


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
    "address hgroup fieldset dl dt dd table thead tbody tfoot caption picture p",
)
HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
BLOCK_TAGS = CONTAINER_TAGS | frozenset(
    (*HEADING_TAGS, "ul", "ol", "li", "blockquote", "pre", "figure", "img", "hr", "tr")
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
}
MARK_ORDER: tuple[Mark, ...] = ("strong", "em", "code")
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

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
IMAGE_SCHEMES = frozenset({"http", "https"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
# Browsers ignore ASCII tab/newline anywhere in a URL and C0 controls/space at its ends,
# so "java\tscript:" is a javascript: URL; drop them before reading the scheme.
_URL_IGNORED = re.compile(r"[\x00-\x20\x7f]+")
_SPACE = re.compile(r"[ \t\n\r\f]+")


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
    """Delete comments, scripts, styles, embeds, forms and hidden elements in place."""
    for node in root.find_all(string=lambda s: isinstance(s, PreformattedString)):
        node.extract()
    for tag in root.find_all([*DROPPED_TAGS]):
        tag.decompose()
    for tag in root.find_all(attrs={"hidden": True}):
        tag.decompose()


def _safe_url(url: str | None, schemes: frozenset[str]) -> str | None:
    if url is None:
        return None
    cleaned = _URL_IGNORED.sub("", url)
    if not cleaned:
        return None
    match = _SCHEME.match(cleaned)
    if match and match.group(1).lower() not in schemes:
        return None
    return url.strip()


def safe_href(href: str | None) -> str | None:
    """The link target if it is http(s), mailto or relative; None for anything else."""
    return _safe_url(href, LINK_SCHEMES)


def safe_src(src: str | None) -> str | None:
    """The image source if it is http(s) or relative (never data:, javascript: …)."""
    return _safe_url(src, IMAGE_SCHEMES)


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


@dataclass
class _Piece:
    text: str
    marks: tuple[Mark, ...] = ()
    href: str | None = None
    is_break: bool = False


@dataclass
class InlineBuffer:
    """Collects text pieces and folds them into runs with HTML whitespace rules."""

    pieces: list[_Piece] = field(default_factory=list)

    def add(self, text: str, marks: tuple[Mark, ...] = (), href: str | None = None) -> None:
        if text:
            self.pieces.append(_Piece(text, marks, href))

    def add_break(self) -> None:
        self.pieces.append(_Piece("\n", is_break=True))

    def has_text(self) -> bool:
        return any(p.text.strip() for p in self.pieces if not p.is_break)

    def take(self) -> Inline:
        """The collected runs (whitespace collapsed, edges trimmed); empties the buffer."""
        pieces, self.pieces = self.pieces, []
        out: list[list] = []  # [text, marks, href]
        for piece in pieces:
            if piece.is_break:
                if out:
                    out[-1][0] = out[-1][0].rstrip(" ")
                out.append(["\n", (), None])
                continue
            text = _SPACE.sub(" ", piece.text)
            if text.startswith(" ") and (not out or out[-1][0].endswith((" ", "\n"))):
                text = text[1:]
            out.append([text, piece.marks, piece.href])
        # trim the paragraph's ends, then leading/trailing breaks
        while out and not out[0][0].strip():
            out.pop(0)
        while out and not out[-1][0].strip():
            out.pop()
        if not out:
            return []
        out[0][0] = out[0][0].lstrip()
        out[-1][0] = out[-1][0].rstrip()
        runs: list[Run] = []
        for text, marks, href in out:
            runs.extend(_split_edge_space(text, marks, href))
        return merge_runs(runs)


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


def _with_mark(marks: tuple[Mark, ...], mark: Mark) -> tuple[Mark, ...]:
    return tuple(m for m in MARK_ORDER if m in marks or m == mark)


@dataclass
class BlockWalker:
    """Walks an HTML tree into blocks; `heading_levels` maps h1..h6 to essay levels."""

    heading_levels: Mapping[str, int] = field(default_factory=lambda: GENERIC_HEADING_LEVELS)

    def blocks(self, root: Tag) -> list[Block]:
        """The blocks under `root`; prunes `root` in place first."""
        prune(root)
        return self._blocks(root)

    def _blocks(self, root: Tag) -> list[Block]:
        out: list[Block] = []
        self._container(root, out)
        return out

    def inline(self, root: Tag) -> Inline:
        """A node's content as inline runs (for titles, captions and list items)."""
        buffer = InlineBuffer()
        self._inline_children(root, buffer, (), None)
        return buffer.take()

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
        if buffer.has_text():
            out.append(Paragraph(content=buffer.take()))
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
            quote = self._quote(tag)
            if quote.paragraphs:
                out.append(quote)
        elif name == "pre":
            out.append(self._code(tag))
        elif name == "figure":
            self._figure(tag, out)
        elif name == "img":
            image = self._image(tag)
            if image:
                out.append(image)
        elif name == "hr":
            out.append(Rule())
        elif name == "tr":
            self._row(tag, out)
        else:
            self._container(tag, out)

    def _list(self, tag: Tag) -> ListBlock:
        start = _attr(tag, "start") or "1"
        listing = ListBlock(
            ordered=tag.name == "ol", start=int(start) if start.strip().isdigit() else 1
        )
        for child in tag.children:
            if isinstance(child, Tag) and child.name == "li":
                listing.items.append(self._item(child))
            elif isinstance(child, Tag) and child.name in ("ul", "ol") and listing.items:
                # <ul><li>a</li><ul>…</ul></ul>: the nested list belongs to the item before it
                nested = self._list(child)
                if nested.items:
                    listing.items[-1].children.append(nested)
        return listing

    def _item(self, li: Tag) -> ListItem:
        buffer = InlineBuffer()
        children: list[ListBlock] = []
        self._item_parts(li, buffer, children)
        return ListItem(content=buffer.take(), children=children)

    def _item_parts(self, node: Tag, buffer: InlineBuffer, children: list[ListBlock]) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, PreformattedString):
                    buffer.add(str(child))
            elif not isinstance(child, Tag) or child.name in DROPPED_TAGS:
                continue
            elif child.name in ("ul", "ol"):
                nested = self._list(child)
                if nested.items:
                    children.append(nested)
            elif child.name in BLOCK_TAGS or _has_block(child):
                # a loose item (<li><p>…</p><p>…</p></li>): paragraphs become lines
                if buffer.has_text():
                    buffer.add_break()
                self._item_parts(child, buffer, children)
            else:
                self._inline_tag(child, buffer, (), None)

    def _quote(self, tag: Tag) -> Quote:
        paragraphs: list[Inline] = []
        for block in self._blocks(tag):
            if isinstance(block, Paragraph | Heading):
                paragraphs.append(block.content)
            elif isinstance(block, Quote):
                paragraphs.extend(block.paragraphs)
            elif block_text(block).strip():
                paragraphs.append([Run(text=block_text(block).strip())])
        return Quote(paragraphs=paragraphs)

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
        images = [self._image(img) for img in figure.find_all("img")]
        images = [image for image in images if image]
        if not images:  # a figure around a quote or an embed: keep what it says
            self._container(figure, out)
            return
        caption_tag = figure.find("figcaption")
        caption = plain(self.inline(caption_tag)).strip() if caption_tag else ""
        if caption:
            images[-1] = images[-1].model_copy(update={"caption": caption})
        out.extend(images)

    @staticmethod
    def _image(img: Tag) -> Image | None:
        if is_tracking_pixel(img):
            return None
        src = safe_src(_attr(img, "src")) or safe_src(_attr(img, "data-src"))
        if not src:
            return None
        alt = _SPACE.sub(" ", _attr(img, "alt") or "").strip()
        return Image(src=src, alt=alt)

    def _row(self, tr: Tag, out: list[Block]) -> None:
        """A table row as one paragraph, cells joined by " | " (the essay has no tables)."""
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
        if name in DROPPED_TAGS:
            return
        if name == "br":
            buffer.add_break()
            return
        if name in ("img", "hr"):
            return  # images inside headings, captions or items are not text
        if name in MARK_TAGS:
            marks = _with_mark(marks, MARK_TAGS[name])
        elif name == "a":
            href = safe_href(_attr(tag, "href"))  # an unsafe link keeps only its words
        self._inline_children(tag, buffer, marks, href)


def _has_block(tag: Tag) -> bool:
    return tag.find(BLOCK_TAGS) is not None


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
