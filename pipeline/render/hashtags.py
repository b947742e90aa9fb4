"""The author's tags as hashtags. Tags are never invented: no tags in, no hashtags out."""

from __future__ import annotations

from typing import Literal

import regex

Style = Literal["camel", "lower", "plain"]

# Letters, marks and digits are what Mastodon, Bluesky and X all accept inside a hashtag;
# anything else (spaces, hyphens, punctuation, emoji) separates words. A word starts with a
# letter or digit (a lone combining mark or variation selector is no tag), and U+20E2, a mark
# that ends a tag for the Bluesky app, separates words too.
_WORD = regex.compile(r"[\p{L}\p{N}](?:(?!\u20e2)[\p{L}\p{M}\p{N}])*")


def hashtag(tag: str, style: Style = "camel") -> str | None:
    """One tag as `#Tag`, or None when nothing usable is left (or it is only digits)."""
    words = _WORD.findall(tag)
    if not words:
        return None
    if style == "lower":
        body = "".join(words).lower()
    elif style == "camel" and len(words) > 1:
        # Upper-case each word's first letter only, so "iOS apps" stays readable: #IOSApps.
        body = "".join(w[:1].upper() + w[1:] for w in words)
    else:
        body = "".join(words)  # a single word keeps the author's case: #indieweb, #NaNoWriMo
    if body.isdigit():
        return None  # a number alone is not a hashtag on any of the platforms
    return "#" + body


def hashtags(tags: list[str], style: Style = "camel") -> list[str]:
    """Hashtags in the author's order, empty ones dropped, duplicates (any case) removed."""
    seen: set[str] = set()
    result: list[str] = []
    for tag in tags:
        made = hashtag(tag, style)
        if made is None or made.casefold() in seen:
            continue
        seen.add(made.casefold())
        result.append(made)
    return result
