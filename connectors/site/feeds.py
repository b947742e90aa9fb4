"""The site's feeds: Atom (RFC 4287) and JSON Feed 1.1, newest essays first.

Ids never change once given (an edit changes `updated`, never `id`), every link is
absolute, and every entry names an author (the essay's, else the site's, else the site's
title: RFC 4287 §4.1.1 wants one on the feed or on each entry).
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from connectors.site.pages import Site, essay_path, index_path, newest_first

_RELATIVE_SRC = re.compile(r'(<img\b[^>]*?\ssrc=")(?!https?:|file:|data:)([^"]+)"')


def absolute_body(site: Site, body: str) -> str:
    """Feed readers resolve nothing: make the site's own image paths absolute."""
    return _RELATIVE_SRC.sub(lambda m: f'{m[1]}{site.url(m[2])}"', body)


def _author(site: Site, entry: dict[str, Any] | None = None) -> str:
    return (entry or {}).get("author") or site.options.author or site.options.title


def atom_feed(site: Site, manifest: dict[str, Any]) -> str:
    ordered = newest_first(manifest)[: site.options.feed_entries]
    updated = max((e["updated"] for _, e in ordered), default="1970-01-01T00:00:00+00:00")
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={quoteattr(site.options.language)}>',
        f"<title>{escape(site.options.title)}</title>",
    ]
    if site.options.description:
        lines.append(f"<subtitle>{escape(site.options.description)}</subtitle>")
    lines += [
        f"<id>{escape(site.url(''))}</id>",
        f"<updated>{updated}</updated>",
        f"<author><name>{escape(_author(site))}</name>"
        + (f"<uri>{escape(site.options.author_url)}</uri>" if site.options.author_url else "")
        + "</author>",
        f'<link rel="self" type="application/atom+xml" href={quoteattr(site.url("feed.atom"))}/>',
        f'<link rel="alternate" type="text/html" href={quoteattr(site.url(index_path(1)))}/>',
        '<generator uri="https://example.invalid/crosspost">crosspost</generator>',
    ]
    for slug, entry in ordered:
        url = site.url(essay_path(slug))
        parts = [
            "<entry>",
            f"<title>{escape(entry['title'])}</title>",
            f"<id>{escape(entry['id'])}</id>",
            f'<link rel="alternate" type="text/html" href={quoteattr(url)}/>',
            f"<published>{entry['published']}</published>",
            f"<updated>{entry['updated']}</updated>",
            f"<author><name>{escape(_author(site, entry))}</name></author>",
        ]
        parts += [f"<category term={quoteattr(tag)}/>" for tag in entry.get("tags", [])]
        summary = entry.get("subtitle") or entry.get("summary")
        if summary:
            parts.append(f"<summary>{escape(summary)}</summary>")
        parts.append(f'<content type="html">{escape(absolute_body(site, entry["html"]))}</content>')
        parts.append("</entry>")
        lines.append("".join(parts))
    lines.append("</feed>")
    return "\n".join(lines) + "\n"


def json_feed(site: Site, manifest: dict[str, Any]) -> str:
    ordered = newest_first(manifest)[: site.options.feed_entries]
    author: dict[str, str] = {"name": _author(site)}
    if site.options.author_url:
        author["url"] = site.options.author_url
    feed: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": site.options.title,
        "home_page_url": site.url(index_path(1)),
        "feed_url": site.url("feed.json"),
        "language": site.options.language,
        "authors": [author],
        "items": [],
    }
    if site.options.description:
        feed["description"] = site.options.description
    for slug, entry in ordered:
        item: dict[str, Any] = {
            "id": entry["id"],
            "url": site.url(essay_path(slug)),
            "title": entry["title"],
            "content_html": absolute_body(site, entry["html"]),
            "date_published": entry["published"],
            "date_modified": entry["updated"],
            "authors": [{"name": _author(site, entry)}],
        }
        summary = entry.get("subtitle") or entry.get("summary")
        if summary:
            item["summary"] = summary
        if entry.get("canonical_url"):
            item["external_url"] = entry["canonical_url"]
        if entry.get("image"):
            src = entry["image"]["src"]
            item["image"] = src if re.match(r"https?://|file:", src) else site.url(src)
        if entry.get("tags"):
            item["tags"] = entry["tags"]
        if entry.get("language"):
            item["language"] = entry["language"]
        feed["items"].append(item)
    return json.dumps(feed, indent=1, ensure_ascii=False) + "\n"
