"""Heading levels that nest: below a page's title (`<h1>`), the body's headings start at
`<h2>` and never skip a level going down.

Sources skip levels freely (Medium exports sections as `<h3>`, a Markdown author may jump
from `##` to `####`); an HTML checker calls a skipped level an error and screen readers
announce a false outline. Applied where a renderer puts the title above the body.
"""

from __future__ import annotations

from collections.abc import Iterator

from pipeline.document import Block, Heading, ListBlock, Quote, walk
from pipeline.render.memo import by_identity


@by_identity()
def nested_headings(blocks: list[Block], top: int = 2) -> list[Block]:
    """`blocks` with headings that start at `top` and step down one level at most.

    The relative order is kept: the body's biggest heading becomes `top`, and a heading
    never lands deeper than one below the heading before it. Blocks are copied only on the
    way to a heading whose level must change (most essays already nest), shallowly, and
    once per essay: the static site and Medium share the result, and so its render.
    """
    current = [b.level for b in walk(blocks) if isinstance(b, Heading)]
    levels = _nested_levels(current, top)
    if levels == current:
        return list(blocks)
    return _relevelled(blocks, iter(levels))


def _relevelled(blocks: list[Block], levels: Iterator[int]) -> list[Block]:
    """`blocks` with each heading, in `walk` order, at the next of `levels`."""
    out: list[Block] = []
    for block in blocks:
        if isinstance(block, Heading):
            level = next(levels)
            if level != block.level:
                block = block.model_copy(update={"level": level})
        elif isinstance(block, Quote):
            block = block.model_copy(update={"blocks": _relevelled(block.blocks, levels)})
        elif isinstance(block, ListBlock):
            items = [
                item.model_copy(update={"blocks": _relevelled(item.blocks, levels)})
                for item in block.items
            ]
            block = block.model_copy(update={"items": items})
        out.append(block)
    return out


def _nested_levels(levels: list[int], top: int) -> list[int]:
    if not levels:
        return []
    shift = min(levels) - top
    previous = top - 1
    nested = []
    for level in levels:
        previous = max(top, min(level - shift, previous + 1, 6))
        nested.append(previous)
    return nested
