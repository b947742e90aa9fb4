"""Heading levels that nest: below a page's title (`<h1>`), the body's headings start at
`<h2>` and never skip a level going down.

Sources skip levels freely (Medium exports sections as `<h3>`, a Markdown author may jump
from `##` to `####`); an HTML checker calls a skipped level an error and screen readers
announce a false outline. Applied where a renderer puts the title above the body.
"""

from __future__ import annotations

from pipeline.document import Block, Heading, walk


def nested_headings(blocks: list[Block], top: int = 2) -> list[Block]:
    """A copy of `blocks` whose headings start at `top` and step down one level at most.

    The relative order is kept: the body's biggest heading becomes `top`, and a heading
    never lands deeper than one below the heading before it.
    """
    copies = [block.model_copy(deep=True) for block in blocks]
    headings = [block for block in walk(copies) if isinstance(block, Heading)]
    if not headings:
        return copies
    shift = min(h.level for h in headings) - top
    previous = top - 1
    for heading in headings:
        level = max(top, min(heading.level - shift, previous + 1, 6))
        heading.level = level
        previous = level
    return copies
