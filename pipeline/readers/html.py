"""HTML → Essay: Medium's account export, and any other article page.

Medium's export is recognised by its markup (`article.h-entry`, `graf` classes,
`.p-canonical`) because its metadata lives in a footer and its body repeats the title;
everything else is read as a generic article. Both go through the shared block walker,
which keeps only text, safe links and safe images.
"""

from __future__ import annotations

import codecs
import re
from datetime import date, datetime
from pathlib import Path

from bs4 import BeautifulSoup, Tag

from pipeline.document import Block, Essay, Rule, plain
from pipeline.errors import ReadError
from pipeline.readers import decode_text, gdocs, substack_page
from pipeline.readers.html_blocks import (
    BlockWalker,
    drop_leading_title,
    meta_content,
    parse_html,
    safe_href,
    text_of,
)
from pipeline.readers.page_profile import Profiled
from pipeline.readers.promo import split_promo

# Medium uses h3 for section headings and h4 for sub-sections (the title is also an h3,
# `graf--title`, and is dropped); an essay's sections start at level 2.
MEDIUM_HEADING_LEVELS = {"h1": 2, "h2": 2, "h3": 2, "h4": 3, "h5": 4, "h6": 5}

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([\w-]+)", re.IGNORECASE)


def read(path: Path, data: bytes) -> Essay:
    """Read an HTML file: a known kind of page through its profile, a Medium export when it
    looks like one, a generic article otherwise."""
    soup = parse_html(decode_html(path, data), path)
    for profile in (gdocs, substack_page):
        if profile.matches(soup):
            return read_profiled(profile.normalise(soup, path))
    if is_medium_export(soup):
        return read_medium_export(soup, path)
    return read_generic(soup, path)


def read_profiled(profiled: Profiled) -> Essay:
    """A profile's normalised body through the generic converter, with the profile's metadata."""
    meta = profiled.meta
    walker = BlockWalker()
    blocks, leading_subtitle = drop_leading_title(walker.blocks(profiled.root), meta.title)
    blocks, promo = split_promo(_trim_rules(blocks))
    return Essay(
        title=meta.title,
        subtitle=meta.subtitle or leading_subtitle,
        author=meta.author,
        published=meta.published,
        tags=meta.tags,
        canonical_url=meta.canonical_url,
        language=meta.language,
        slug=meta.slug,
        blocks=blocks,
        footnotes=walker.footnotes,
        promo=promo,
        source_format=profiled.source_format,
    )


def decode_html(path: Path, data: bytes) -> str:
    """UTF-8 as everywhere else; an older page may declare another charset in a meta tag."""
    try:
        return decode_text(path, data)
    except ReadError:
        declared = _META_CHARSET.search(data[:4096])
        if not declared:
            raise
        try:
            codec = codecs.lookup(declared.group(1).decode("ascii")).name
        except LookupError:
            raise ReadError(path, f"unknown charset {declared.group(1)!r} in meta") from None
        if codec == "utf-8":
            raise
        return decode_text(path, data.decode(codec, errors="replace").encode("utf-8"))


def is_medium_export(soup: BeautifulSoup) -> bool:
    return bool(
        soup.select_one("article.h-entry")
        or soup.select_one(".p-canonical")
        or soup.select_one("[class~=graf]")
    )


def parse_date(value: str | None) -> date | None:
    """The calendar date of an ISO timestamp ("2025-01-12T07:45:00.000Z" → 2025-01-12)."""
    if not value:
        return None
    value = value.strip()
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        match = _DATE.match(value)
        if not match:
            return None
        try:
            return date.fromisoformat(match.group(0))
        except ValueError:
            return None


def read_medium_export(soup: BeautifulSoup, path: Path) -> Essay:
    """One post from Medium's "Download your information" export (`posts/*.html`)."""
    title = text_of(soup.select_one(".p-name")) or text_of(soup.select_one(".graf--title"))
    title = title or text_of(soup.title)
    subtitle = text_of(
        soup.select_one("section[data-field=subtitle]")
        or soup.select_one("section[data-field=description]")
    )
    # read before walking: the walker decomposes dropped elements (a <time> inside an <svg>)
    time_tag = soup.select_one(".dt-published[datetime]")
    published = parse_date(str(time_tag["datetime"])) if time_tag else None
    canonical_tag = soup.select_one(".p-canonical[href]")
    canonical = safe_href(str(canonical_tag["href"])) if canonical_tag else None

    body = soup.select_one(".e-content") or soup.select_one("article") or soup.body or soup
    for tag in body.select(".graf--title, .graf--subtitle"):
        tag.decompose()
    _mark_section_breaks(body)
    _simplify_mixtapes(body)
    walker = BlockWalker(MEDIUM_HEADING_LEVELS)
    blocks = walker.blocks(body)
    blocks, _ = drop_leading_title(blocks, title)
    blocks, promo = split_promo(_trim_rules(blocks))
    return Essay(
        title=title,
        subtitle=subtitle or None,
        author=text_of(soup.select_one(".p-author")) or None,
        published=published,
        canonical_url=canonical,
        blocks=blocks,
        footnotes=walker.footnotes,
        promo=promo,
        source_format="medium-export",
    )


def _mark_section_breaks(body: Tag) -> None:
    """Medium draws a divider between sections, never above the first: keep those as rules."""
    for index, divider in enumerate(body.select("div.section-divider")):
        if index == 0:
            divider.decompose()
        else:
            divider.replace_with(BeautifulSoup("<hr>", "lxml").hr)
    for stray in body.select("hr.section-divider"):
        stray.decompose()


def _simplify_mixtapes(body: Tag) -> None:
    """A link card (`graf--mixtapeEmbed`) becomes one paragraph: its title, linked."""
    for card in body.select(".graf--mixtapeEmbed"):
        anchor = card.select_one("a.markup--mixtapeEmbed-anchor[href]") or card.find("a", href=True)
        if not isinstance(anchor, Tag):
            card.decompose()
            continue
        label = text_of(anchor.find("strong")) or str(anchor.get("title") or "")
        label = label or text_of(anchor)
        paragraph = BeautifulSoup("<p><a></a></p>", "lxml").p
        paragraph.a["href"] = str(anchor["href"])
        paragraph.a.string = label.strip() or str(anchor["href"])
        card.replace_with(paragraph)


def _trim_rules(blocks: list[Block]) -> list[Block]:
    """Rules at the very start or end separate nothing."""
    start, end = 0, len(blocks)
    while start < end and isinstance(blocks[start], Rule):
        start += 1
    while end > start and isinstance(blocks[end - 1], Rule):
        end -= 1
    return blocks[start:end]


def read_generic(soup: BeautifulSoup, path: Path) -> Essay:
    """Any article page: content from `article`, `main` or `body`; metadata from `<head>`."""
    root = soup.find("article") or soup.find("main") or soup.body or soup
    walker = BlockWalker()
    h1 = root.find("h1") or soup.find("h1")
    title = plain(walker.inline(h1)).strip() if isinstance(h1, Tag) else ""
    if isinstance(h1, Tag):
        h1.decompose()
    title = title or meta_content(soup, "og:title") or text_of(soup.title) or path.stem
    if root.name == "body":  # no article element: site chrome around the text is not content
        for chrome in root.find_all(["header", "footer", "aside"]):
            chrome.decompose()
    subtitle = meta_content(soup, "og:description", "description")
    blocks, leading_subtitle = drop_leading_title(walker.blocks(root), title)
    blocks, promo = split_promo(_trim_rules(blocks))
    return Essay(
        title=title,
        subtitle=subtitle or leading_subtitle,
        author=_generic_author(soup),
        published=parse_date(
            meta_content(soup, "article:published_time", "date", "dc.date", "pubdate")
            or _time_datetime(root)
        ),
        tags=_generic_tags(soup),
        canonical_url=_canonical(soup),
        language=_language(soup),
        blocks=blocks,
        footnotes=walker.footnotes,
        promo=promo,
        source_format="html",
    )


def _generic_author(soup: BeautifulSoup) -> str | None:
    author = meta_content(soup, "author", "article:author", "dc.creator")
    if author and author.startswith(("http://", "https://")):
        return None  # article:author is often a profile URL, not a name
    return author


def _time_datetime(root: Tag) -> str | None:
    tag = root.find("time", attrs={"datetime": True})
    return str(tag["datetime"]) if isinstance(tag, Tag) else None


def _generic_tags(soup: BeautifulSoup) -> list[str]:
    tags: list[str] = []
    keywords = meta_content(soup, "keywords")
    if keywords:
        tags.extend(keywords.split(","))
    for tag in soup.find_all("meta", attrs={"property": "article:tag"}):
        tags.append(str(tag.get("content") or ""))
    return unique_tags(tags)


def unique_tags(tags: list[str]) -> list[str]:
    """Trimmed, non-empty, first spelling of each tag kept (case-insensitive)."""
    seen: set[str] = set()
    result: list[str] = []
    for tag in (t.strip() for t in tags):
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            result.append(tag)
    return result


def _canonical(soup: BeautifulSoup) -> str | None:
    link = soup.find("link", rel="canonical", href=True)
    href = str(link["href"]) if isinstance(link, Tag) else meta_content(soup, "og:url")
    href = safe_href(href)
    return href if href and href.startswith(("http://", "https://")) else None


def _language(soup: BeautifulSoup) -> str | None:
    html = soup.find("html")
    lang = str(html.get("lang") or "").strip() if isinstance(html, Tag) else ""
    return lang or None
