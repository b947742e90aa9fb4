"""POSSE: the essay's page on the writer's own site lists where its copies went.

The list is never sent anywhere; it is a function of the store: every copy of the essay
on another target that has a public URL and was not cancelled. When that set changes (a
copy published, confirmed or cancelled), the essay's published site pages are marked for
an update, in the same transaction as the change: a crash after the commit still finds
the mark, and the update is claimed and journaled like any other publication, so the
page is rewritten once it runs, and nothing is posted again.

A page's update records the URLs it listed (`remote_extra["syndication"]`); a page is
stale when that record differs from the store. Checking after every publication of the
essay, the page's own included, closes the race where a copy lands while the page is
being rewritten: the later of the two transactions sees the other and marks it again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from connectors import connector_class
from pipeline.store import State, Store

# targets whose copies are not public copies of the essay (dry runs write local files,
# and those carry no http(s) URL anyway)
NOT_COPIES = {"outbox"}


def shows_syndication(platform: str) -> bool:
    """Does this platform's page list the essay's copies elsewhere?"""
    return bool(getattr(connector_class(platform), "shows_syndication", False))


def copies(store: Store, session: Session, essay_id: int) -> list[dict[str, str]]:
    """The essay's public copies on other targets, in target-name order."""
    rows = store.public_copies(session, essay_id)
    return [
        {"target": target, "platform": platform, "url": url}
        for target, platform, url in rows
        if platform not in NOT_COPIES
        and not shows_syndication(platform)
        and url.startswith(("http://", "https://"))
    ]


def mark_stale_pages(session: Session, store: Store, essay_id: int, now: datetime) -> list[int]:
    """Schedule an update of each published site page of the essay whose copy list is
    behind the store; returns the ids scheduled. Call inside the transaction that changed
    a copy. The page rows are locked first (PostgreSQL), so two such transactions running
    at once see each other's work."""
    rows = store.platforms_of_essay(session, essay_id)
    page_ids = [pub_id for pub_id, platform in rows if shows_syndication(platform)]
    if not page_ids:
        return []
    # lock only the pages (never the copies: two transactions would wait on each other)
    pages = store.lock_publications(session, page_ids)
    urls = [copy["url"] for copy in copies(store, session, essay_id)]
    scheduled: list[int] = []
    for page in pages:
        listed = (page.remote_extra or {}).get("syndication") or []
        if page.state != State.PUBLISHED.value or listed == urls:
            continue  # not yet published, or being written: it renders the current list
        store.schedule_update(
            session, page, now, why="the essay's copies elsewhere changed: its page lists them"
        )
        scheduled.append(page.id)
    return scheduled


def copies_for_render(store: Store, essay_id: int) -> list[dict[str, str]]:
    """The copies a page rendered now must list (its own short transaction)."""
    with store.session() as session:
        return copies(store, session, essay_id)
