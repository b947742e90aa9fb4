"""The second source: RSS/Atom feeds (a Medium `/feed/@user`) polled on a schedule.

Each entry is taken once, by guid; its full content becomes an essay like a dropped file.
A feed that cannot be fetched or parsed is logged and tried again at the next poll.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pipeline.errors import ReadError
from pipeline.fetch import FetchError, fetch
from pipeline.logs import get_logger

if TYPE_CHECKING:
    from pipeline.publishing.pipeline import Pipeline

MAX_FEED_BYTES = 5 * 1024 * 1024


class FeedPoller:
    def __init__(self, engine: Pipeline) -> None:
        self.engine = engine
        self.log = get_logger(component="feeds")

    def poll_all(self) -> int:
        return sum(self.poll(feed.url) for feed in self.engine.settings.feeds)

    def poll(self, url: str) -> int:
        """Import the feed's new entries; returns how many essays were added."""
        # feedparser, bs4 and the HTML readers load on the first poll: a daemon without
        # feeds never pays for them
        from pipeline.readers.feed import read_feed

        try:
            entries = read_feed(fetch(url, max_bytes=MAX_FEED_BYTES).content)
        except (FetchError, ReadError) as exc:
            self.log.warning("feed poll failed", feed=url, error=str(exc))
            return 0
        known = self.engine.store.feed_guids(url)
        added = 0
        for entry in entries:
            if entry.guid in known:
                continue
            data = json.dumps(
                {"feed": url, "guid": entry.guid, "essay": entry.essay.model_dump(mode="json")}
            ).encode()
            intake = self.engine.add_essay(
                entry.essay, entry.guid, data, source="feed", feed_entry=(url, entry.guid)
            )
            added += intake.outcome == "new"
            self.log.info(
                "feed entry taken",
                feed=url,
                guid=entry.guid,
                outcome=intake.outcome,
                essay=intake.essay_id,
            )
        return added
