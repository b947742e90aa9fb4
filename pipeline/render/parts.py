"""Which parts of an essay each kind of destination gets, and helpers every renderer shares.

Renderers take a block list, not an essay, so the choice of parts is made once, here:
a blog keeps the author's promo and related posts, a patronage site drops a promo that
invites readers to the very site they are on, and a social post carries the body only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal
from urllib.parse import urlsplit

from pipeline.document import (
    Block,
    Essay,
    Footnote,
    Heading,
    Inline,
    InlineImage,
    InlineNode,
    ListBlock,
    ListItem,
    Mark,
    NoteRef,
    Paragraph,
    RelatedLink,
    Rule,
    Run,
    Table,
    built,
    merge_runs,
    walk,
)
from pipeline.render.memo import by_identity

Audience = Literal["blog", "patronage", "social"]

# Outermost first; `code` innermost, since most outputs allow nothing inside code.
MARK_ORDER: tuple[Mark, ...] = ("strong", "em", "strike", "sub", "sup", "code")
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
PATREON_HOSTS = ("patreon.com",)


def blocks_for(essay: Essay, audience: Audience) -> list[Block]:
    """The body blocks plus the parts `audience` keeps, in reading order.

    Related posts come last, as a rule and a bulleted list of titles (a link when the URL
    is known): no heading, so a blog theme's own "related" widget is not doubled by a
    second heading, and the rule marks where the essay itself ends.
    """
    if audience == "social":
        return list(essay.blocks)
    blocks: list[Block] = list(essay.blocks)
    if audience == "blog" or not promo_links_to_patreon(essay.promo):
        blocks.extend(essay.promo)
    blocks.extend(related_blocks(essay.related))
    return blocks


@by_identity()
def related_blocks(related: list[RelatedLink]) -> list[Block]:
    """The related-posts part as a rule followed by a list of titles.

    Built once per essay: the same block objects each call, so the renders of the parts
    that hold them are shared too.
    """
    if not related:
        return []
    items = [
        built(ListItem, blocks=[_title_paragraph(link.title, link.url or None)], checked=None)
        for link in related
    ]
    return [Rule(), built(ListBlock, type="list", ordered=False, start=1, tight=True, items=items)]


def _title_paragraph(title: str, url: str | None) -> Paragraph:
    """A related post's line: its title, a link when the URL is known (typed values: `built`,
    since a Medium copy lists dozens and validating each cost more than the rest)."""
    run = built(Run, type="text", text=title, marks=(), href=url)
    return built(Paragraph, type="paragraph", content=[run])


def promo_links_to_patreon(promo: list[Block]) -> bool:
    """True when a promo paragraph links to Patreon: patrons reading it there already joined."""
    return any(
        is_patreon_url(node.href) for block in promo for node in block_runs(block) if node.href
    )


def is_patreon_url(url: str | None) -> bool:
    if not url:
        return False
    host = (urlsplit(url.strip()).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in PATREON_HOSTS)


def block_runs(block: Block) -> Iterator[InlineNode]:
    """Every inline node in a block and in the blocks nested in it, table cells included."""
    for inner in walk([block]):
        if isinstance(inner, Paragraph | Heading):
            yield from inner.content
        elif isinstance(inner, Table):
            for row in [inner.header, *inner.rows]:
                for cell in row:
                    yield from cell.content


def safe_href(href: str | None, *, allow_relative: bool = True) -> str | None:
    """The link target if it is safe to emit, else None (the text is then shown unlinked).

    Only http, https and mailto are allowed; `javascript:`, `data:` and the like never
    reach any output. Relative URLs (no scheme) pass only when `allow_relative`.
    """
    if href is None:
        return None
    href = href.strip()
    if not href:
        return None
    # Browsers ignore ASCII control characters and whitespace inside a scheme ("java\tscript:").
    compact = re.sub(r"[\x00-\x20\x7f]", "", href)
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", compact)
    if scheme is None:
        if ":" in compact.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]:
            return None
        return href if allow_relative else None
    if scheme.group(1).lower() not in SAFE_SCHEMES:
        return None
    return href


def normalize_runs(content: list[InlineNode]) -> list[InlineNode]:
    """Marks in one order, unsafe links dropped, neighbours with equal marks and link joined.

    Breaks, inline images and note references stay in place (an image loses an unsafe link).
    """
    return merge_runs([_normalized(node) for node in content])


def _normalized(node: InlineNode) -> InlineNode:
    if isinstance(node, InlineImage):
        href = safe_href(node.href) if node.href else None
        return node if href == node.href else node.model_copy(update={"href": href})
    if not isinstance(node, Run):
        return node
    # the common run is already clean: reuse it instead of building (and validating) a copy
    marks = tuple(m for m in MARK_ORDER if m in node.marks)
    href = safe_href(node.href) if node.href else None
    if marks == node.marks and href == node.href:
        return node
    return built(Run, type="text", text=node.text, marks=marks, href=href)


def link_groups(content: list[InlineNode]) -> list[tuple[str | None, list[InlineNode]]]:
    """Consecutive nodes sharing a (safe) link target, so one link wraps mixed marks."""
    groups: list[tuple[str | None, list[InlineNode]]] = []
    for node in normalize_runs(content):
        href = node.href
        if groups and groups[-1][0] == href and href is not None:
            groups[-1][1].append(node)
        else:
            groups.append((href, [node]))
    return groups


def note_numbers(footnotes: list[Footnote]) -> dict[str, int]:
    """Each footnote's number, from 1, in the order the essay keeps them (first reference)."""
    return {note.label: number for number, note in enumerate(footnotes, 1)}


def note_marker(label: str, numbers: dict[str, int]) -> str:
    """What stands for a note reference in text: "[2]"; an unknown label shows as itself."""
    return f"[{numbers.get(label, label)}]"


def shows_something(content: Inline) -> bool:
    """True when inline content has words, an image or a note reference (not only blanks)."""
    return any(
        isinstance(node, InlineImage | NoteRef) or (isinstance(node, Run) and node.text.strip())
        for node in content
    )


TableCellPair = tuple[Inline | None, Inline]


def table_rows(table: Table) -> list[list[TableCellPair]]:
    """A table as rows of (column header, cell) pairs, empty cells left out.

    Outputs without tables show each row as one line that names its columns ("Year: 2019 ·
    Riders: 3,000"), which reads right on a phone where a grid of pipes never does. A table
    with only a header row gives that row, its cells without headers.
    """
    header = [cell.content if shows_something(cell.content) else None for cell in table.header]
    if not table.rows:
        return [[(None, content) for content in header if content is not None]] if header else []
    rows: list[list[TableCellPair]] = []
    for row in table.rows:
        pairs = [
            (header[i] if i < len(header) else None, cell.content)
            for i, cell in enumerate(row)
            if shows_something(cell.content)
        ]
        rows.append(pairs)
    return rows


def link_label(text: str, href: str) -> str:
    """`text (url)` for outputs without links; just the URL when the text already is it.

    Space the link text ends with stays after the URL, so the next word never touches it.
    """
    bare = href.removeprefix("mailto:")
    if text.strip() in {href, bare, ""}:
        return href if not text.strip() else text
    words = text.rstrip()
    return f"{words} ({href}){text[len(words) :]}"
