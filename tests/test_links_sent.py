"""The link a social post carries, as the author previews it and as the platform gets it.

- For every social platform, an essay without `canonical_url` announced after a target
  whose URL is known only once it is published (a Patreon post, confirmed by a person):
  `crosspost preview` shows a placeholder, and the text the platform receives is that
  preview with the real URL in the placeholder's place (Bluesky: its fixed-length link
  text), within the platform's limit.
- The daemon, run with the shipped example config pointed at the emulators, sends no
  request body that links to a local file or to this machine.
"""

from __future__ import annotations

import importlib
import json
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

from pipeline.links import PLACEHOLDER_MARK
from pipeline.render.lengths import RULES
from tests.contract.harness import Harness, toml_table
from tests.daemon_helpers import (
    crosspost,
    make_home,
    start_daemon,
    status,
    stop_daemon,
    wait_for,
)
from tests.test_preview_equals_published import TEXT_OF, received_strings
from tests.test_settings import EXAMPLE_CONFIG, uncommented

REAL_URL = "https://www.patreon.com/posts/slow-mornings-and-the-writing-habit-123456789"
TEASER = " ".join(
    f"Sentence {i} of an opening paragraph long enough that every platform has to shorten it."
    for i in range(12)
)
ESSAY = f"""---
title: Slow Mornings and the Writing Habit
tags: [writing, habits]
---

{TEASER}

A second paragraph that a thread would carry on with.
"""


def harness_for(platform: str) -> Harness:
    return importlib.import_module(f"tests.contract.harness_{platform}").make_harness()


@pytest.fixture(
    params=[
        "mastodon",
        "x",
        "linkedin",
        "threads",
        "telegram",
        pytest.param("bluesky", marks=pytest.mark.pds),
    ]
)
def social(request: pytest.FixtureRequest) -> Any:
    harness = harness_for(request.param)
    try:
        yield harness
    finally:
        harness.close()


def shown_link(platform: str, url: str) -> str:
    """How the link reads in the post's text."""
    if platform == "bluesky":
        from connectors.bluesky import link_text

        return link_text(url)
    return url


def test_preview_with_the_placeholder_replaced_is_what_the_platform_receives(
    social: Harness, tmp_path: Path
) -> None:
    platform = social.platform
    table = {**social.target_table(), "after": "patrons"}
    config = (
        'timezone = "UTC"\n'
        + toml_table("targets.patrons", {"platform": "patreon", "options": {"access": "patrons"}})
        + toml_table("targets.social", table)
    )
    home = make_home(tmp_path, config)
    path = tmp_path / "slow-mornings.md"
    path.write_text(ESSAY, encoding="utf-8")

    previewed = crosspost(home, "preview", str(path), "--target", "social", "--json")
    assert previewed.returncode == 0, previewed.stderr
    entry = json.loads(previewed.stdout)["targets"]["social"]
    link = entry["link"]
    assert link["placeholder"] and link["url"].endswith(PLACEHOLDER_MARK), link
    assert link["url"].startswith("https://www.patreon.com/"), link
    [post] = entry["posts"]
    shown = TEXT_OF[platform](post["request"])
    # the text carries the link (LinkedIn: its article card does, the text stays as it is)
    assert link["url"] in json.dumps(post["request"]) or shown_link(platform, link["url"]) in shown
    assert post["length"] <= post["limit"]  # counted with the placeholder in it

    shutil.copy(path, home / "inbox")
    assert crosspost(home, "run", "--once").returncode == 4  # the Patreon post waits
    [patrons] = [row for row in status(home) if row["target"] == "patrons"]
    assert crosspost(home, "confirm", str(patrons["id"]), REAL_URL).returncode == 0
    done = crosspost(home, "run", "--once")
    assert done.returncode == 0, done.stdout + done.stderr

    expected = shown.replace(shown_link(platform, link["url"]), shown_link(platform, REAL_URL))
    received = received_strings(social)
    assert expected in received, (expected, [t for t in received if "Sentence 0" in t])
    assert any(REAL_URL in text for text in received) or platform == "bluesky"
    assert RULES[platform].fits(expected)
    if platform == "bluesky":  # the short text links to the whole URL
        assert REAL_URL in json.dumps([r.json() for r in social.server.requests_seen if r.body])


# ------------------------------------------------- the example config on the emulators

ON_EMULATORS = ("mastodon", "x", "linkedin", "threads", "telegram", "devto", "medium")
ACCOUNT_KEYS = {"author", "user_id", "username", "chat_id", "organization_id"}


def example_on_emulators(harnesses: dict[str, Harness]) -> str:
    """The shipped example, switched on, with each account pointed at its emulator and the
    site given its public address, as the example tells the reader to."""
    settings = tomllib.loads(uncommented(EXAMPLE_CONFIG.read_text(encoding="utf-8")))
    targets = settings.pop("targets")
    for key in ("database_url", "feeds", "notify", "console"):
        settings.pop(key, None)
    settings.update(settle_seconds=0.2, inbox_poll_seconds=0.2, retry_base_seconds=0.2)
    chosen: dict[str, dict[str, Any]] = {
        "site": {**targets["site"], "options": {"base_url": "https://blog.example.org"}},
        "announce": targets["announce"],
    }
    for name, harness in harnesses.items():
        example = targets[name]
        table = harness.target_table()
        # who posts is the emulator's account: the example's own names stay out
        own = {k: v for k, v in example.get("options", {}).items() if k not in ACCOUNT_KEYS}
        table["options"] = {**own, **table.get("options", {})}
        if "after" in example:
            table["after"] = example["after"]
        chosen[name] = table
    head = "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())
    return head + "".join(toml_table(f"targets.{n}", t) for n, t in chosen.items())


def test_daemon_on_the_example_config_sends_no_local_links(tmp_path: Path) -> None:
    harnesses = {name: harness_for(name) for name in ON_EMULATORS}
    try:
        home = make_home(tmp_path, example_on_emulators(harnesses))
        (home / "inbox" / "slow-mornings.md").write_text(ESSAY, encoding="utf-8")
        daemon = start_daemon(home)
        try:
            finished = wait_for(
                lambda: (
                    (rows := status(home))
                    and len(rows) == len(ON_EMULATORS) + 2
                    and all(r["state"] in {"published", "failed"} for r in rows)
                ),
                timeout=180,
                every=1,
            )
        finally:
            out = stop_daemon(daemon)
        rows = status(home)
        assert finished, (rows, out[-3000:])
        failed = {r["target"]: r["last_error"] for r in rows if r["state"] != "published"}
        assert not failed, failed
        bodies = {
            name: [r.body.decode("utf-8", "replace") for r in h.server.requests_seen if r.body]
            for name, h in harnesses.items()
        }
        outbox = [p.read_text(encoding="utf-8") for p in (home / "outbox").rglob("*.json")]
        sent = {**bodies, "announce (outbox)": outbox}
        for name, texts in sent.items():
            assert texts, f"{name}: nothing was sent"
            for text in texts:
                assert "file://" not in text and "127.0.0.1" not in text, (name, text[:500])
        social = [t for name in ("mastodon", "x", "threads", "telegram") for t in bodies[name]]
        assert any("blog.example.org/slow-mornings" in t for t in social)
    finally:
        for harness in harnesses.values():
            harness.close()
