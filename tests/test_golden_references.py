"""Every social post the preview golden files hold, checked by the platforms' own code.

The golden files are read when the tests run, so whatever the goldens say after the next
regeneration is what gets checked: X posts (threads too) by twitter-text-parser and by the
official twitter-text, Mastodon statuses by Mastodon.py's counter, Bluesky records by
@atproto/api (detectFacets for the facets, the lexicons for the record and the request).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mastodon import Mastodon
from twitter_text import parse_tweet

from pipeline.render.facets import bluesky_facets
from pipeline.render.lengths import count_mastodon, count_x
from tests.references.platform_js import as_we_mean_to_differ, platform_references

PREVIEWS = sorted((Path(__file__).parent / "golden" / "preview").glob("*.json"))
REPO = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"  # any well-formed DID: the lexicon checks the shape
RKEY = "3l3qo2vutsw2b"  # a TID, as the connector makes


def posts(platform: str) -> list[Any]:
    """(id, post) for every post to `platform` in every preview golden file."""
    found = []
    for path in PREVIEWS:
        target = json.loads(path.read_text(encoding="utf-8"))["targets"].get(platform)
        for number, post in enumerate((target or {}).get("posts", []), start=1):
            found.append(pytest.param(post, id=f"{path.stem}#{number}"))
    return found


def test_the_goldens_hold_posts_for_every_checked_platform() -> None:
    assert PREVIEWS
    assert all(posts(platform) for platform in ("x", "mastodon", "bluesky"))
    assert any(
        len(json.loads(p.read_text(encoding="utf-8"))["targets"]["x"]["posts"]) > 1
        for p in PREVIEWS
    )


@pytest.mark.parametrize("post", posts("x"))
def test_every_x_post_is_valid_for_twitter_text_and_counted_as_its_longer_parser(
    post: dict,
) -> None:
    text = post["request"]["text"]
    python = parse_tweet(text)
    javascript = platform_references().ask({"op": "x", "text": text})
    assert python.valid and javascript["valid"], (python, javascript)
    assert post["length"] == count_x(text)
    assert post["length"] == max(python.weightedLength, javascript["weightedLength"])
    assert post["length"] <= post["limit"]


@pytest.mark.parametrize("post", posts("mastodon"))
def test_every_mastodon_status_is_counted_as_mastodon_counts_it(post: dict) -> None:
    status = post["request"]["status"]
    assert post["length"] == count_mastodon(status) == Mastodon.get_status_length(status)
    assert post["length"] <= post["limit"]


def _filled_in(request: dict) -> dict:
    """The createRecord body as the connector sends it: repo, rkey and createdAt set."""
    body = json.loads(json.dumps(request))
    body["repo"] = REPO
    body["rkey"] = body.get("rkey") or RKEY
    body["record"]["createdAt"] = datetime.now(UTC).isoformat(timespec="milliseconds")
    return body


@pytest.mark.parametrize("post", posts("bluesky"))
def test_every_bluesky_record_has_the_apps_facets_and_passes_the_lexicons(post: dict) -> None:
    record = post["request"]["record"]
    text = record["text"]
    app = as_we_mean_to_differ(text, platform_references().bluesky_facets(text))
    assert record.get("facets", []) == app
    assert bluesky_facets(text) == app
    problems = platform_references().bluesky_problems(_filled_in(post["request"]))
    assert problems == {"record": None, "input": None}
