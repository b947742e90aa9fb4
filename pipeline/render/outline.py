"""Heading levels that nest: below a page's title (`<h1>`), the body's headings start at
`<h2>` and never skip a level going down.

Sources skip levels freely (Medium exports sections as `<h3>`, a Markdown author may jump
from `##` to `####`); an HTML checker calls a skipped level an error and screen readers
announce a false outline. Applied where a renderer puts the title above the body.
"""

from __future__ import annotations

from pipeline.document import Block, Heading, walk


def nested_headings(blocks: list[Block], top: int = 2) -> list[Block]:
    """`blocks` with headings that start at `top` and step down one level at most.

    The relative order is kept: the body's biggest heading becomes `top`, and a heading
    never lands deeper than one below the heading before it. The blocks are copied only
    when a level must change (most essays already nest): rendering stays cheap.
    """
    levels = _nested_levels([b.level for b in walk(blocks) if isinstance(b, Heading)], top)
    current = [b.level for b in walk(blocks) if isinstance(b, Heading)]
    if levels == current:
        return list(blocks)
    copies = [block.model_copy(deep=True) for block in blocks]
    headings = [block for block in walk(copies) if isinstance(block, Heading)]
    for heading, level in zip(headings, levels, strict=True):
        heading.level = level
    return copies


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
