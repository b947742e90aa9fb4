"""Bluesky rich-text facets: the server links nothing itself, so links and tags are declared.

Facet ranges are UTF-8 byte offsets (start inclusive, end exclusive) per the lexicon
`app.bsky.richtext.facet`; counting characters instead would shift every link after an emoji.
"""

from __future__ import annotations

import regex

from pipeline.render.lengths import graphemes

LINK = "app.bsky.richtext.facet#link"
TAG = "app.bsky.richtext.facet#tag"
MAX_TAG_GRAPHEMES = 64  # lexicon app.bsky.richtext.facet#tag: tag maxGraphemes

# A tag starts at the text's start or after whitespace, like the Bluesky app's detector;
# zero-width and soft-hyphen characters end it, trailing punctuation is not part of it.
_TAG = regex.compile(r"(?:^|(?<=\s))[#＃](?P<tag>[^\s\u00AD\u2060\u200A\u200B\u200C\u200D\u20E2]+)")
_TRAILING_PUNCT = regex.compile(r"\p{P}+$")

# Links as the Bluesky app detects them (RichText.detectFacets): an http(s) URL runs to the next
# whitespace, after the text's start, whitespace or "("; sentence punctuation and an
# unbalanced ")" at its end are left out. Unlike twitter-text, it keeps non-Latin paths whole.
_LINK = regex.compile(r"(?:^|(?<=[\s(]))https?://\S+", regex.IGNORECASE)
_LINK_TRAIL = ".,;:!?\"'。、！？…”’»"


def find_links(text: str) -> list[tuple[int, int]]:
    """Character spans of the http(s) links Bluesky's app would make of `text`."""
    spans: list[tuple[int, int]] = []
    for match in _LINK.finditer(text):
        url = match.group()
        while url and (
            url[-1] in _LINK_TRAIL or (url[-1] == ")" and url.count("(") < url.count(")"))
        ):
            url = url[:-1]
        if len(url) > len("https://") and "." in url.split("://", 1)[1]:
            spans.append((match.start(), match.start() + len(url)))
    return spans


def byte_range(text: str, start: int, end: int) -> dict[str, int]:
    byte_start = len(text[:start].encode("utf-8"))
    return {"byteStart": byte_start, "byteEnd": byte_start + len(text[start:end].encode("utf-8"))}


def bluesky_facets(text: str) -> list[dict]:
    """Link facets for http(s) URLs and tag facets for `#tags`, ordered by position.

    Bare domains are left alone: without the IANA list a dotted word ("config.yaml") would
    become a dead link.
    """
    facets: list[tuple[int, dict]] = []
    urls = find_links(text)
    for start, end in urls:
        facets.append(
            (
                start,
                {
                    "index": byte_range(text, start, end),
                    "features": [{"$type": LINK, "uri": text[start:end]}],
                },
            )
        )
    for match in _TAG.finditer(text):
        tag = _TRAILING_PUNCT.sub("", match.group("tag"))
        start = match.start()
        end = match.start("tag") + len(tag)
        if not tag or tag.isdigit() or graphemes(tag) > MAX_TAG_GRAPHEMES:
            continue
        if any(s < end and start < e for s, e in urls):
            continue
        facets.append(
            (
                start,
                {"index": byte_range(text, start, end), "features": [{"$type": TAG, "tag": tag}]},
            )
        )
    return [facet for _, facet in sorted(facets, key=lambda item: item[0])]
