"""Inline `[text](url)` links, bare URLs and `**bold**` inside plain text.

Medium keeps Markdown the author typed without converting it, so a copied promo arrives as
`[patreon.com/x](https://…)`. Only http(s) and mailto targets become links; anything else
stays literal text, so a `javascript:` target can never turn into an href.
"""

from __future__ import annotations

import re

from pipeline.document import Inline, Mark, Run, merge_runs

MARK_ORDER: tuple[Mark, ...] = ("strong", "em", "code")

_SAFE_URL = re.compile(r"^(?:https?://|mailto:)\S+$", re.IGNORECASE)
# One level of balanced parentheses in the URL, for links such as Wikipedia's `Foo_(bar)`.
_TOKEN = re.compile(
    r"\[(?P<label>[^\[\]\n]+)\]\((?P<url>(?:[^()\s]|\([^()\s]*\))+)\)"
    r"|\*\*(?P<bold>[^*\n]+?)\*\*"
    r"|(?<![\w/@.])(?P<bare>(?:https?://|www\.)[^\s<>\"\[\]]+)"
)
# Punctuation that ends a sentence rather than the URL it follows.
_URL_TAIL = ".,;:!?'\"’”»"


def with_mark(marks: tuple[Mark, ...], mark: Mark) -> tuple[Mark, ...]:
    """`marks` plus `mark`, in one canonical order so equal styling compares equal."""
    wanted = {*marks, mark}
    return tuple(m for m in MARK_ORDER if m in wanted)


def is_safe_url(url: str) -> bool:
    return bool(_SAFE_URL.match(url))


def parse_inline(text: str, marks: tuple[Mark, ...] = (), href: str | None = None) -> Inline:
    """Runs for `text`: Markdown links and bold become marks, everything else stays as typed."""
    runs: list[Run] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        runs.append(Run(text=text[pos : match.start()], marks=marks, href=href))
        if match["bare"] is not None:
            url, tail = _bare_url(match["bare"])
            link = url if url.lower().startswith("http") else f"https://{url}"
            linkable = "." in url.split("//", 1)[-1].removeprefix("www.")
            runs.append(Run(text=url, marks=marks, href=href or (link if linkable else None)))
            runs.append(Run(text=tail, marks=marks, href=href))
        elif match["bold"] is not None:
            runs.extend(parse_inline(match["bold"], with_mark(marks, "strong"), href))
        elif href is None and is_safe_url(match["url"]):
            runs.extend(parse_inline(match["label"], marks, match["url"]))
        else:
            runs.append(Run(text=match.group(0), marks=marks, href=href))
        pos = match.end()
    runs.append(Run(text=text[pos:], marks=marks, href=href))
    return merge_runs(runs)


def _bare_url(candidate: str) -> tuple[str, str]:
    """A bare URL and the punctuation after it: "(see https://a.org/x)." → url, ")."."""
    url = candidate
    while url and (url[-1] in _URL_TAIL or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url, candidate[len(url) :]
