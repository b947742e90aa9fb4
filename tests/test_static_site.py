"""The static site's index and feed are one shared file: concurrent publishers must all land."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from connectors.base import Account, MemoryJournal, RenderContext
from connectors.static_site import StaticSite
from pipeline.document import Essay, Paragraph, Run


def essay(index: int) -> Essay:
    return Essay(
        title=f"Essay number {index}",
        blocks=[Paragraph(content=[Run(text=f"Body of essay {index}.")])],
    )


def test_essays_published_at_the_same_time_all_reach_the_index_and_feed(tmp_path: Path) -> None:
    site = StaticSite(Account(name="site", platform="static_site", home=str(tmp_path)))

    def publish(index: int) -> None:
        draft = StaticSite.render(essay(index), RenderContext(target="site"))
        site.publish(draft, f"key-{index}", MemoryJournal())

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(publish, range(40)))

    manifest = json.loads((tmp_path / "site" / "posts.json").read_text(encoding="utf-8"))
    assert len(manifest) == 40
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    feed = (tmp_path / "site" / "feed.atom").read_text(encoding="utf-8")
    for n in range(40):
        assert f"Essay number {n}<" in index and f"Essay number {n}<" in feed
