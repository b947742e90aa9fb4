"""Inline `[text](url)` links, bare URLs and `**bold**` inside plain text.

Medium keeps Markdown the author typed without converting it, so a copied promo arrives as
`[patreon.com/x](https://…)`. Only http(s) and mailto targets become links; anything else
stays literal text, so a `javascript:` target can never turn into an href.
"""

from __future__ import annotations

import re

from pipeline.document import Inline, Mark, Run, merge_runs, with_mark
from pipeline.readers.autolink import autolinks

_SAFE_URL = re.compile(r"^(?:https?://|mailto:)\S+$", re.IGNORECASE)
# One level of balanced parentheses in the URL, for links such as Wikipedia's `Foo_(bar)`.
_TOKEN = re.compile(
    r"\[(?P<label>[^\[\]\n]+)\]\((?P<url>(?:[^()\s]|\([^()\s]*\))+)\)"
    r"|\*\*(?P<bold>[^*\n]+?)\*\*"
)


def is_safe_url(url: str) -> bool:
    return bool(_SAFE_URL.match(url))


def parse_inline(text: str, marks: tuple[Mark, ...] = (), href: str | None = None) -> Inline:
    """Runs for `text`: Markdown links and bold become marks, everything else stays as typed."""
    runs: list[Run] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        runs.extend(_text_runs(text[pos : match.start()], marks, href))
        if match["bold"] is not None:
            runs.extend(parse_inline(match["bold"], with_mark(marks, "strong"), href))
        elif href is None and is_safe_url(match["url"]):
            runs.extend(parse_inline(match["label"], marks, match["url"]))
        else:
            runs.append(Run(text=match.group(0), marks=marks, href=href))
        pos = match.end()
    runs.extend(_text_runs(text[pos:], marks, href))
    return merge_runs(runs)


def _text_runs(text: str, marks: tuple[Mark, ...], href: str | None) -> list[Run]:
    """Plain text as runs; outside a link, bare URLs and addresses become links (GFM rules)."""
    if href is not None:
        return [Run(text=text, marks=marks, href=href)]
    return [Run(text=words, marks=marks, href=link) for words, link in autolinks(text)]
