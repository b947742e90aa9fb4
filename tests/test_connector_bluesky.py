"""The Bluesky connector: pure rendering, TID keys, and publishing against a real PDS.

The `pds` tests run `@atproto/dev-env` (tests/servers/pds.py): the PDS's own lexicon
validation is the judge of lengths, facets and record keys, and records are read back from
it. Faults a real server cannot produce (lost answers, 429, 503) come from a proxy in front.
"""

from __future__ import annotations

import json
import re
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from pydantic import SecretStr

from connectors.base import (
    Account,
    AuthExpired,
    Draft,
    InDoubt,
    Kind,
    MemoryJournal,
    Post,
    RateLimited,
    Rejected,
    RenderContext,
    Transient,
)
from connectors.bluesky import COLLECTION, PUBLISH_TIME, Bluesky, link_text
from connectors.tid import TID_PATTERN, decode, is_tid, later_tid, new_tid, timestamp_micros
from pipeline.document import Essay, Heading, Image, Paragraph, Run, block_text
from pipeline.render.lengths import graphemes, utf8_len
from tests.contract.harness_bluesky import list_records
from tests.emulators.proxy import ReverseProxy
from tests.golden_helpers import check_golden
from tests.servers.pds import PdsServer, pds_server  # noqa: F401 - the session fixture

GOLDEN = Path(__file__).parent / "golden" / "connectors" / "bluesky"
LINK = "https://blog.example.org/essays/on-slow-reading"


def essay(**kw: Any) -> Essay:
    fields: dict[str, Any] = {
        "title": "On Slow Reading",
        "tags": ["reading", "attention span"],
        "language": "en",
        "blocks": [
            Paragraph(
                content=[
                    Run(text="Reading slowly is not reading less. "),
                    Run(text="It is reading with the door open", marks=("em",)),
                    Run(text=" — café talk, naïve questions and all ✨."),
                ]
            ),
            Paragraph(content=[Run(text="The second paragraph stays on the blog.")]),
        ],
    }
    fields.update(kw)
    return Essay(**fields)


def long_essay() -> Essay:
    words = [
        *("attention", "memory", "patience", "margin", "notebook", "lamp", "window"),
        *("rain", "coffee", "pencil", "chapter", "sentence", "comma", "paragraph"),
        *("silence", "evening", "library", "shelf", "spine", "page"),
    ]
    blocks: list[Any] = []
    for n in range(14):
        sentence = " ".join(f"{words[(n + i) % len(words)]}{n}" for i in range(9))
        blocks.append(Heading(level=2, content=[Run(text=f"Part {n} of the walk")]))
        blocks.append(Paragraph(content=[Run(text=f"Émile wrote {sentence}. Then {sentence}!")]))
    return essay(title="A Long Walk Through Slow Reading", blocks=blocks)


def ctx(**options: Any) -> RenderContext:
    return RenderContext(target="bluesky", options=options, link=LINK)


def png(width: int = 4, height: int = 4, padding: int = 0) -> bytes:
    """A valid PNG; `padding` adds an ancillary chunk to make it as large as a test needs."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + kind + data + crc

    raw = b"".join(b"\x00" + b"\x10\x80\xf0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    extra = chunk(b"tEXt", b"pad\x00" + b"x" * padding) if padding else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------- keys (pure)


def test_new_key_is_a_tid_of_the_current_time() -> None:
    before = time.time_ns() // 1000
    key = Bluesky.new_key()
    after = time.time_ns() // 1000
    assert TID_PATTERN.match(key)
    assert before <= timestamp_micros(key) <= after + 1


def test_new_keys_sort_in_creation_order() -> None:
    keys = [new_tid() for _ in range(200)]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_post_keys_are_valid_tids_strictly_after_the_first() -> None:
    key = Bluesky.new_key()
    keys = [Bluesky.post_key(key, i) for i in range(30)]
    assert keys[0] == key
    assert all(is_tid(k) for k in keys)
    assert keys == sorted(keys) and len(set(keys)) == 30
    assert timestamp_micros(keys[29]) - timestamp_micros(key) == 29
    assert decode(keys[3]) & 1023 == decode(key) & 1023  # same clock id


def test_a_derived_key_never_goes_back_in_time() -> None:
    with pytest.raises(ValueError):
        later_tid(new_tid(), -1)
    with pytest.raises(ValueError):
        decode("not-a-tid")


# ---------------------------------------------------------------- render (pure)


def test_announcement_request_body_matches_golden() -> None:
    draft = Bluesky.render(essay(), ctx(now="2026-03-01T09:30:00Z", handle="writer.test"))
    check_golden(
        json.dumps([p.request for p in draft.posts], indent=2, ensure_ascii=False),
        GOLDEN / "announcement.json",
    )


def test_thread_request_bodies_match_golden() -> None:
    draft = Bluesky.render(long_essay(), ctx(mode="thread", now="2026-03-01T09:30:00Z"))
    check_golden(
        json.dumps([p.request for p in draft.posts], indent=2, ensure_ascii=False),
        GOLDEN / "thread.json",
    )


def test_render_is_pure_and_leaves_publish_time_fields_as_placeholders() -> None:
    first = Bluesky.render(essay(), ctx())
    second = Bluesky.render(essay(), ctx())
    assert first == second
    body = first.posts[0].request
    assert body["repo"] == "" and body["rkey"] == ""
    assert body["record"]["createdAt"] == PUBLISH_TIME


def test_created_at_comes_from_publish_at_when_scheduled() -> None:
    scheduled = datetime(2026, 5, 4, 12, 0, 30, tzinfo=UTC)
    draft = Bluesky.render(essay(publish_at=scheduled), ctx())
    assert draft.posts[0].request["record"]["createdAt"] == "2026-05-04T12:00:30.000Z"


def test_hashtag_facets_carry_the_tag_without_hash_and_slice_exactly() -> None:
    post = Bluesky.render(essay(), ctx()).posts[0]
    text = post.request["record"]["text"].encode("utf-8")
    tags = [f for f in post.request["record"]["facets"] if "tag" in f["features"][0]]
    assert [f["features"][0]["tag"] for f in tags] == ["reading", "AttentionSpan"]
    for facet in tags:
        sliced = text[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode()
        assert sliced == "#" + facet["features"][0]["tag"]


def test_link_card_only_on_the_first_post_of_a_thread() -> None:
    draft = Bluesky.render(long_essay(), ctx(mode="thread"))
    assert len(draft.posts) > 3
    card = draft.posts[0].request["record"]["embed"]["external"]
    assert card["uri"] == LINK and card["title"] == "A Long Walk Through Slow Reading"
    assert card["description"].startswith("Émile wrote")
    assert all("embed" not in p.request["record"] for p in draft.posts[1:])


def test_no_link_means_no_card() -> None:
    draft = Bluesky.render(essay(), RenderContext(target="bluesky"))
    assert "embed" not in draft.posts[0].request["record"]


def test_every_post_fits_300_graphemes_and_3000_bytes() -> None:
    dense = essay(blocks=[Paragraph(content=[Run(text="𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👩‍👩‍👧‍👦 " * 120)])])
    for mode in ("announcement", "thread"):
        for post in Bluesky.render(dense, ctx(mode=mode)).posts:
            text = post.request["record"]["text"]
            assert graphemes(text) <= 300 and utf8_len(text) <= 3000
            assert post.limit == 300 and post.length == graphemes(text)


def test_thumb_is_planned_only_for_web_images() -> None:
    local = essay(blocks=[Image(src="images/cover.png", alt="cover"), *essay().blocks])
    web = essay(blocks=[Image(src="https://img.example.org/c.png", alt="c"), *essay().blocks])
    assert "thumb_url" not in Bluesky.render(local, ctx()).extras
    assert Bluesky.render(web, ctx()).extras["thumb_url"] == "https://img.example.org/c.png"


# ---------------------------------------------------------------- against the real PDS


@pytest.fixture
def account(pds_server: PdsServer) -> tuple[str, str, str, str]:  # noqa: F811
    return pds_server.new_account()


@pytest.fixture
def proxy(pds_server: PdsServer) -> Iterator[ReverseProxy]:  # noqa: F811
    with ReverseProxy(pds_server.base_url) as started:
        yield started  # type: ignore[misc]


def connect(base_url: str, handle: str, app_password: str) -> Bluesky:
    return Bluesky(
        Account(
            name="bsky",
            platform="bluesky",
            credentials={"identifier": SecretStr(handle), "app_password": SecretStr(app_password)},
            base_url=base_url,
        )
    )


def stored(pds: PdsServer, did: str, rkey: str) -> dict[str, Any]:
    answer = requests.get(
        pds.xrpc("com.atproto.repo.getRecord"),
        params={"repo": did, "collection": COLLECTION, "rkey": rkey},
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()


@pytest.fixture
def image_server() -> Iterator[str]:
    """A tiny web server for the essay's image: /cover.png, /huge.png, /page.html."""
    files = {
        "/cover.png": (png(), "image/png"),
        "/huge.png": (png(padding=1_000_100), "image/png"),
        "/page.html": (b"<html>not an image</html>", "text/html"),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, kind = files.get(self.path, (b"", ""))
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", kind or "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.pds
def test_published_post_has_facets_slicing_the_url_and_tags_and_a_card_with_thumb(
    pds_server: PdsServer,  # noqa: F811
    account: tuple[str, str, str, str],
    image_server: str,
) -> None:
    handle, did, app_password, _ = account
    cover = f"{image_server}/cover.png"
    draft = Bluesky.render(essay(blocks=[Image(src=cover), *essay().blocks]), ctx())
    connector = connect(pds_server.base_url, handle, app_password)
    key = Bluesky.new_key()
    remote = connector.publish(draft, key)
    assert remote.id == key
    assert remote.url == f"https://bsky.app/profile/{handle}/post/{key}"

    record = stored(pds_server, did, key)["value"]
    assert record["text"] == draft.posts[0].text  # byte for byte what render made
    text = record["text"].encode("utf-8")
    sliced = {
        text[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(): f["features"][0]
        for f in record["facets"]
    }
    # the post shows a short link text of fixed length; its facet points at the whole URL
    assert sliced[link_text(LINK)] == {"$type": "app.bsky.richtext.facet#link", "uri": LINK}
    assert sliced["#reading"]["tag"] == "reading"
    assert sliced["#AttentionSpan"]["tag"] == "AttentionSpan"
    assert record["langs"] == ["en"]

    external = record["embed"]["external"]
    assert external["uri"] == LINK and external["title"] == "On Slow Reading"
    assert external["description"].startswith("Reading slowly is not reading less.")
    thumb = external["thumb"]
    assert thumb["mimeType"] == "image/png" and thumb["size"] == len(png())
    blob = requests.get(
        pds_server.xrpc("com.atproto.sync.getBlob"),
        params={"did": did, "cid": thumb["ref"]["$link"]},
        timeout=30,
    )
    assert blob.content == png()
    created = datetime.fromisoformat(record["createdAt"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - created).total_seconds()) < 120


@pytest.mark.pds
@pytest.mark.parametrize("path", ["/huge.png", "/page.html", "/missing.png"])
def test_an_unusable_image_leaves_the_card_without_thumb(
    pds_server: PdsServer,  # noqa: F811
    account: tuple[str, str, str, str],
    image_server: str,
    path: str,
) -> None:
    handle, did, app_password, _ = account
    draft = Bluesky.render(essay(blocks=[Image(src=image_server + path), *essay().blocks]), ctx())
    key = Bluesky.new_key()
    connect(pds_server.base_url, handle, app_password).publish(draft, key)
    external = stored(pds_server, did, key)["value"]["embed"]["external"]
    assert external["uri"] == LINK and "thumb" not in external


def essay_words(source: Essay) -> list[str]:
    return re.findall(r"\w+", " ".join(block_text(b) for b in source.blocks))


def is_subsequence(needle: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(word in it for word in needle)


@pytest.mark.pds
def test_long_essay_thread_is_chained_within_limits_and_keeps_every_word(
    pds_server: PdsServer,  # noqa: F811
    account: tuple[str, str, str, str],
) -> None:
    handle, did, app_password, _ = account
    source = long_essay()
    draft = Bluesky.render(source, ctx(mode="thread"))
    assert len(draft.posts) >= 5
    key = Bluesky.new_key()
    connect(pds_server.base_url, handle, app_password).publish(draft, key)

    records = [stored(pds_server, did, Bluesky.post_key(key, i)) for i in range(len(draft.posts))]
    assert len(list_records(pds_server.base_url, did)) == len(draft.posts)
    root = {"uri": records[0]["uri"], "cid": records[0]["cid"]}
    assert "reply" not in records[0]["value"]
    for i, rec in enumerate(records):
        text = rec["value"]["text"]
        assert text == draft.posts[i].text
        assert graphemes(text) <= 300 and utf8_len(text) <= 3000
        if i:
            parent = {"uri": records[i - 1]["uri"], "cid": records[i - 1]["cid"]}
            assert rec["value"]["reply"] == {"root": root, "parent": parent}
    published = re.findall(r"\w+", " ".join(r["value"]["text"] for r in records))
    assert is_subsequence(essay_words(source), published)


@pytest.mark.pds
def test_lost_answer_then_find_and_retry_leave_exactly_one_record(
    pds_server: PdsServer,  # noqa: F811
    account: tuple[str, str, str, str],
    proxy: ReverseProxy,
) -> None:
    handle, did, app_password, _ = account
    connector = connect(proxy.base_url, handle, app_password)
    draft = Bluesky.render(essay(), ctx())
    key = Bluesky.new_key()
    journal = MemoryJournal()
    proxy.inject("drop", method="POST", path=r"createRecord$")
    with pytest.raises(InDoubt):
        connector.publish(draft, key, journal)
    found = connector.find(key, draft)
    assert found is not None and found.id == key
    again = connector.publish(draft, key, journal)
    assert again.extra["cid"] == found.extra["cid"]
    assert len(list_records(pds_server.base_url, did)) == 1


@pytest.mark.pds
def test_creating_again_under_a_taken_rkey_returns_the_existing_record(
    pds_server: PdsServer,  # noqa: F811
    account: tuple[str, str, str, str],
) -> None:
    handle, did, app_password, _ = account
    connector = connect(pds_server.base_url, handle, app_password)
    draft = Bluesky.render(essay(), ctx())
    key = Bluesky.new_key()
    first = connector.create_post(draft.posts[0], key, [], draft)
    second = connector.create_post(draft.posts[0], key, [], draft)  # no journal: blind retry
    assert second.id == first.id and second.extra["cid"] == first.extra["cid"]
    assert len(list_records(pds_server.base_url, did)) == 1


@pytest.mark.pds
def test_pds_rejecting_more_than_300_graphemes_is_rejected_with_its_message(
    pds_server: PdsServer,  # noqa: F811
    account: tuple[str, str, str, str],
) -> None:
    handle, did, app_password, _ = account
    text = "é" * 301
    post = Post(
        request={
            "repo": "",
            "collection": COLLECTION,
            "rkey": "",
            "record": {"$type": COLLECTION, "text": text, "createdAt": PUBLISH_TIME},
        },
        text=text,
    )
    draft = Draft(platform="bluesky", target="bluesky", kind=Kind.SOCIAL, posts=[post])
    connector = connect(pds_server.base_url, handle, app_password)
    with pytest.raises(Rejected) as caught:
        connector.create_post(post, Bluesky.new_key(), [], draft)
    assert caught.value.status == 400
    assert "InvalidRequest" in caught.value.message
    # The PDS says: "Invalid app.bsky.feed.post record: grapheme too big (maximum 300, got 301)"
    assert "maximum 300" in (caught.value.platform_message or "")
    assert list_records(pds_server.base_url, did) == []


@pytest.mark.pds
def test_expired_access_token_is_refreshed_once_and_the_post_goes_out(
    pds_server: PdsServer,  # noqa: F811
    account: tuple[str, str, str, str],
    proxy: ReverseProxy,
) -> None:
    handle, did, app_password, _ = account
    connector = connect(proxy.base_url, handle, app_password)
    connector.verify()
    assert connector.session is not None
    old_refresh = connector.session["refreshJwt"]
    expired = pds_server.expired_copy(connector.session["accessJwt"])
    connector.session["accessJwt"] = expired
    # What the PDS answers such a token, read on the wire: 400 ExpiredToken.
    answer = requests.post(
        pds_server.xrpc("com.atproto.repo.createRecord"),
        headers={"Authorization": f"Bearer {expired}"},
        json={"repo": did, "collection": COLLECTION, "record": {}},
        timeout=30,
    )
    assert (answer.status_code, answer.json()["error"]) == (400, "ExpiredToken")

    draft = Bluesky.render(essay(), ctx())
    key = Bluesky.new_key()
    remote = connector.publish(draft, key)
    assert remote.id == key
    paths = [r.path.rsplit("/", 1)[-1] for r in proxy.requests_seen]
    assert paths.count("com.atproto.server.refreshSession") == 1
    assert paths.count("com.atproto.server.createSession") == 1  # the verify() login only
    assert connector.session["accessJwt"] != expired
    assert connector.session["refreshJwt"] != old_refresh  # the PDS rotates refresh tokens
    assert len(list_records(pds_server.base_url, did)) == 1


@pytest.mark.pds
def test_invalid_access_token_is_refreshed_once_and_the_post_goes_out(
    pds_server: PdsServer,  # noqa: F811
    account: tuple[str, str, str, str],
    proxy: ReverseProxy,
) -> None:
    handle, did, app_password, _ = account
    connector = connect(proxy.base_url, handle, app_password)
    connector.verify()
    assert connector.session is not None
    # The PDS cannot be made to issue an expired token, so we break the cached one. The
    # real PDS answers a token it cannot verify with 400 {"error":"InvalidToken"} (an
    # expired one is 400 "ExpiredToken"); both mean: refresh, then retry the call once.
    connector.session["accessJwt"] = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjB9.c2lnbmF0dXJl"
    draft = Bluesky.render(essay(), ctx())
    key = Bluesky.new_key()
    connector.publish(draft, key)
    paths = [r.path.rsplit("/", 1)[-1] for r in proxy.requests_seen]
    assert paths.count("com.atproto.server.refreshSession") == 1
    assert paths.count("com.atproto.repo.createRecord") == 2
    assert len(list_records(pds_server.base_url, did)) == 1


@pytest.mark.pds
def test_dead_refresh_token_falls_back_to_a_new_login(
    pds_server: PdsServer,  # noqa: F811
    account: tuple[str, str, str, str],
    proxy: ReverseProxy,
) -> None:
    handle, did, app_password, _ = account
    connector = connect(proxy.base_url, handle, app_password)
    connector.verify()
    assert connector.session is not None
    connector.session["accessJwt"] = "broken"
    connector.session["refreshJwt"] = "broken"
    connector.publish(Bluesky.render(essay(), ctx()), Bluesky.new_key())
    paths = [r.path.rsplit("/", 1)[-1] for r in proxy.requests_seen]
    assert paths.count("com.atproto.server.createSession") == 2
    assert len(list_records(pds_server.base_url, did)) == 1


@pytest.mark.pds
def test_wrong_app_password_is_auth_expired_without_the_password(
    pds_server: PdsServer,  # noqa: F811
    account: tuple[str, str, str, str],
) -> None:
    handle, _, app_password, _ = account
    wrong = app_password[::-1]
    connector = connect(pds_server.base_url, handle, wrong)
    with pytest.raises(AuthExpired) as caught:
        connector.verify()
    assert caught.value.status == 401
    assert caught.value.platform_message  # the PDS's own words
    assert wrong not in str(caught.value) and app_password not in str(caught.value)
    assert connect(pds_server.base_url, handle, app_password).verify() == handle


def test_missing_credential_names_what_to_set() -> None:
    connector = Bluesky(Account(name="bsky", platform="bluesky", base_url="http://127.0.0.1:9"))
    with pytest.raises(AuthExpired, match="identifier"):
        connector.verify()


@pytest.mark.pds
@pytest.mark.parametrize("header", ["Retry-After", "RateLimit-Reset"])
def test_429_is_rate_limited_with_the_wait_the_pds_gave(
    pds_server: PdsServer,  # noqa: F811
    account: tuple[str, str, str, str],
    proxy: ReverseProxy,
    header: str,
) -> None:
    handle, _, app_password, _ = account
    expected = 42 if header == "Retry-After" else 30
    # Retry-After is seconds; RateLimit-Reset alone is the Unix time the window resets.
    value = expected if header == "Retry-After" else int(time.time()) + expected
    headers = {header: str(value)}
    proxy.inject(
        "status",
        method="POST",
        path=r"createRecord$",
        status=429,
        body={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={"RateLimit-Limit": "5000", "RateLimit-Remaining": "0", **headers},
    )
    connector = connect(proxy.base_url, handle, app_password)
    with pytest.raises(RateLimited) as caught:
        connector.publish(Bluesky.render(essay(), ctx()), Bluesky.new_key())
    assert caught.value.retry_after is not None
    assert expected - 2 <= caught.value.retry_after <= expected
    assert caught.value.platform_message == "Rate Limit Exceeded"


@pytest.mark.pds
def test_server_error_is_transient_with_the_pds_message(
    pds_server: PdsServer,  # noqa: F811
    account: tuple[str, str, str, str],
    proxy: ReverseProxy,
) -> None:
    handle, did, app_password, _ = account
    proxy.inject(
        "status",
        method="POST",
        path=r"createRecord$",
        status=502,
        body={"error": "UpstreamFailure", "message": "upstream went away"},
    )
    connector = connect(proxy.base_url, handle, app_password)
    with pytest.raises(Transient) as caught:
        connector.publish(Bluesky.render(essay(), ctx()), Bluesky.new_key())
    assert not isinstance(caught.value, RateLimited)
    assert caught.value.platform_message == "upstream went away"
    assert list_records(pds_server.base_url, did) == []


@pytest.mark.pds
def test_update_rewrites_a_thread_in_place_and_delete_removes_it(
    pds_server: PdsServer,  # noqa: F811
    account: tuple[str, str, str, str],
) -> None:
    handle, did, app_password, _ = account
    connector = connect(pds_server.base_url, handle, app_password)
    source = long_essay()
    draft = Bluesky.render(source, ctx(mode="thread"))
    key = Bluesky.new_key()
    remote = connector.publish(draft, key)
    created_at = stored(pds_server, did, key)["value"]["createdAt"]

    edited = source.model_copy(update={"title": "A Long Walk, Revised"})
    new_draft = Bluesky.render(edited, ctx(mode="thread"))
    assert len(new_draft.posts) == len(draft.posts)
    updated = connector.update(remote, new_draft)
    assert updated.id == key
    records = [stored(pds_server, did, Bluesky.post_key(key, i)) for i in range(len(draft.posts))]
    assert records[0]["value"]["text"].startswith("A Long Walk, Revised")
    assert records[0]["value"]["createdAt"] == created_at
    assert records[-1]["value"]["reply"]["root"] == {
        "uri": records[0]["uri"],
        "cid": records[0]["cid"],
    }
    assert len(list_records(pds_server.base_url, did)) == len(draft.posts)

    connector.delete(updated)
    assert list_records(pds_server.base_url, did) == []
    assert connector.find(key, new_draft) is None
