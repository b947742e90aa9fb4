"""LinkedIn "little" text: the `commentary` field of the Posts API (platforms.md §9).

Every reserved character must be backslash-escaped even where it is not markup, or
LinkedIn may cut the post short; the body is the plain-text rendering, escaped whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.document import Block, Footnote
from pipeline.render.hashtags import hashtag
from pipeline.render.plain import render_plain

RESERVED = frozenset("|{}@[]()<>#\\*_~")
UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


def escape_little(text: str) -> str:
    """Backslash before every reserved character: `| { } @ [ ] ( ) < > # \\ * _ ~`."""
    return "".join("\\" + ch if ch in RESERVED else ch for ch in text)


def unescape_little(text: str) -> str:
    """The text a reader sees: every escaping backslash removed."""
    return UNESCAPE.sub(r"\1", text)


def little_hashtag(tag: str) -> str:
    """A hashtag in little's template form, `{hashtag|\\#|Tag}`.

    LinkedIn hashtags are one word, written like every other network's: multi-word tags in
    CamelCase (the shared `hashtag` rule, which keeps combining marks); a tag with no word
    left gives "".
    """
    made = hashtag(tag, "camel")
    if made is None:
        return ""
    return f"{{hashtag|\\#|{escape_little(made.removeprefix('#'))}}}"


def render_little(blocks: list[Block], footnotes: Sequence[Footnote] = ()) -> str:
    """The blocks (and footnotes) as little text: the plain rendering, every reserved
    character escaped, so a note marker "[1]" stays text and no table shows as pipes."""
    return escape_little(render_plain(blocks, footnotes))
