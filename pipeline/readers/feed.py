"""RSS/Atom feed → one `Essay` per entry, for importing an author's back catalogue.

Medium's feed is the main source: full HTML in `content:encoded`, the title and subtitle
repeated at the top of that HTML, a 1×1 view counter at the end, a tracking query on
every link and, for publications, a "was originally published in …" trailer. All of
that is platform chrome, not the essay, and is removed here.
"""

from __future__ import annotations

import calendar
import io
import re
import time
from datetime import UTC, datetime
from html import escape
from urllib.parse import urlsplit

import feedparser
from pydantic import BaseModel

from pipeline.document import Block, Essay, Paragraph, Rule, plain
from pipeline.errors import ReadError
from pipeline.readers import substack_page
from pipeline.readers.html import MEDIUM_HEADING_LEVELS, unique_tags
from pipeline.readers.html_blocks import (
    GENERIC_HEADING_LEVELS,
    BlockWalker,
    drop_leading_title,
    parse_html,
)
from pipeline.readers.hygiene import clean_essay, clean_href, clean_text
from pipeline.readers.promo import split_promo

_MEDIUM_TRAILER = re.compile(r"\bwas originally published in\b.*\bon Medium\b", re.IGNORECASE)
# Medium's member-only teaser ends "Continue reading on <publication> »".
_CONTINUE_READING = re.compile(r"^\s*continue reading(?: on .{1,80}?)?\s*»\s*$", re.IGNORECASE)
_STAT_IMAGE = re.compile(r"^https?://(?:[\w-]+\.)*medium\.com/_/stat\b", re.IGNORECASE)


class FeedEntry(BaseModel):
    """One feed item: its stable id (to import each post once), the essay, its last change."""

    guid: str
    essay: Essay
    updated: datetime | None = None


def read_feed(data: bytes) -> list[FeedEntry]:
    """Every entry of an RSS or Atom feed; `ReadError` only when nothing could be read."""
    # a file object, never bytes: feedparser opens bytes that name a local path as a file
    try:
        parsed = feedparser.parse(io.BytesIO(data))
    except (ValueError, LookupError) as exc:  # e.g. an XML declaration naming "\x00"
        raise ReadError("feed", f"not a readable RSS/Atom feed: {exc}") from None
    if parsed.bozo and not parsed.entries:
        reason = parsed.get("bozo_exception") or "malformed feed"
        raise ReadError("feed", f"not a readable RSS/Atom feed: {reason}")
    medium = "medium" in str(parsed.feed.get("generator", "")).lower()
    return [_entry(entry, medium) for entry in parsed.entries]


def _entry(entry: feedparser.FeedParserDict, medium_feed: bool) -> FeedEntry:
    link = entry.get("link")
    canonical = clean_href(link) if link else None
    medium = medium_feed or bool(canonical and "medium.com" in urlsplit(canonical).netloc)
    title = str(entry.get("title") or "").strip()

    html = _content_html(entry)
    soup = parse_html(html, "feed")
    for img in soup.find_all("img"):
        if _STAT_IMAGE.match(str(img.get("src") or "")):
            img.decompose()
    for teaser_link in soup.select(".medium-feed-link"):
        teaser_link.decompose()
    substack = substack_page.matches(soup)
    if substack:  # a Substack feed carries the post's body markup; its subtitle is the summary
        substack_page.clean_body(soup, soup.body or soup)
    walker = BlockWalker(MEDIUM_HEADING_LEVELS if medium else GENERIC_HEADING_LEVELS)
    blocks, subtitle = drop_leading_title(walker.blocks(soup.body or soup), title)
    if substack and entry.get("content") and not subtitle:
        summary = " ".join(str(entry.get("summary") or "").split())
        subtitle = summary if 0 < len(summary) <= 300 and "<" not in summary else None
    blocks, promo = split_promo(_drop_chrome(blocks))

    published = _timestamp(entry, "published_parsed") or _timestamp(entry, "updated_parsed")
    essay = Essay(
        title=clean_text(title) or (canonical or "untitled"),
        subtitle=subtitle,
        author=str(entry.get("author") or "").strip() or None,
        published=published.date() if published else None,
        tags=unique_tags([str(tag.get("term") or "") for tag in entry.get("tags", [])]),
        canonical_url=canonical,
        blocks=blocks,
        footnotes=walker.footnotes,
        promo=promo,
        source_format="feed",
    )
    guid = str(entry.get("id") or canonical or title)
    return FeedEntry(
        guid=guid, essay=clean_essay(essay), updated=_timestamp(entry, "updated_parsed")
    )


def _content_html(entry: feedparser.FeedParserDict) -> str:
    """Full content (`content:encoded`, Atom `content`) or, failing that, the teaser."""
    for content in entry.get("content", []):
        if content.get("value"):
            return _as_html(content.value, content.get("type", "text/html"))
    summary = entry.get("summary_detail") or {}
    return _as_html(str(entry.get("summary") or ""), summary.get("type", "text/html"))


def _as_html(value: str, mime: str) -> str:
    if "html" in mime:
        return value
    paragraphs = (p.strip() for p in re.split(r"\n\s*\n", value))
    return "".join(f"<p>{escape(p)}</p>" for p in paragraphs if p)


def _drop_chrome(blocks: list[Block]) -> list[Block]:
    """Medium's publication trailer and teaser "Continue reading" link, and rules they leave."""
    kept = list(blocks)
    while kept and isinstance(kept[-1], Paragraph | Rule):
        last = kept[-1]
        text = plain(last.content) if isinstance(last, Paragraph) else ""
        if isinstance(last, Rule) or _MEDIUM_TRAILER.search(text) or _CONTINUE_READING.match(text):
            kept.pop()
        else:
            break
    return kept


def _timestamp(entry: feedparser.FeedParserDict, key: str) -> datetime | None:
    # dict.get: FeedParserDict.get would answer `updated_parsed` with the published date
    parsed: time.struct_time | None = dict.get(entry, key)
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
