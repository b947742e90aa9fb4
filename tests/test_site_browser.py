"""The site in a real browser (Debian's Chromium driven by Playwright), at desktop and phone
widths: nothing scrolls sideways, the essay's title is on screen, the page reports no error.

Screenshots go to the test's folder; with `UPDATE_SCREENSHOTS=1` they are also copied to
docs/img/ (the ones the README shows), to be looked at before they are committed.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser_helpers import WIDTHS, chromium, open_page, shoot
from tests.site_helpers import night_trains, png, publish, short_essay, site_at

TRAINS = night_trains("")


@dataclass
class ServedSite:
    url: str
    folder: Path


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSite]:
    """A site of thirteen essays and one image, served over HTTP on 127.0.0.1."""
    home = tmp_path_factory.mktemp("browser-site")
    folder = home / "site"
    folder.mkdir()
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    (home / "upstream").mkdir()
    (home / "upstream" / "train.png").write_bytes(png(1200, 600))
    upstream = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(home / "upstream"))
    )
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    try:
        site = site_at(home, base_url=base)
        for index in range(1, 10):
            publish(site, short_essay(index), f"key-{index}")
        publish(
            site,
            night_trains(f"http://127.0.0.1:{upstream.server_port}/train.png"),
            "key-trains",
            syndication=[
                {"platform": "mastodon", "url": "https://social.example/@ada/113"},
                {"platform": "bluesky", "url": "https://bsky.app/profile/ada.example/post/3l"},
            ],
        )
        yield ServedSite(base, folder)
    finally:
        server.shutdown()
        upstream.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def assert_fits_and_shows(page: Page, title: str, problems: list[str]) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        "the page scrolls sideways"
    )
    heading = page.get_by_role("link", name=title).or_(page.get_by_role("heading", name=title))
    assert heading.first.is_visible()
    box = heading.first.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
    assert problems == []


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_index_fits_the_screen_and_shows_the_newest_essay(
    served_site: ServedSite, browser: Browser, width: str, tmp_path: Path
) -> None:
    page, problems = open_page(browser, f"{served_site.url}/index.html", width)
    assert_fits_and_shows(page, TRAINS.title, problems)
    first = page.locator(".essay-list .p-name").first.inner_text()
    assert first == TRAINS.title  # newest first
    shoot(page, f"site-index-{width}", tmp_path, full_page=False)
    page.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_an_essay_with_an_image_a_table_and_a_quote_fits_the_screen(
    served_site: ServedSite, browser: Browser, width: str, tmp_path: Path
) -> None:
    url = f"{served_site.url}/{TRAINS.effective_slug()}.html"
    page, problems = open_page(browser, url, width)
    assert_fits_and_shows(page, TRAINS.title, problems)
    image = page.locator(".e-content img").first
    image.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('.e-content img').complete")
    assert page.evaluate("document.querySelector('.e-content img').naturalWidth") == 1200
    column = page.locator(".e-content").bounding_box()
    shown = image.bounding_box()
    assert shown is not None and column is not None
    assert shown["width"] <= column["width"] + 0.5  # the 1200 px image fits the column
    assert abs(shown["width"] / shown["height"] - 2.0) < 0.02  # and keeps its shape
    assert page.locator(".e-content blockquote").is_visible()
    assert page.locator(".syndication a.u-syndication").count() == 2
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, f"site-essay-{width}", tmp_path, full_page=True)
    page.close()


def test_an_essay_reads_in_the_dark_theme(
    served_site: ServedSite, browser: Browser, tmp_path: Path
) -> None:
    url = f"{served_site.url}/{TRAINS.effective_slug()}.html"
    page, problems = open_page(browser, url, "desktop", dark=True)
    assert_fits_and_shows(page, TRAINS.title, problems)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    text = page.evaluate("getComputedStyle(document.body).color")
    assert background == "rgb(22, 22, 26)" and text == "rgb(230, 225, 216)"
    shoot(page, "site-essay-dark", tmp_path, full_page=False)
    page.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_tag_page_fits_the_screen_and_lists_its_essay(
    served_site: ServedSite, browser: Browser, width: str, tmp_path: Path
) -> None:
    page, problems = open_page(browser, f"{served_site.url}/tags/trains.html", width)
    assert_fits_and_shows(page, TRAINS.title, problems)
    assert page.locator(".essay-list .h-entry").count() == 1
    shoot(page, f"site-tag-{width}", tmp_path, full_page=False)
    page.close()


def test_the_essays_table_is_on_the_page_and_scrolls_inside_itself_on_a_phone(
    served_site: ServedSite, browser: Browser
) -> None:
    url = f"{served_site.url}/{TRAINS.effective_slug()}.html"
    page, problems = open_page(browser, url, "phone")
    table = page.locator(".e-content table")
    assert table.is_visible()
    assert "Vienna – Hamburg" in table.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert problems == []
    page.close()
