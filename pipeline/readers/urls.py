"""Link and image targets from any reader: unsafe schemes refused, the rest percent-encoded.

Kept free of HTML parsers so the Markdown path imports nothing heavy. A browser ignores
ASCII tab and newline anywhere in a URL and control characters at its ends, so
"java\\tscript:" is a `javascript:` URL: they are removed before the scheme is judged.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
IMAGE_SCHEMES = frozenset({"http", "https"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_URL_IGNORED = re.compile(r"[\x00-\x20\x7f]+")
# What CommonMark renderers leave as it is in a destination (the rest is percent-encoded);
# an existing %XX escape is kept, a lone % is encoded.
_KEEP = ";/?:@&=+$,-_.!~*'()#"
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def encode_url(url: str) -> str:
    """`url` percent-encoded as CommonMark renderers write it (spaces, quotes, non-ASCII)."""
    if url.isascii() and not re.search(r"[^A-Za-z0-9;/?:@&=+$,\-_.!~*'()#]", url):
        return url
    parts: list[str] = []
    pos = 0
    for match in _ESCAPE.finditer(url):
        parts.append(quote(url[pos : match.start()], safe=_KEEP))
        parts.append(match.group())
        pos = match.end()
    parts.append(quote(url[pos:], safe=_KEEP))
    return "".join(parts)


def _safe_url(url: str | None, schemes: frozenset[str]) -> str | None:
    if url is None:
        return None
    cleaned = _URL_IGNORED.sub("", url)
    if not cleaned:
        return None
    match = _SCHEME.match(cleaned)
    if match and match.group(1).lower() not in schemes:
        return None
    if match is None and ":" in re.split(r"[/?#]", cleaned, maxsplit=1)[0]:
        return None  # "foo):bar" has no valid scheme, but some clients would guess one
    if match and match.group(1).lower() in ("http", "https") and not _has_host(cleaned):
        return None  # "https://../" goes nowhere
    return url.strip()


def _has_host(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return bool(host) and all(host.rstrip(".").split("."))


def safe_href(href: str | None) -> str | None:
    """The link target if it is http(s), mailto or relative; None for anything else."""
    return _safe_url(href, LINK_SCHEMES)


def safe_src(src: str | None) -> str | None:
    """The image source if it is http(s) or relative (never data:, javascript: …)."""
    return _safe_url(src, IMAGE_SCHEMES)
