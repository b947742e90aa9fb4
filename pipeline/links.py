"""The link a social post will carry, decided the same way for `preview` and the publisher.

A target with `after = T` links to T's post. Where that URL can be known before T
publishes (a static site's page: `base_url/slug.html`), preview shows it. Where only T's
answer will tell (a WordPress or Ghost post, an outbox file), the text is composed around a
placeholder of fixed length (`slot`): preview shows the placeholder, and the publisher
composes around the very same placeholder and then puts the real URL in its place, so the
teaser the author approved is the teaser that goes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.document import Essay
from pipeline.settings import Settings, TargetSettings

PLACEHOLDER_MARK = "#link-known-once-published"
UNKNOWN_HOST = "https://example.invalid"


@dataclass(frozen=True)
class LinkPlan:
    url: str | None  # known now: the canonical URL, a static page, or None
    slot: str | None = None  # composing placeholder when the URL is known only after publishing
    source: str = ""  # what the link is: "canonical_url", "after <target>", ""


def predicted_url(target: TargetSettings, essay: Essay, home: Path | None) -> str | None:
    """The URL `target` will publish `essay` at, when it follows from settings alone."""
    if target.platform != "static_site":
        return None
    slug = essay.effective_slug()
    base = str(target.options.get("base_url") or "").rstrip("/")
    if base:
        return f"{base}/{slug}.html"
    return (home / "site" / f"{slug}.html").resolve().as_uri() if home else None


def placeholder(target: TargetSettings, essay: Essay) -> str:
    """A URL-shaped stand-in on the target's host: its length leaves room for the real one
    (host, a date path and the slug), and its end says what it is."""
    from connectors import connector_class

    base = target.base_url or connector_class(target.platform).default_base_url or UNKNOWN_HOST
    return f"{base.rstrip('/')}/{essay.effective_slug()}{PLACEHOLDER_MARK}"


def announced_link(
    settings: Settings, essay: Essay, name: str, home: Path | None, depends_on: str | None
) -> LinkPlan:
    """What target `name` links to; `depends_on` is the target it waits for (None: none)."""
    if depends_on and depends_on in settings.targets:
        dependency = settings.targets[depends_on]
        known = predicted_url(dependency, essay, home)
        if known:
            return LinkPlan(known, None, f"after {depends_on}")
        return LinkPlan(None, placeholder(dependency, essay), f"after {depends_on}")
    if essay.canonical_url:
        return LinkPlan(essay.canonical_url, None, "canonical_url")
    return LinkPlan(None)
