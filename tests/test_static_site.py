"""The static site: the pages a writer's readers see, and the files behind them.

Pages are checked by independent references: the W3C Nu checker (every page written),
mf2py (the IndieWeb's microformats parser) for the h-entry, and `json` for the JSON-LD.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mf2py
import pytest
from bs4 import BeautifulSoup

from connectors.site.imagesize import image_size
from pipeline.document import Essay, Image, Paragraph, Run
from tests.daemon_helpers import crosspost, make_home
from tests.emulators.base import Emulator, Request, Response
from tests.site_helpers import (
    OPTIONS,
    every_page,
    night_trains,
    png,
    publish,
    short_essay,
    site_at,
    update,
)
from tests.validators import html_errors

TRAINS_SLUG = night_trains("").effective_slug()
ImageServer = tuple[Emulator, list[str]]


def soup_of(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def meta(soup: BeautifulSoup, key: str) -> str | None:
    tag = soup.find("meta", attrs={"property": key}) or soup.find("meta", attrs={"name": key})
    return tag["content"] if tag else None


@pytest.fixture
def image_server(local_server: Callable[..., Emulator]) -> ImageServer:
    """Serves /train.png (1200 x 600); anything else is 404. Records every path asked for."""
    asked: list[str] = []
    picture = png(1200, 600)

    def answer(request: Request) -> Response:
        asked.append(request.path)
        if request.path == "/train.png":
            return Response(200, picture, content_type="image/png")
        return Response(404, "not here", content_type="text/plain")

    return local_server(answer), asked


def full_site(home: Path, image_url: str) -> Path:
    """Thirteen essays (two index pages), three tags, an image: every kind of page."""
    site = site_at(home)
    for index in range(1, 13):
        publish(site, short_essay(index), f"key-{index}")
    publish(
        site,
        night_trains(image_url),
        "key-trains",
        syndication=[{"platform": "mastodon", "url": "https://social.example/@ada/1"}],
    )
    return home / "site"


# ---------------------------------------------------------------- valid pages


def test_every_page_the_site_writes_is_valid_html(
    tmp_path: Path, image_server: ImageServer
) -> None:
    server, _ = image_server
    folder = full_site(tmp_path, f"{server.base_url}/train.png")
    pages = every_page(folder)
    names = {str(p.relative_to(folder)) for p in pages}
    assert {"index.html", "page/2.html", "404.html", f"{TRAINS_SLUG}.html"} <= names
    assert {"tags/trains.html", "tags/europe.html", "tags/archives.html"} <= names
    assert html_errors(pages) == []


# ---------------------------------------------------------------- the essay page


def test_an_essay_page_carries_link_card_and_article_metadata(
    tmp_path: Path, image_server: ImageServer
) -> None:
    server, _ = image_server
    folder = full_site(tmp_path, f"{server.base_url}/train.png")
    page = soup_of(folder / f"{TRAINS_SLUG}.html")
    url = f"{OPTIONS['base_url']}/{TRAINS_SLUG}.html"

    assert page.html["lang"] == "en"
    assert page.find("link", rel="canonical")["href"] == url
    assert meta(page, "og:type") == "article"
    assert meta(page, "og:title") == night_trains("").title
    assert meta(page, "og:description") == night_trains("").subtitle
    assert meta(page, "og:url") == url
    image = meta(page, "og:image")
    assert re.fullmatch(rf"{OPTIONS['base_url']}/images/[0-9a-f]{{32}}\.png", image)
    assert meta(page, "og:image:width") == "1200" and meta(page, "og:image:height") == "600"
    assert meta(page, "article:published_time") == "2026-11-03T00:00:00+00:00"
    assert meta(page, "twitter:card") == "summary_large_image"
    assert meta(page, "twitter:image") == image
    [script] = page.find_all("script", type="application/ld+json")
    article = json.loads(script.string)
    assert article["@type"] == "Article"
    assert article["headline"] == night_trains("").title
    assert article["author"] == {"@type": "Person", "name": "Ada Walker"}
    assert article["datePublished"] == "2026-11-03T00:00:00+00:00"
    assert article["image"] == image
    feeds = {link["type"]: link["href"] for link in page.find_all("link", rel="alternate")}
    assert feeds == {
        "application/atom+xml": f"{OPTIONS['base_url']}/feed.atom",
        "application/feed+json": f"{OPTIONS['base_url']}/feed.json",
    }


def test_an_essay_page_is_an_h_entry_as_microformats_parsers_read_it(
    tmp_path: Path,
    image_server: ImageServer,
) -> None:
    server, _ = image_server
    folder = full_site(tmp_path, f"{server.base_url}/train.png")
    parsed = mf2py.parse(
        doc=(folder / f"{TRAINS_SLUG}.html").read_text(encoding="utf-8"),
        url=f"{OPTIONS['base_url']}/{TRAINS_SLUG}.html",
    )
    [entry] = [item for item in parsed["items"] if "h-entry" in item["type"]]
    props = entry["properties"]
    assert props["name"] == [night_trains("").title]
    assert props["published"][0].startswith("2026-11-03")
    [author] = props["author"]
    assert author["type"] == ["h-card"] and author["properties"]["name"] == ["Ada Walker"]
    assert "22:10 to Hamburg" in props["content"][0]["value"]
    assert props["syndication"] == ["https://social.example/@ada/1"]
    assert set(props["category"]) == {"trains", "Europe"}


def test_the_essays_image_is_fetched_once_and_served_from_the_site(
    tmp_path: Path,
    image_server: ImageServer,
) -> None:
    server, asked = image_server
    site = site_at(tmp_path)
    essay = night_trains(f"{server.base_url}/train.png")
    remote = publish(site, essay, "key-trains")
    update(site, remote, essay)  # an edit: the image is already here

    assert asked == ["/train.png"]
    [img] = soup_of(tmp_path / "site" / f"{TRAINS_SLUG}.html").select(".e-content img")
    stored = tmp_path / "site" / img["src"]
    assert re.fullmatch(r"images/[0-9a-f]{32}\.png", img["src"])
    assert stored.read_bytes() == png(1200, 600)
    assert (img["width"], img["height"], img["loading"]) == ("1200", "600", "lazy")
    assert img["alt"] == "A night train at a platform"


def test_an_image_that_cannot_be_fetched_keeps_its_address_and_the_reason_is_logged(
    tmp_path: Path,
    image_server: ImageServer,
    capfd: pytest.CaptureFixture[str],
) -> None:
    server, _ = image_server
    missing = f"{server.base_url}/gone.png"
    publish(site_at(tmp_path), night_trains(missing), "key-trains")

    [img] = soup_of(tmp_path / "site" / f"{TRAINS_SLUG}.html").select(".e-content img")
    assert img["src"] == missing
    assert img["loading"] == "lazy"
    logged = capfd.readouterr()
    assert "image kept at its original address" in logged.out + logged.err
    assert "HTTP 404" in logged.out + logged.err
    assert not (tmp_path / "site" / "images").exists() or not list(
        (tmp_path / "site" / "images").glob("*.png")
    )


# ---------------------------------------------------------------- index, tags, 404


def test_the_index_lists_newest_first_with_date_summary_and_reading_time_paged(
    tmp_path: Path,
) -> None:
    site = site_at(tmp_path, per_page=5)
    for index in range(1, 13):
        publish(site, short_essay(index), f"key-{index}")
    folder = tmp_path / "site"
    titles = []
    for path in ("index.html", "page/2.html", "page/3.html"):
        page = soup_of(folder / path)
        for item in page.select(".essay-list .h-entry"):
            titles.append(item.select_one(".p-name").get_text(strip=True))
            assert item.select_one("time.dt-published")["datetime"].startswith("2026-01-")
            assert "min read" in item.select_one(".meta").get_text()
            assert "what the boxes in the basement held" in item.select_one(".p-summary").text
    assert titles == [f"Notes from the archive, part {n}" for n in range(12, 0, -1)]
    assert not (folder / "page" / "4.html").exists()
    assert soup_of(folder / "page/2.html").find("link", rel="next")["href"] == "../page/3.html"


def test_each_tag_has_a_page_listing_only_its_essays(tmp_path: Path) -> None:
    site = site_at(tmp_path)
    for index in range(1, 5):
        publish(site, short_essay(index), f"key-{index}")
    walking = soup_of(tmp_path / "site" / "tags" / "walking.html")
    titles = [a.get_text(strip=True) for a in walking.select(".essay-list .p-name a")]
    assert titles == ["Notes from the archive, part 4", "Notes from the archive, part 2"]
    assert walking.select_one(".essay-list a")["href"] == "../notes-from-the-archive-part-4.html"


def test_a_deleted_essay_leaves_the_index_its_tag_pages_and_the_feeds(tmp_path: Path) -> None:
    site = site_at(tmp_path)
    publish(site, short_essay(1), "key-1")
    second = publish(site, short_essay(2), "key-2")  # the only essay tagged "walking"
    site.delete(second)
    folder = tmp_path / "site"
    assert not (folder / "notes-from-the-archive-part-2.html").exists()
    assert not (folder / "tags" / "walking.html").exists()
    for name in ("index.html", "feed.atom", "feed.json", "tags/archives.html"):
        text = (folder / name).read_text(encoding="utf-8")
        assert "part 1" in text and "part 2" not in text


def test_the_site_has_a_404_page_and_its_links_work_from_any_address(tmp_path: Path) -> None:
    publish(site_at(tmp_path), short_essay(1), "key-1")
    page = soup_of(tmp_path / "site" / "404.html")
    assert page.find(attrs={"name": "robots"})["content"] == "noindex"
    assert page.select_one(".site-title")["href"] == f"{OPTIONS['base_url']}/index.html"


def test_essays_published_at_the_same_time_all_reach_the_index_and_feed(tmp_path: Path) -> None:
    site = site_at(tmp_path, per_page=100, feed_entries=100)

    def publish_one(index: int) -> None:
        essay = Essay(
            title=f"Essay number {index}",
            blocks=[Paragraph(content=[Run(text=f"Body of essay {index}.")])],
        )
        publish(site, essay, f"key-{index}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(publish_one, range(40)))

    manifest = json.loads((tmp_path / "site" / "posts.json").read_text(encoding="utf-8"))
    assert len(manifest) == 40
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    feed = (tmp_path / "site" / "feed.atom").read_text(encoding="utf-8")
    for n in range(40):
        assert f"Essay number {n}<" in index and f"Essay number {n}<" in feed


# ---------------------------------------------------------------- options and preview


def test_a_bad_site_option_stops_the_program_at_start_naming_the_key(tmp_path: Path) -> None:
    home = make_home(
        tmp_path, '[targets.site]\nplatform = "static_site"\noptions = { accent = "orange" }\n'
    )
    result = crosspost(home, "status")
    assert result.returncode == 2
    assert "accent" in result.stderr and "#rrggbb" in result.stderr
    assert "Error" not in result.stderr.replace("error:", "")


def test_theme_colours_from_the_settings_reach_every_page(tmp_path: Path) -> None:
    publish(site_at(tmp_path, accent="#225588", accent_dark="#99ccff"), short_essay(1), "k")
    for page in every_page(tmp_path / "site"):
        style = soup_of(page).head.find("style").string
        assert "--accent:#225588" in style and "--accent:#99ccff" in style


def test_preview_writes_the_site_page_to_a_temporary_folder_and_prints_its_path(
    tmp_path: Path,
) -> None:
    essay = tmp_path / "essay.md"
    essay.write_text("---\ntitle: A Preview Page\n---\n\nHello, reader.\n", encoding="utf-8")
    result = crosspost(
        tmp_path / "home", "preview", str(essay), "--target", "static_site", "--write"
    )
    assert result.returncode == 0, result.stderr
    page = Path(result.stdout.strip())
    try:
        assert page.is_file() and not page.is_relative_to(tmp_path / "home")
        assert soup_of(page).select_one("h1.p-name").text == "A Preview Page"
        assert html_errors([page]) == []
    finally:
        shutil.rmtree(page.parent.parent)


# ---------------------------------------------------------------- image sizes from headers


def test_image_sizes_are_read_from_the_headers_of_each_format() -> None:
    gif = b"GIF89a" + struct.pack("<HH", 320, 240) + b"\x00" * 10
    jpeg = (
        b"\xff\xd8"
        + b"\xff\xe0"
        + struct.pack(">H", 16)
        + b"JFIF\x00" * 2
        + b"\x00\x00\x00\x00"
        + b"\xff\xc0"
        + struct.pack(">HBHH", 17, 8, 480, 640)
        + b"\x03"
    )
    webp_lossless = b"RIFF\x00\x00\x00\x00WEBPVP8L\x00\x00\x00\x00\x2f" + (
        (99) | (49 << 14)
    ).to_bytes(4, "little")
    webp_extended = (
        b"RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00"
        + (1919).to_bytes(3, "little")
        + (1079).to_bytes(3, "little")
    )
    assert image_size(png(7, 5)) == (7, 5)
    assert image_size(gif) == (320, 240)
    assert image_size(jpeg) == (640, 480)
    assert image_size(webp_lossless) == (100, 50)
    assert image_size(webp_extended) == (1920, 1080)
    assert image_size(b"<svg/>") is None
    assert image_size(b"\x89PNG\r\n\x1a\n") is None  # cut short: no size, no exception


def test_an_image_block_without_a_fetchable_address_is_left_alone(tmp_path: Path) -> None:
    essay = Essay(title="Local", blocks=[Image(src="pictures/local.png", alt="a local picture")])
    publish(site_at(tmp_path), essay, "key")
    [img] = soup_of(tmp_path / "site" / "local.html").select(".e-content img")
    assert img["src"] == "pictures/local.png" and img["loading"] == "lazy"


# ---------------------------------------------------------------- upgrades


def test_a_site_written_before_the_theme_is_upgraded_and_keeps_its_feed_ids(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    old = {
        "own-your-archive": {
            "key": "old-key",
            "title": "Own Your Archive",
            "summary": "",
            "published": "2026-05-01T08:00:00.123456+00:00",
            "updated": "2026-05-01T08:00:00.123456+00:00",
            "html": "<p>Written before the theme.</p>",
        }
    }
    (folder / "posts.json").write_text(json.dumps(old), encoding="utf-8")
    (folder / "own-your-archive.html").write_text("<html><body>bare</body></html>")

    publish(site_at(tmp_path), short_essay(1), "key-1")

    feed = json.loads((folder / "feed.json").read_text(encoding="utf-8"))
    ids = {item["title"]: item["id"] for item in feed["items"]}
    assert ids["Own Your Archive"] == f"{OPTIONS['base_url']}/own-your-archive.html"
    page = soup_of(folder / "own-your-archive.html")
    assert page.find("link", rel="stylesheet") and page.select_one("h1.p-name").text == (
        "Own Your Archive"
    )
    assert html_errors(every_page(folder)) == []


def test_changed_options_reach_pages_published_before(tmp_path: Path) -> None:
    publish(site_at(tmp_path), short_essay(1), "key-1")
    publish(site_at(tmp_path, title="Field Notes, Second Series"), short_essay(2), "key-2")
    first = soup_of(tmp_path / "site" / "notes-from-the-archive-part-1.html")
    assert first.select_one(".site-title").text == "Field Notes, Second Series"
