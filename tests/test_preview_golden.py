"""Every golden input, through `crosspost preview --json`, for one account of every platform.

The expected output per destination is checked in under `tests/golden/preview/`; a change
in any reader, renderer or connector payload shows up here as a diff to review.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.render.lengths import RULES
from tests.golden_helpers import check_golden

GOLDEN = Path(__file__).parent / "golden"
INPUTS = sorted(
    p
    for folder in ("readers", "html", "docx", "gdocs", "substack", "medium")
    for p in (GOLDEN / folder).iterdir()
    if p.suffix in {".md", ".txt", ".html", ".docx"}
)
LINK = "https://blog.example.org/essay"


def preview_json(path: Path, home: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["--home", str(home), "preview", str(path), "--json", "--link", LINK]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_preview_of_every_input_for_every_platform_matches_its_golden_file(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = preview_json(path, tmp_path, capsys)
    text = json.dumps(result, indent=2, ensure_ascii=False, sort_keys=True)
    check_golden(text, GOLDEN / "preview" / f"{path.parent.name}--{path.stem}.json")


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_social_post_in_a_preview_fits_its_platform(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = preview_json(path, tmp_path, capsys)
    for name, target in result["targets"].items():
        for post in target["posts"]:
            if post["limit"] is not None:
                assert post["length"] <= post["limit"], (name, post)
        if name in RULES and target["kind"] == "social":
            assert target["posts"], (name, target.get("error"))


def test_preview_json_has_the_documented_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = preview_json(
        GOLDEN / "readers" / "medium-copy-north-korean-troops.txt", tmp_path, capsys
    )
    doc = result["document"]
    assert doc["title"].startswith("Russia’s Desperation Unveiled")
    assert doc["author"] == "Christian Baghai" and doc["published"] == "2025-01-31"
    headings = [b for b in doc["blocks"] if b["type"] == "heading"]
    assert [h["text"][:2] for h in headings] == ["1.", "2.", "3.", "4.", "5.", "6."]
    lists = [b for b in doc["blocks"] if b["type"] == "list"]
    assert len(lists) == 5 and all(len(b["items"]) == 2 and not b["ordered"] for b in lists)
    assert "patreon.com/ChristianBaghai" in doc["promo"] or "Patreon" in doc["promo"]
    expected = {
        "wordpress",
        "ghost",
        "devto",
        "medium",
        "patreon",
        "substack",
        "mastodon",
        "bluesky",
        "x",
        "linkedin",
        "threads",
        "telegram",
        "static_site",
        "outbox",
    }
    assert set(result["targets"]) == expected
    kinds = {name: t["kind"] for name, t in result["targets"].items()}
    assert kinds["wordpress"] == "blog" and kinds["patreon"] == "patronage"
    assert kinds["mastodon"] == "social"
    assert "content" in result["targets"]["wordpress"]["posts"][0]["request"]
    assert "status" in result["targets"]["mastodon"]["posts"][0]["request"]
    record = result["targets"]["bluesky"]["posts"][0]["request"]
    assert record["collection"] == "app.bsky.feed.post" and "text" in record["record"]
    assert "posts" in result["targets"]["ghost"]["posts"][0]["request"]
    assert "text" in result["targets"]["x"]["posts"][0]["request"]


def test_preview_human_output_is_a_table_per_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = GOLDEN / "readers" / "markdown-front-matter.md"
    assert main(["--home", str(tmp_path), "preview", str(path), "--target", "mastodon"]) == 0
    out = capsys.readouterr().out
    assert "== mastodon (mastodon, social) 1 post(s)" in out
    assert "/500 ok]" in out
