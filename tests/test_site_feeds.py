"""The site's feeds, checked against their specifications, not against our own writer.

Atom: every MUST of RFC 4287 that applies to a feed of HTML entries, read with the
standard library's XML parser, and feedparser (what most readers use) without `bozo`.
JSON Feed 1.1: the schema in tests/data, written from the published specification.
"""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import feedparser
import jsonschema

from tests.emulators.base import Emulator, Response
from tests.site_helpers import OPTIONS, night_trains, png, publish, short_essay, site_at, update

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8")
)


def build_site(home: Path, **options: str) -> Path:
    site = site_at(home, **options)
    for index in range(1, 4):
        publish(site, short_essay(index, author=None), f"key-{index}")
    publish(site, night_trains("file:///nowhere/train.png"), "key-trains")
    return home / "site"


def one(parent: ET.Element, name: str) -> ET.Element:
    found = parent.findall(ATOM + name)
    assert len(found) == 1, f"{parent.tag} has {len(found)} {name} elements; RFC 4287 wants one"
    return found[0]


def assert_rfc4287(feed: ET.Element) -> None:
    """RFC 4287 §4.1.1 (feed) and §4.1.2 (entry) MUSTs, §3.3 dates, §4.2.6 ids, §4.2.7 links."""
    assert feed.tag == ATOM + "feed"
    for name in ("id", "title", "updated"):
        assert one(feed, name).text
    feed_has_author = bool(feed.findall(ATOM + "author"))
    for author in feed.iter(ATOM + "author"):
        assert one(author, "name").text, "§3.2: a Person construct MUST have one name"
    alternates = [
        (link.get("type"), link.get("hreflang"))
        for link in feed.findall(ATOM + "link")
        if link.get("rel", "alternate") == "alternate"
    ]
    assert len(alternates) == len(set(alternates)), "§4.1.1: one alternate per type+hreflang"
    assert any(link.get("rel") == "self" for link in feed.findall(ATOM + "link"))
    entries = feed.findall(ATOM + "entry")
    assert entries
    ids = []
    for entry in entries:
        ids.append(one(entry, "id").text)
        assert one(entry, "title").text
        assert RFC3339.match(one(entry, "updated").text or "")
        for published in entry.findall(ATOM + "published"):
            assert RFC3339.match(published.text or "")
        assert feed_has_author or entry.findall(ATOM + "author"), "§4.1.1: author MUST"
        content = entry.findall(ATOM + "content")
        links = [
            link
            for link in entry.findall(ATOM + "link")
            if link.get("rel", "alternate") == "alternate"
        ]
        assert content or links, "§4.1.1: an entry without content MUST have an alternate link"
        for item in content:
            assert item.get("src") is None or entry.findall(ATOM + "summary")
            assert item.get("type") in {"text", "html", "xhtml"}
        for link in entry.findall(ATOM + "link"):
            assert link.get("href", "").startswith("https://"), "links are absolute"
    assert RFC3339.match(one(feed, "updated").text or "")
    assert len(ids) == len(set(ids)), "§4.2.6: ids are unique"
    for value in ids:
        assert re.match(r"^[a-z][a-z0-9+.-]*:", value or ""), "§4.2.6: an id is an absolute IRI"


def test_the_atom_feed_meets_every_must_of_rfc_4287(tmp_path: Path) -> None:
    folder = build_site(tmp_path)
    feed = ET.parse(folder / "feed.atom").getroot()
    assert_rfc4287(feed)
    entries = feed.findall(ATOM + "entry")
    assert len(entries) == 4
    trains = next(e for e in entries if "Night Trains" in (e.findtext(ATOM + "title") or ""))
    assert trains.find(ATOM + "author/" + ATOM + "name").text == "Ada Walker"


def test_an_atom_feed_without_any_author_set_still_names_one(tmp_path: Path) -> None:
    site = site_at(tmp_path, author=None)
    site.account.options = {k: v for k, v in site.account.options.items() if k != "author"}
    publish(site, short_essay(1, author=None), "key-1")
    feed = ET.parse(tmp_path / "site" / "feed.atom").getroot()
    assert_rfc4287(feed)
    assert feed.find(f"{ATOM}author/{ATOM}name").text == OPTIONS["title"]


def test_feedparser_reads_the_atom_feed_without_complaint(tmp_path: Path) -> None:
    folder = build_site(tmp_path)
    parsed = feedparser.parse((folder / "feed.atom").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == OPTIONS["title"]
    assert len(parsed.entries) == 4
    newest = parsed.entries[0]
    assert newest.title.startswith("Night Trains")
    assert newest.link == f"{OPTIONS['base_url']}/{night_trains('').effective_slug()}.html"
    assert newest.author == "Ada Walker"
    assert {t.term for t in newest.tags} == {"trains", "Europe"}


def test_the_json_feed_validates_against_the_json_feed_1_1_schema(tmp_path: Path) -> None:
    folder = build_site(tmp_path)
    feed = json.loads((folder / "feed.json").read_text(encoding="utf-8"))
    jsonschema.validate(feed, SCHEMA)
    assert feed["items"][0]["title"].startswith("Night Trains")
    assert all(item["url"].startswith("https://notes.example.org/") for item in feed["items"])


def test_the_schema_rejects_what_the_specification_forbids() -> None:
    good = {"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": []}
    jsonschema.validate(good, SCHEMA)
    for bad in (
        {**good, "version": "https://jsonfeed.org/version/1"},
        {**good, "items": [{"id": "1"}]},  # neither content_html nor content_text
        {**good, "items": [{"id": "1", "content_text": "x", "date_published": "yesterday"}]},
        {**good, "authors": [{}]},
        {"version": good["version"], "items": []},
    ):
        try:
            jsonschema.validate(bad, SCHEMA)
        except jsonschema.ValidationError:
            continue
        raise AssertionError(f"the schema accepted {bad}")


def test_an_edit_changes_updated_but_never_the_entry_id(tmp_path: Path) -> None:
    site = site_at(tmp_path)
    remote = publish(site, short_essay(1), "key-1")
    before = ET.parse(tmp_path / "site" / "feed.atom").getroot().find(ATOM + "entry")
    before_json = json.loads((tmp_path / "site" / "feed.json").read_text())["items"][0]

    time.sleep(1.1)  # `updated` has a resolution of one second
    edited = short_essay(1, title="Notes from the archive, part 1 (revised)")
    edited = edited.model_copy(update={"slug": "notes-from-the-archive-part-1"})
    update(site, remote, edited)

    after = ET.parse(tmp_path / "site" / "feed.atom").getroot().find(ATOM + "entry")
    after_json = json.loads((tmp_path / "site" / "feed.json").read_text())["items"][0]
    assert after.findtext(ATOM + "id") == before.findtext(ATOM + "id")
    assert after_json["id"] == before_json["id"]
    assert after.findtext(ATOM + "title").endswith("(revised)")
    assert after.findtext(ATOM + "updated") > before.findtext(ATOM + "updated")
    assert after.findtext(ATOM + "published") == before.findtext(ATOM + "published")


def test_feed_content_links_images_absolutely(
    tmp_path: Path, local_server: Callable[..., Emulator]
) -> None:
    server = local_server(lambda req: Response(200, png(40, 20), content_type="image/png"))
    site = site_at(tmp_path)
    publish(site, night_trains(f"{server.base_url}/train.png"), "key-trains")
    feed = json.loads((tmp_path / "site" / "feed.json").read_text(encoding="utf-8"))
    html = feed["items"][0]["content_html"]
    sources = re.findall(r'src="([^"]+)"', html)
    assert sources and all(s.startswith("https://notes.example.org/images/") for s in sources)
    assert feed["items"][0]["image"] == sources[0]
