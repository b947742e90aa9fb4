"""GFM extended autolinks: bare `www.`, `http(s)://` and e-mail addresses in running text.

pulldown-cmark links only `<…>` autolinks, so this follows the GFM spec's rules on plain
text: a link starts at the beginning of the text or after whitespace or `*`, `_`, `~`,
`(`; its domain has at least one period and no underscore in its last two labels; trailing
`?!.,:*_~` and unbalanced `)` are not part of it, nor an entity-like `&name;` at its end.
An e-mail address ends at its domain; one ending in `-` or `_` is not an address.
"""

from __future__ import annotations

import re

_START = re.compile(
    r"(?:(?<=^)|(?<=[\s*_~(]))(?:(?P<www>www\.)|(?P<scheme>https?://)"
    r"|(?P<email>[A-Za-z0-9._+\-]+@(?P<mail_domain>[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)+)))"
)
_DOMAIN = re.compile(r"[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*")
_PATH = re.compile(r"[^\s<]*")
_TRAILING = "?!.,:*_~"
_ENTITY_END = re.compile(r"&[A-Za-z0-9]+;$")


def _valid_domain(domain: str, *, need_period: bool) -> bool:
    labels = domain.split(".")
    if need_period and len(labels) < 2:
        return False
    return not any("_" in label for label in labels[-2:]) and all(labels)


def _trim(link: str) -> str:
    """Drop trailing punctuation, an unbalanced `)` and an entity-like end, as GFM does."""
    while link:
        if link[-1] in _TRAILING or (link.endswith(")") and link.count(")") > link.count("(")):
            link = link[:-1]
        elif link.endswith(";") and (entity := _ENTITY_END.search(link)):
            link = link[: entity.start()]
        else:
            break
    return link


def _match_at(text: str, match: re.Match[str]) -> tuple[int, str] | None:
    """(end, href) for the autolink starting at `match`, or None if it is not one."""
    if match["email"] is not None:
        address = match["email"]
        domain = match["mail_domain"]
        end = match.end()
        if address.endswith("."):
            address, domain, end = address[:-1], domain[:-1], end - 1
        if domain[-1] in "-_" or "." not in domain:
            return None
        return end, "mailto:" + address
    start = match.end()
    domain = _DOMAIN.match(text, start)
    if domain is None:
        return None
    www = match["www"] is not None
    # `www.` already supplied one period; the domain after a scheme needs its own.
    host = ("www." if www else "") + domain.group()
    path_end = _PATH.match(text, domain.end()).end()
    link = _trim(text[match.start() : path_end])
    host = host[: max(0, len(link) - (len(match["scheme"] or "")))]
    host = _DOMAIN.match(host).group() if host and _DOMAIN.match(host) else ""
    if not host or not _valid_domain(host, need_period=not www) or len(link) <= len(match[0]):
        return None
    return match.start() + len(link), ("http://" + link if www else link)


def autolinks(text: str) -> list[tuple[str, str | None]]:
    """`text` cut into (words, href) pieces; href is None outside any autolink."""
    if "www." not in text and "://" not in text and "@" not in text:
        return [(text, None)]
    pieces: list[tuple[str, str | None]] = []
    pos = 0
    search = 0
    while (match := _START.search(text, search)) is not None:
        found = _match_at(text, match)
        if found is None:
            search = match.start() + 1
            continue
        end, href = found
        if match.start() > pos:
            pieces.append((text[pos : match.start()], None))
        pieces.append((text[match.start() : end], href))
        pos = search = end
    if pos < len(text):
        pieces.append((text[pos:], None))
    return pieces
