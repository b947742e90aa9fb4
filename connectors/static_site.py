"""A real static blog in `site/`: the writer's home base, served by any web server.

One page per essay, a paged index, one page per tag, a 404 page, Atom and JSON feeds, a
stylesheet, and the essays' images copied under `images/` (see `connectors/site/`). The
manifest (`posts.json`) holds everything a page is made from, so any page can be written
again; pages and the manifest are written atomically, under one lock, so a crash never
leaves half a page and two publishers never lose each other's entry. A page carries its
publication key, so a retry finds it.

POSSE: the engine passes the essay's copies elsewhere (`syndication` in the render
options); the page lists them as "Also published on" (`u-syndication`). A new or
withdrawn copy reaches the page as an update of this target, never as a new publication.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any, ClassVar

from connectors.base import Connector, Dedupe, Draft, Kind, Post, Remote, RenderContext
from connectors.local_files import home_folder, locked, write_atomic, write_if_changed
from connectors.site import pages
from connectors.site.feeds import atom_feed, json_feed
from connectors.site.images import localize_images
from connectors.site.options import SiteOptions
from pipeline.document import Essay
from pipeline.render.composer import shorten, teaser_of
from pipeline.render.html import render_html
from pipeline.render.outline import nested_headings
from pipeline.render.parts import blocks_for

MANIFEST = "posts.json"
THEME_STAMP = ".theme"  # the fingerprint of the options and theme the pages were made with
SUMMARY_LIMIT = 240


class StaticSite(Connector):
    platform: ClassVar[str] = "static_site"
    kind: ClassVar[Kind] = Kind.BLOG
    dedupe: ClassVar[Dedupe] = Dedupe.RECORD_KEY
    can_edit: ClassVar[bool] = True
    # the engine passes the essay's copies on other targets (`syndication` option)
    shows_syndication: ClassVar[bool] = True

    @classmethod
    def render(cls, essay: Essay, ctx: RenderContext) -> Draft:
        request = {
            "slug": essay.effective_slug(),
            "title": essay.title,
            "subtitle": essay.subtitle,
            "summary": shorten(teaser_of(essay), lambda text: len(text) <= SUMMARY_LIMIT),
            "author": essay.author,
            "published": essay.published.isoformat() if essay.published else None,
            "tags": essay.tags,
            "canonical_url": essay.canonical_url,
            "language": essay.language or ctx.options.get("language") or "en",
            # the page's <h1> is the title: the body's headings nest below it
            "html": render_html(nested_headings(blocks_for(essay, "blog"), top=2), essay.footnotes),
            "syndication": [
                {"label": pages.platform_name(copy["platform"]), "url": copy["url"]}
                for copy in ctx.options.get("syndication") or []
            ],
        }
        return cls.draft(essay, ctx, request=request, slug=request["slug"])

    # -- files --------------------------------------------------------------

    def folder(self) -> Path:
        return home_folder(self.account.home, "site")

    def site(self) -> pages.Site:
        return pages.Site(SiteOptions.read(dict(self.account.options)), self.folder())

    def url_for(self, slug: str) -> str:
        return self.site().url(pages.essay_path(slug))

    def manifest(self) -> dict[str, Any]:
        path = self.folder() / MANIFEST
        if not path.exists():
            return {}
        entries = json.loads(path.read_text(encoding="utf-8"))
        site = self.site()
        return {slug: _upgraded(site, slug, entry) for slug, entry in entries.items()}

    def write_page(self, request: dict[str, Any], key: str) -> Remote:
        """Write (or rewrite) one essay's page and everything that lists it."""
        site = self.site()
        slug = request["slug"]
        images = localize_images(request["html"], site.folder, site.options.image_max_bytes)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with locked(site.folder):  # read-modify-write: another publisher may be at it too
            manifest = self.manifest()
            earlier = manifest.get(slug, {})
            entry = {
                "key": key,
                # an Atom/JSON Feed id is for ever: kept through edits, whatever the URL
                "id": earlier.get("id") or f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, key)}",
                "title": request["title"],
                "subtitle": request.get("subtitle"),
                "summary": request.get("summary") or "",
                "author": request.get("author"),
                "published": earlier.get("published") or _published(request.get("published"), now),
                "created": earlier.get("created") or now,
                "updated": now,
                "tags": request.get("tags") or [],
                "canonical_url": request.get("canonical_url"),
                "language": request.get("language"),
                "html": images.html,
                "minutes": pages.reading_minutes(images.html),
                "image": images.first,
                "syndication": request.get("syndication") or [],
            }
            manifest[slug] = entry
            write_atomic(site.folder / pages.essay_path(slug), pages.essay_page(site, slug, entry))
            self._save(site, manifest)
        return Remote(id=slug, url=site.url(pages.essay_path(slug)), extra=_extra(key, entry))

    def _save(self, site: pages.Site, manifest: dict[str, Any]) -> None:
        """The manifest, then every file that lists essays; stale tag and index pages go."""
        write_atomic(site.folder / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))
        listing = {**pages.index_pages(site, manifest), **pages.tag_pages(site, manifest)}
        for path, text in listing.items():
            write_if_changed(site.folder / path, text)
        for folder in ("page", "tags"):
            for old in (site.folder / folder).glob("*.html"):
                if f"{folder}/{old.name}" not in listing:
                    old.unlink(missing_ok=True)
        write_atomic(site.folder / "feed.atom", atom_feed(site, manifest))
        write_atomic(site.folder / "feed.json", json_feed(site, manifest))
        write_if_changed(site.folder / "404.html", pages.not_found_page(site))
        for name in pages.THEME_FILES:
            write_if_changed(site.folder / name, pages.theme_file(name))
        self._rewrite_pages_if_theme_changed(site, manifest)

    def _rewrite_pages_if_theme_changed(self, site: pages.Site, manifest: dict[str, Any]) -> None:
        """New options or a new theme reach every essay's page, not only the next one
        published: the pages are written again when the theme's fingerprint changes."""
        stamp = site.folder / THEME_STAMP
        fingerprint = pages.theme_fingerprint(site.options)
        if stamp.exists() and stamp.read_text(encoding="utf-8") == fingerprint:
            return
        for slug, entry in manifest.items():
            write_atomic(site.folder / pages.essay_path(slug), pages.essay_page(site, slug, entry))
        write_atomic(stamp, fingerprint)

    # -- contract -----------------------------------------------------------

    def create_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote:
        return self.write_page(post.request, key)

    def find_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote | None:
        slug = post.request["slug"]
        entry = self.manifest().get(slug)
        page = self.folder() / pages.essay_path(slug)
        if entry and entry.get("key") == key and page.exists():
            return Remote(id=slug, url=self.url_for(slug), extra=_extra(key, entry))
        return None

    def update(self, remote: Remote, draft: Draft) -> Remote:
        return self.write_page(draft.posts[0].request, str(remote.extra.get("key", remote.id)))

    def delete(self, remote: Remote) -> None:
        site = self.site()
        with locked(site.folder):
            manifest = self.manifest()
            manifest.pop(remote.id, None)
            (site.folder / pages.essay_path(remote.id)).unlink(missing_ok=True)
            self._save(site, manifest)

    def verify(self) -> str:
        self.folder().mkdir(parents=True, exist_ok=True)
        return f"writes to {self.folder()}"


def _published(day: str | None, now: str) -> str:
    """The essay's own date (midnight UTC) when it gives one, else the moment of publishing."""
    if not day:
        return now
    return datetime.combine(datetime.fromisoformat(day).date(), time(), UTC).isoformat()


def _upgraded(site: pages.Site, slug: str, entry: dict[str, Any]) -> dict[str, Any]:
    """An entry written before the theme (title, html, dates only) with what pages need.
    Its feed id stays the one the old Atom feed gave it (the page's URL), as ids must."""
    if "id" in entry:
        return entry
    # HTML's `datetime` takes at most three digits of a second: whole seconds, as new ones
    published, updated = (
        datetime.fromisoformat(entry[name]).isoformat(timespec="seconds")
        for name in ("published", "updated")
    )
    return {
        "subtitle": None,
        "tags": [],
        "syndication": [],
        "image": None,
        **entry,
        "id": site.url(pages.essay_path(slug)),
        "created": published,
        "published": published,
        "updated": updated,
    }


def _extra(key: str, entry: dict[str, Any]) -> dict[str, Any]:
    """What the store keeps: the key (for updates) and the copies the page lists, so the
    engine can tell when the page is behind the copies that exist."""
    return {"key": key, "syndication": [copy["url"] for copy in entry.get("syndication", [])]}
