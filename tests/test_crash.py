"""Kill the real program with SIGKILL at seeded points in every phase, restart it, and check
that every publication exists exactly once on its target and none is lost.

A point is (phase, n): the n-th time the process passes that phase's crashpoint (reading a
file, after planning, just before a request, after the platform answered but before the
database write, after the publish was recorded). Seeded, so a failure reproduces.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
from collections import Counter
from pathlib import Path

import pytest

from pipeline.crashpoints import POINTS
from tests.daemon_helpers import EXAMPLE, crosspost, make_home, status
from tests.emulators.mastodon import MastodonEmulator

SEED = 20251126
KILLS = 22
TOKEN = "crash-test-token-7f3a9c"


def drop_essay(folder: Path, index: int) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    variant = text.replace("Own Your Archive", f"Own Your Archive {index}").replace(
        "own-your-archive", f"own-your-archive-{index}"
    )
    (folder / f"essay-{index}.md").write_text(variant, encoding="utf-8")


@pytest.fixture
def mastodon() -> MastodonEmulator:
    emulator = MastodonEmulator()
    emulator.add_account(TOKEN, "writer")
    with emulator:
        yield emulator


def config_for(mastodon_url: str) -> str:
    return f"""
    timezone = "UTC"
    retry_base_seconds = 0.05
    retry_max_seconds = 0.1
    [targets.site]
    platform = "static_site"
    options = {{ base_url = "https://blog.example.org" }}
    [targets.toot]
    platform = "mastodon"
    base_url = "{mastodon_url}"
    after = "site"
    credentials = {{ access_token = "{TOKEN}" }}
    [targets.thread]
    platform = "mastodon"
    base_url = "{mastodon_url}"
    credentials = {{ access_token = "{TOKEN}" }}
    options = {{ mode = "thread" }}
    [targets.dry]
    platform = "outbox"
    after = "site"
    """


def test_sigkill_at_seeded_points_never_duplicates_or_loses(
    tmp_path: Path, mastodon: MastodonEmulator
) -> None:
    rng = random.Random(SEED)
    home = make_home(tmp_path, config_for(mastodon.base_url))
    most = {"read": 2, "planned": 2, "before-request": 8, "after-response": 8, "published": 6}
    points = sorted({(phase, n) for phase in POINTS for n in range(1, most[phase] + 1)})
    plan = rng.sample(points, KILLS)
    kills: list[str] = []
    for index, (phase, count) in enumerate(plan):
        drop_essay(home / "inbox", 2 * index)  # fresh work for every run
        drop_essay(home / "inbox", 2 * index + 1)
        if index % 5 == 4:
            drop_essay(home / "inbox", index)  # an old one again: nothing new may come of it
        point = f"{phase}:{count}"
        result = crosspost(home, "run", "--once", env={"CROSSPOST_CRASH_AT": point})
        if result.returncode == -signal.SIGKILL:
            kills.append(point)
        else:
            assert result.returncode == 0, result.stderr
    final = crosspost(home, "run", "--once")
    assert final.returncode == 0, final.stderr
    assert len(set(kills)) >= 20, f"only {len(kills)} of {KILLS} points were reached: {kills}"

    rows = status(home)
    essays = 2 * KILLS
    assert len(rows) == essays * 4
    assert {r["state"] for r in rows} == {"published"}, [
        r for r in rows if r["state"] != "published"
    ]
    assert all(row["url"] for row in rows)

    statuses = mastodon.published()
    # a duplicate is the same text under the same parent (roots carry the essay's title)
    posts = Counter((s["text"], s["in_reply_to_id"]) for s in statuses)
    assert [key for key, n in posts.items() if n > 1] == []
    roots = [s for s in statuses if s["in_reply_to_id"] is None]
    assert len(roots) == essays * 2  # per essay: one announcement and one thread root
    manifest = json.loads((home / "site" / "posts.json").read_text())
    assert len(manifest) == essays
    assert len(list((home / "outbox" / "dry").glob("*.json"))) == essays
    assert not list((home / "failed").iterdir())
    assert not list((home / "inbox").iterdir())


def test_killed_mid_thread_resumes_without_repeating_posts(
    tmp_path: Path, mastodon: MastodonEmulator
) -> None:
    home = make_home(tmp_path, config_for(mastodon.base_url))
    shutil.copy(EXAMPLE, home / "inbox")
    # the 3rd post request of the run is under way when the process dies
    killed = crosspost(home, "run", "--once", env={"CROSSPOST_CRASH_AT": "after-response:3"})
    assert killed.returncode == -signal.SIGKILL
    assert crosspost(home, "run", "--once").returncode == 0
    statuses = mastodon.published()
    assert len({(s["text"], s["in_reply_to_id"]) for s in statuses}) == len(statuses)
    thread_row = next(r for r in status(home) if r["target"] == "thread")
    assert thread_row["state"] == "published"
    root = next(s for s in statuses if s["url"] == thread_row["url"])
    chain, current = [root], root
    while True:
        replies = [s for s in statuses if s["in_reply_to_id"] == current["id"]]
        if not replies:
            break
        assert len(replies) == 1
        current = replies[0]
        chain.append(current)
    preview = crosspost(home, "preview", str(EXAMPLE), "--target", "thread", "--json")
    expected = [
        p["request"]["status"] for p in json.loads(preview.stdout)["targets"]["thread"]["posts"]
    ]
    assert [s["text"] for s in chain] == expected
    assert len(expected) >= 2
