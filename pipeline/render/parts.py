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
    Heading,
    ListBlock,
    ListItem,
    Mark,
    Paragraph,
    Quote,
    RelatedLink,
    Rule,
    Run,
    merge_runs,
)

Audience = Literal["blog", "patronage", "social"]

MARK_ORDER: tuple[Mark, ...] = ("strong", "em", "code")
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


def related_blocks(related: list[RelatedLink]) -> list[Block]:
    """The related-posts part as a rule followed by a list of titles."""
    if not related:
        return []
    items = [ListItem(content=[Run(text=link.title, href=link.url or None)]) for link in related]
    return [Rule(), ListBlock(ordered=False, items=items)]


def promo_links_to_patreon(promo: list[Block]) -> bool:
    """True when a promo paragraph links to Patreon: patrons reading it there already joined."""
    return any(is_patreon_url(run.href) for block in promo for run in block_runs(block) if run.href)


def is_patreon_url(url: str | None) -> bool:
    if not url:
        return False
    host = (urlsplit(url.strip()).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in PATREON_HOSTS)


def block_runs(block: Block) -> Iterator[Run]:
    """Every inline run in a block, nested list items included."""
    if isinstance(block, Paragraph | Heading):
        yield from block.content
    elif isinstance(block, Quote):
        for paragraph in block.paragraphs:
            yield from paragraph
    elif isinstance(block, ListBlock):
        for item in block.items:
            yield from item.content
            for child in item.children:
                yield from block_runs(child)


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


def normalize_runs(content: list[Run]) -> list[Run]:
    """Marks in one order, unsafe links dropped, neighbours with equal marks and link joined."""
    return merge_runs([_normalized(run) for run in content])


def _normalized(run: Run) -> Run:
    # the common run is already clean: reuse it instead of building (and validating) a copy
    marks = tuple(m for m in MARK_ORDER if m in run.marks)
    href = safe_href(run.href) if run.href else None
    if marks == run.marks and href == run.href:
        return run
    return Run.model_construct(text=run.text, marks=marks, href=href)


def link_groups(content: list[Run]) -> list[tuple[str | None, list[Run]]]:
    """Consecutive runs sharing a (safe) link target, so one link wraps mixed marks."""
    groups: list[tuple[str | None, list[Run]]] = []
    for run in normalize_runs(content):
        href = run.href
        if groups and groups[-1][0] == href and href is not None:
            groups[-1][1].append(run)
        else:
            groups.append((href, [run]))
    return groups


def link_label(text: str, href: str) -> str:
    """`text (url)` for outputs without links; just the URL when the text already is it."""
    bare = href.removeprefix("mailto:")
    if text.strip() in {href, bare, ""}:
        return href if not text.strip() else text
    return f"{text} ({href})"
