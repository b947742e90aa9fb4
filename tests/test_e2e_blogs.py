"""End to end through the real program to the real blog servers (WordPress, Ghost).

The author's Medium copy goes in the inbox; the daemon publishes it; the post on the real
WordPress keeps headings, lists, bold lead-ins, links and the promo; a second drop of the
same file creates nothing new, asserted by listing what the server holds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests

from tests.contract.harness_wordpress import wordpress_posts
from tests.daemon_helpers import crosspost, make_home, status
from tests.servers.wordpress import WordPressServer, wordpress_server  # noqa: F401

GOLDEN = Path(__file__).parent / "golden" / "readers"
MEDIUM_COPY = GOLDEN / "medium-copy-north-korean-troops.txt"
FRONT_MATTER = GOLDEN / "markdown-front-matter.md"

pytestmark = pytest.mark.wordpress


def wordpress_config(wp: WordPressServer, password: str | None = None) -> str:
    return f"""
    timezone = "UTC"
    [targets.blog]
    platform = "wordpress"
    base_url = "{wp.base_url}"
    credentials = {{ user = "{wp.user}", app_password = "{password or wp.app_password}" }}
    [targets.announce]
    platform = "outbox"
    after = "blog"
    options = {{ as = "mastodon" }}
    """


def tag_names(wp: WordPressServer) -> list[str]:
    answer = requests.get(f"{wp.api}/tags", params={"per_page": "100"}, timeout=30)
    answer.raise_for_status()
    return sorted(tag["name"] for tag in answer.json())


def test_medium_copy_reaches_the_real_wordpress_intact_and_only_once(
    tmp_path: Path,
    wordpress_server: WordPressServer,  # noqa: F811
) -> None:
    wp = wordpress_server
    home = make_home(tmp_path, wordpress_config(wp))
    shutil.copy(MEDIUM_COPY, home / "inbox")
    shutil.copy(FRONT_MATTER, home / "inbox")
    result = crosspost(home, "run", "--once")
    assert result.returncode == 0, result.stderr
    rows = status(home)
    assert {r["state"] for r in rows} == {"published"}, rows

    slug = "russias-desperation-unveiled-the-fiasco-of-north-korean-troops-on-the-frontlines"
    posts = [p for p in wordpress_posts(wp) if p["slug"].startswith(slug[:60])]
    assert len(posts) == 1
    html = posts[0]["content"]["raw"]
    assert html.count("<h2>") == 6
    assert "<h2>1. A Laughable Display of Desperation</h2>" in html
    assert "<h2>6. A Glimpse of the Endgame</h2>" in html
    assert html.count("<ul>") >= 5
    assert "<li><strong>Scrambling for Warm Bodies:</strong> Moscow’s inability" in html
    assert '<a href="https://www.patreon.com/ChristianBaghai">' in html
    assert "If you’re enjoying the content on my blog" in html
    assert "The Hollow Throne" in html  # the related-posts list
    for chrome in ("min read", "No responses yet", ">--<"):
        assert chrome not in html
    blog_url = next(r["url"] for r in rows if r["target"] == "blog" and "russia" in r["url"])
    assert blog_url == posts[0]["link"]

    tags_after_first = tag_names(wp)
    assert {"writing", "indieweb", "publishing"} <= set(tags_after_first)
    posts_after_first = len(wordpress_posts(wp))

    # the same files again, under other names: nothing new on the server
    shutil.copy(MEDIUM_COPY, home / "inbox" / "again.txt")
    shutil.copy(FRONT_MATTER, home / "inbox" / "again.md")
    again = crosspost(home, "run", "--once")
    assert again.returncode == 0, again.stderr
    assert len(wordpress_posts(wp)) == posts_after_first
    assert tag_names(wp) == tags_after_first
    assert status(home) == rows


def test_accounts_check_reports_ok_or_why_not_against_the_real_wordpress(
    tmp_path: Path,
    wordpress_server: WordPressServer,  # noqa: F811
) -> None:
    home = make_home(tmp_path, wordpress_config(wordpress_server))
    ok = crosspost(home, "accounts", "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "blog" in ok.stdout and " ok " in ok.stdout

    wrong = "abcd efgh ijkl mnop qrst uvwx"
    bad_home = make_home(tmp_path / "bad", wordpress_config(wordpress_server, password=wrong))
    failed = crosspost(bad_home, "accounts", "check")
    assert failed.returncode == 1
    line = next(line for line in failed.stdout.splitlines() if line.startswith("blog"))
    assert "FAILED" in line
    assert wrong not in failed.stdout + failed.stderr
