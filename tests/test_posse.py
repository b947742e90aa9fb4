"""POSSE: the essay's page on the writer's site lists the copies on other targets.

The real program runs against two emulated social platforms (Mastodon and X) over HTTP on
127.0.0.1. The page's "Also published on" list must hold exactly the copies' URLs, the
site must stay one publication, and nothing may be posted twice, also when the process
is killed (SIGKILL) between a social post and the page's rewrite.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pydantic import SecretStr

from pipeline.publishing.pipeline import Pipeline
from pipeline.readers import read_bytes
from pipeline.settings import Settings, TargetSettings
from pipeline.store import State
from tests.daemon_helpers import crosspost, make_home, status
from tests.emulators.mastodon import MastodonEmulator
from tests.emulators.x import XEmulator
from tests.validators import html_errors

TOOT_TOKEN = "posse-mastodon-token-51c2"
X_TOKEN = "posse-x-bearer-token-9d0e"
ESSAY = """---
title: Walking Home the Long Way
tags: [walking, cities]
---

Every evening I take the long way home, past the canal and the old rope works.

> A city is best read on foot.

It adds twenty minutes and takes away a day's worth of noise.
"""


@pytest.fixture
def mastodon() -> Iterator[MastodonEmulator]:
    emulator = MastodonEmulator()
    emulator.add_account(TOOT_TOKEN, "walker")
    with emulator:
        yield emulator


@pytest.fixture
def x() -> Iterator[XEmulator]:
    emulator = XEmulator()
    emulator.add_bearer(X_TOKEN, emulator.add_user("walker"))
    with emulator:
        yield emulator


def targets(mastodon: MastodonEmulator, x: XEmulator) -> dict[str, dict]:
    return {
        "site": {
            "platform": "static_site",
            "options": {"title": "Long Ways", "base_url": "https://walker.example.org"},
        },
        "toot": {
            "platform": "mastodon",
            "base_url": mastodon.base_url,
            "after": "site",
            "credentials": {"access_token": TOOT_TOKEN},
        },
        "tweet": {
            "platform": "x",
            "base_url": x.base_url,
            "after": "site",
            "credentials": {"bearer_token": X_TOKEN},
            "options": {"username": "walker"},
        },
    }


def config_text(spec: dict[str, dict]) -> str:
    lines = ['timezone = "UTC"', "retry_base_seconds = 0.05", "retry_max_seconds = 0.1"]
    for name, table in spec.items():
        lines.append(f"[targets.{name}]")
        for key, value in table.items():
            if isinstance(value, dict):
                inner = ", ".join(f'{k} = "{v}"' for k, v in value.items())
                lines.append(f"{key} = {{ {inner} }}")
            else:
                lines.append(f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


def syndication_links(page: Path) -> list[str]:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    return [a["href"] for a in soup.select("a.u-syndication")]


def social_urls(mastodon: MastodonEmulator, x: XEmulator) -> list[str]:
    toots = [s["url"] for s in mastodon.statuses.values()]
    tweets = [f"https://x.com/walker/status/{t['id']}" for t in x.published()]
    return toots + tweets


def copies_in_store(home: Path) -> dict[str, str]:
    return {r["target"]: r["url"] for r in status(home) if r["target"] != "site"}


def test_the_page_lists_exactly_the_two_copies_and_the_site_is_published_once(
    tmp_path: Path, mastodon: MastodonEmulator, x: XEmulator
) -> None:
    home = make_home(tmp_path, config_text(targets(mastodon, x)))
    (home / "inbox" / "walking.md").write_text(ESSAY, encoding="utf-8")

    result = crosspost(home, "run", "--once")

    assert result.returncode == 0, result.stdout + result.stderr
    rows = status(home)
    assert Counter(r["target"] for r in rows) == {"site": 1, "toot": 1, "tweet": 1}
    assert {r["state"] for r in rows} == {"published"}
    assert len(mastodon.statuses) == 1 and len(x.published()) == 1
    page = home / "site" / "walking-home-the-long-way.html"
    copies = copies_in_store(home)
    assert sorted(syndication_links(page)) == sorted(copies.values())
    assert sorted(copies.values()) == sorted(social_urls(mastodon, x))
    assert html_errors([page]) == []


@pytest.mark.parametrize(
    "crash_at",
    [
        "published:2",  # the first social post is recorded; the page not yet rewritten
        "published:3",  # both social posts recorded; the page not yet rewritten
        "after-response:2",  # the first social post went out; its answer was never recorded
    ],
)
def test_a_sigkill_between_the_social_post_and_the_page_rewrite_still_ends_with_both_links(
    tmp_path: Path, mastodon: MastodonEmulator, x: XEmulator, crash_at: str
) -> None:
    home = make_home(tmp_path, config_text(targets(mastodon, x)))
    (home / "inbox" / "walking.md").write_text(ESSAY, encoding="utf-8")

    killed = crosspost(home, "run", "--once", env={"CROSSPOST_CRASH_AT": crash_at})
    assert killed.returncode == -9, killed.stdout + killed.stderr
    page = home / "site" / "walking-home-the-long-way.html"
    assert page.exists()
    assert len(syndication_links(page)) < 2  # the kill came before the page had both

    restarted = crosspost(home, "run", "--once")

    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert len(mastodon.statuses) == 1 and len(x.published()) == 1  # nothing posted twice
    rows = status(home)
    assert Counter(r["target"] for r in rows) == {"site": 1, "toot": 1, "tweet": 1}
    assert {r["state"] for r in rows} == {"published"}
    assert sorted(syndication_links(page)) == sorted(social_urls(mastodon, x))


def test_a_cancelled_copy_leaves_the_page_and_the_others_stay(
    tmp_path: Path,
    mastodon: MastodonEmulator,
    x: XEmulator,
    db_url: str,
) -> None:
    settings = Settings(
        database_url=db_url,
        targets={
            name: TargetSettings(
                **{
                    **spec,
                    "credentials": {
                        k: SecretStr(v) for k, v in spec.get("credentials", {}).items()
                    },
                }
            )
            for name, spec in targets(mastodon, x).items()
        },
    )
    engine = Pipeline(tmp_path, settings)
    try:
        data = ESSAY.encode()
        engine.add_essay(read_bytes(Path("walking.md"), data), "walking.md", data)
        publish_everything_due(engine)
        page = tmp_path / "site" / "walking-home-the-long-way.html"
        assert len(syndication_links(page)) == 2
        # an edit: the toot (editable) is due for an update; the author cancels it instead
        edited = ESSAY.replace("twenty minutes", "half an hour").encode()
        engine.add_essay(read_bytes(Path("walking.md"), edited), "walking.md", edited)
        rows = {row.target: row for row in engine.store.publications()}
        assert rows["toot"].state == State.SCHEDULED.value
        engine.cancel(rows["toot"].id)
        publish_everything_due(engine)

        rows = {row.target: row for row in engine.store.publications()}
        assert syndication_links(page) == [rows["tweet"].remote_url]
        assert rows["site"].state == State.PUBLISHED.value
        assert len(mastodon.statuses) == 1 and len(x.published()) == 1
    finally:
        engine.close()


def publish_everything_due(engine: Pipeline) -> None:
    for _ in range(20):
        due = engine.due()
        if not due:
            return
        for pub_id in due:
            engine.publish(pub_id)
    raise AssertionError("publications kept coming due: a loop")
