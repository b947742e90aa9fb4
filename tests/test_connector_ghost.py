"""The Ghost connector: its request bodies, and what a real Ghost 6 keeps of them.

Render tests are pure. Tests marked `ghost` publish to the run's real Ghost (started by
`tests/servers/ghost.py`), mostly through a fault-injecting proxy so a test can also
make Ghost's answers fail the way a network or an overloaded server would.
"""

from __future__ import annotations

import json
import struct
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from bs4 import BeautifulSoup
from pydantic import SecretStr

from connectors.base import (
    Account,
    AuthExpired,
    InDoubt,
    Kind,
    RateLimited,
    Rejected,
    Remote,
    RenderContext,
    Transient,
)
from connectors.ghost import ACCEPT_VERSION, Ghost, admin_token, clip_excerpt
from pipeline.document import (
    Essay,
    Heading,
    Image,
    ListBlock,
    ListItem,
    Paragraph,
    RelatedLink,
    Run,
)
from tests.contract.harness_ghost import wrong_secret
from tests.emulators.base import Emulator, Response, route
from tests.emulators.proxy import ReverseProxy
from tests.golden_helpers import check_golden
from tests.servers import ghost as ghost_servers
from tests.servers.ghost import GhostServer

GOLDEN = Path(__file__).parent / "golden" / "connectors" / "ghost"
ghost_server = ghost_servers.ghost_server  # the run's shared real Ghost (session fixture)


def sample_essay(marker: str = "", image: str | None = "https://example.org/lead.png") -> Essay:
    """An essay with the structure a reader notices when a blog mangles it."""
    blocks: list[Any] = [
        Paragraph(
            content=[
                Run(text="Writing every day is "),
                Run(text="hard", marks=("strong",)),
                Run(text=", so I keep a "),
                Run(text="notebook", href="https://example.org/notebook"),
                Run(text=f". {marker}".rstrip()),
            ]
        ),
        Heading(level=2, content=[Run(text="What helps")]),
        ListBlock(
            items=[
                ListItem(content=[Run(text="A fixed hour")]),
                ListItem(content=[Run(text="A small "), Run(text="goal", marks=("em",))]),
            ]
        ),
    ]
    if image:
        blocks.append(Image(src=image, alt="A green square", caption="The notebook's cover"))
    return Essay(
        title=f"Keeping a Notebook {marker}".strip(),
        subtitle="Why a daily page beats a weekly plan",
        tags=["writing", "habits"],
        canonical_url="https://blog.example.org/keeping-a-notebook",
        blocks=blocks,
        promo=[
            Paragraph(
                content=[
                    Run(text="Support my writing on "),
                    Run(text="Patreon", href="https://www.patreon.com/example"),
                    Run(text="."),
                ]
            )
        ],
        related=[RelatedLink(title="On drafts", url="https://blog.example.org/on-drafts")],
    )


def body(essay: Essay, **options: Any) -> dict[str, Any]:
    draft = Ghost.render(essay, RenderContext(target="blog", options=options))
    return draft.posts[0].request["posts"][0]


# ---------------------------------------------------------------- render (pure)


def test_render_body_matches_the_golden_file() -> None:
    draft = Ghost.render(sample_essay(), RenderContext(target="blog"))
    actual = json.dumps(
        {"request": draft.posts[0].request, "extras": draft.extras}, indent=2, ensure_ascii=False
    )
    check_golden(actual, GOLDEN / "render.json")


def test_paid_account_renders_a_paid_post_without_the_patreon_promo() -> None:
    essay = sample_essay()
    paid = body(essay, visibility="paid")
    assert paid["visibility"] == "paid"
    assert "patreon.com" not in paid["html"]
    assert "patreon.com" in body(essay)["html"]
    assert Ghost.render(essay, RenderContext("blog", {"visibility": "paid"})).kind is Kind.PATRONAGE


def test_kind_is_patronage_only_for_paid_or_tier_accounts() -> None:
    assert Ghost.kind_for({}) is Kind.BLOG
    assert Ghost.kind_for({"visibility": "members"}) is Kind.BLOG
    assert Ghost.kind_for({"visibility": "paid"}) is Kind.PATRONAGE
    assert Ghost.kind_for({"tiers": ["abc"]}) is Kind.PATRONAGE


def test_tiers_option_lists_the_tier_ids() -> None:
    rendered = body(sample_essay(), tiers=["t1", "t2"])
    assert rendered["visibility"] == "tiers"
    assert rendered["tiers"] == [{"id": "t1"}, {"id": "t2"}]


def test_unknown_visibility_is_rejected_before_anything_is_sent() -> None:
    with pytest.raises(Rejected, match="visibility"):
        body(sample_essay(), visibility="friends")


def test_publish_at_schedules_only_when_the_account_asks_for_it() -> None:
    essay = sample_essay()
    essay.publish_at = datetime(2031, 5, 4, 9, 30, tzinfo=UTC)
    assert body(essay)["status"] == "published"
    assert "published_at" not in body(essay)
    scheduled = body(essay, schedule_on_platform=True)
    assert scheduled["status"] == "scheduled"
    assert scheduled["published_at"] == "2031-05-04T09:30:00.000Z"


def test_excerpt_fits_ghosts_limit_counted_in_javascript_units() -> None:
    long = "word " * 100 + "😀" * 200
    clipped = clip_excerpt(long)
    assert len(clipped.encode("utf-16-le")) // 2 <= 300
    assert clipped.endswith("…")
    essay = sample_essay()
    essay.subtitle = None
    essay.blocks[0] = Paragraph(content=[Run(text="🎉" * 400)])
    assert len(body(essay)["custom_excerpt"].encode("utf-16-le")) // 2 <= 300


def test_newsletter_option_is_kept_for_the_publish_call_not_the_body() -> None:
    draft = Ghost.render(sample_essay(), RenderContext("blog", {"newsletter": "weekly"}))
    assert draft.extras["newsletter"] == "weekly"
    assert draft.extras["email_segment"] == "all"
    assert "newsletter" not in draft.posts[0].request["posts"][0]


def test_admin_token_is_signed_with_the_hex_secret_for_the_admin_audience() -> None:
    import jwt

    secret = "ab" * 32
    token = admin_token(f"key-id:{secret}", now=1_700_000_000)
    assert jwt.get_unverified_header(token)["kid"] == "key-id"
    claims = jwt.decode(
        token,
        bytes.fromhex(secret),
        algorithms=["HS256"],
        audience="/admin/",
        options={"verify_exp": False},
    )
    assert claims == {"iat": 1_700_000_000, "exp": 1_700_000_300, "aud": "/admin/"}


def test_malformed_admin_key_fails_as_auth_without_echoing_it() -> None:
    with pytest.raises(AuthExpired) as caught:
        admin_token("not-a-key-zzzzzz")
    assert "not-a-key-zzzzzz" not in str(caught.value)


# ---------------------------------------------------------------- against a real Ghost


def png_bytes(size: int = 4) -> bytes:
    raw = b"".join(b"\x00" + b"\x00\xff\x00" * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class ImageHost(Emulator):
    """A tiny picture host: the essay's images live here, on loopback."""

    name = "images"
    picture = png_bytes()

    @route("GET", r"/green\.png")
    def green(self, req: Any) -> Response:
        return Response(200, self.picture, content_type="image/png")


@pytest.fixture
def proxy(ghost_server: GhostServer) -> Iterator[ReverseProxy]:
    started = ReverseProxy(ghost_server.base_url)
    started.start()
    yield started
    started.stop()


@pytest.fixture
def images() -> Iterator[ImageHost]:
    started = ImageHost()
    started.start()
    yield started
    started.stop()


def connector(ghost: GhostServer, base_url: str | None = None, key: str | None = None) -> Ghost:
    account = Account(
        name="ghost-test",
        platform="ghost",
        credentials={"admin_key": SecretStr(key or ghost.admin_key)},
        base_url=base_url or ghost.base_url,
    )
    return Ghost(account)


def stored(ghost: GhostServer, post_id: str) -> dict[str, Any]:
    """The post as Ghost keeps it, with its HTML and tags."""
    answer = requests.get(
        f"{ghost.base_url}/ghost/api/admin/posts/{post_id}/",
        headers={
            "Authorization": f"Ghost {admin_token(ghost.admin_key)}",
            "Accept-Version": ACCEPT_VERSION,
        },
        params={"formats": "html", "include": "tags,tiers"},
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()["posts"][0]


def publish(
    ghost: GhostServer, essay: Essay, base_url: str | None = None, **options: Any
) -> Remote:
    target = connector(ghost, base_url)
    draft = Ghost.render(essay, RenderContext(target="blog", options=options))
    return target.publish(draft, Ghost.new_key())


def unique() -> str:
    return uuid.uuid4().hex[:8]


@pytest.mark.ghost
def test_published_post_keeps_headings_lists_bold_and_links(ghost_server: GhostServer) -> None:
    remote = publish(ghost_server, sample_essay(unique(), image=None))
    post = stored(ghost_server, remote.id)
    page = BeautifulSoup(post["html"], "html.parser")
    assert page.find("h2").get_text() == "What helps"
    assert [li.get_text() for li in page.find("ul").find_all("li")][:2] == [
        "A fixed hour",
        "A small goal",
    ]
    assert page.find("strong").get_text() == "hard"
    assert page.find("a", href="https://example.org/notebook").get_text() == "notebook"
    assert page.find("a", href="https://blog.example.org/on-drafts").get_text() == "On drafts"
    assert post["status"] == "published"
    assert post["custom_excerpt"] == "Why a daily page beats a weekly plan"
    assert post["canonical_url"] == "https://blog.example.org/keeping-a-notebook"
    assert remote.url == post["url"]
    assert remote.extra["updated_at"] == post["updated_at"]


@pytest.mark.ghost
def test_published_post_carries_the_essays_tags(ghost_server: GhostServer) -> None:
    remote = publish(ghost_server, sample_essay(unique(), image=None))
    assert [tag["name"] for tag in stored(ghost_server, remote.id)["tags"]] == [
        "writing",
        "habits",
    ]


@pytest.mark.ghost
def test_paid_account_posts_for_paying_members_only(ghost_server: GhostServer) -> None:
    essay = sample_essay(unique(), image=None)
    draft = Ghost.render(essay, RenderContext(target="members", options={"visibility": "paid"}))
    assert draft.kind is Kind.PATRONAGE
    remote = connector(ghost_server).publish(draft, Ghost.new_key())
    post = stored(ghost_server, remote.id)
    assert post["visibility"] == "paid"
    assert "patreon.com" not in post["html"]


@pytest.mark.ghost
def test_tier_account_posts_for_that_tier_only(ghost_server: GhostServer) -> None:
    assert ghost_server.paid_tier_id, "a fresh Ghost has one paid tier"
    remote = publish(
        ghost_server, sample_essay(unique(), image=None), tiers=[ghost_server.paid_tier_id]
    )
    post = stored(ghost_server, remote.id)
    assert post["visibility"] == "tiers"
    assert [tier["id"] for tier in post["tiers"]] == [ghost_server.paid_tier_id]


@pytest.mark.ghost
def test_future_publish_at_is_scheduled_in_ghost(ghost_server: GhostServer) -> None:
    essay = sample_essay(unique(), image=None)
    essay.publish_at = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    remote = publish(ghost_server, essay, schedule_on_platform=True)
    post = stored(ghost_server, remote.id)
    assert post["status"] == "scheduled"
    published_at = datetime.fromisoformat(post["published_at"].replace("Z", "+00:00"))
    assert published_at == essay.publish_at


@pytest.mark.ghost
def test_update_changes_the_post_in_place_and_keeps_its_url(ghost_server: GhostServer) -> None:
    essay = sample_essay(unique(), image=None)
    target = connector(ghost_server)
    remote = publish(ghost_server, essay)
    before = stored(ghost_server, remote.id)
    edited = essay.model_copy(update={"title": f"{essay.title} (revised)"})
    edited.blocks = [*essay.blocks, Paragraph(content=[Run(text="A postscript.")])]
    updated = target.update(remote, Ghost.render(edited, RenderContext(target="blog")))
    after = stored(ghost_server, remote.id)
    assert updated.id == remote.id
    assert after["title"] == edited.title
    assert "A postscript." in after["html"]
    assert after["slug"] == before["slug"] and after["url"] == before["url"]
    # Ghost keeps whole seconds, so a quick edit may not move `updated_at`: compare to Ghost.
    assert updated.extra["updated_at"] == after["updated_at"]


@pytest.mark.ghost
def test_update_after_an_edit_collision_rereads_and_succeeds(
    ghost_server: GhostServer, proxy: ReverseProxy
) -> None:
    essay = sample_essay(unique(), image=None)
    remote = publish(ghost_server, essay)
    collision = {
        "errors": [
            {
                "message": "Saving failed! Someone else is editing this post.",
                "type": "UpdateCollisionError",
            }
        ]
    }
    proxy.inject("status", method="PUT", path=r"/posts/", status=409, body=collision)
    edited = essay.model_copy(update={"title": f"{essay.title} again"})
    target = connector(ghost_server, proxy.base_url)
    target.update(remote, Ghost.render(edited, RenderContext(target="blog")))
    assert stored(ghost_server, remote.id)["title"] == edited.title
    assert [r.method for r in proxy.requests_seen] == ["GET", "PUT", "GET", "PUT"]

    proxy.inject("status", method="PUT", path=r"/posts/", status=409, body=collision, times=2)
    with pytest.raises(Rejected) as caught:
        target.update(remote, Ghost.render(essay, RenderContext(target="blog")))
    assert "Someone else is editing this post" in str(caught.value)


@pytest.mark.ghost
def test_feature_image_is_uploaded_from_the_essays_first_image(
    ghost_server: GhostServer, images: ImageHost
) -> None:
    remote = publish(ghost_server, sample_essay(unique(), image=f"{images.base_url}/green.png"))
    feature = stored(ghost_server, remote.id)["feature_image"]
    assert feature.startswith(f"{ghost_server.base_url}/content/images/")
    assert requests.get(feature, timeout=30).content == ImageHost.picture


@pytest.mark.ghost
def test_missing_image_does_not_hold_back_the_post(
    ghost_server: GhostServer, images: ImageHost
) -> None:
    remote = publish(ghost_server, sample_essay(unique(), image=f"{images.base_url}/gone.png"))
    post = stored(ghost_server, remote.id)
    assert post["status"] == "published"
    assert post["feature_image"] is None


@pytest.mark.ghost
def test_newsletter_option_sends_ghost_the_newsletter_and_segment(
    ghost_server: GhostServer, proxy: ReverseProxy
) -> None:
    # Stop the call at the proxy: the test Ghost has no mail service to send with.
    proxy.inject("status", method="POST", path=r"/posts/$", status=503, body={})
    with pytest.raises(Transient):
        publish(
            ghost_server,
            sample_essay(unique(), image=None),
            proxy.base_url,
            newsletter="weekly",
            email_segment="status:-free",
        )
    sent = proxy.requests_seen[-1]
    assert sent.query == {
        "source": ["html"],
        "newsletter": ["weekly"],
        "email_segment": ["status:-free"],
    }


@pytest.mark.ghost
def test_delete_removes_the_post_and_find_no_longer_sees_it(ghost_server: GhostServer) -> None:
    essay = sample_essay(unique(), image=None)
    target = connector(ghost_server)
    draft = Ghost.render(essay, RenderContext(target="blog"))
    key = Ghost.new_key()
    remote = target.publish(draft, key)
    assert target.find(key, draft) is not None
    target.delete(remote)
    assert target.find(key, draft) is None


@pytest.mark.ghost
def test_find_ignores_another_post_that_owns_the_slug(ghost_server: GhostServer) -> None:
    marker = unique()
    publish(ghost_server, sample_essay(marker, image=None))
    other = sample_essay(marker, image=None).model_copy(update={"title": "A different essay"})
    other.slug = sample_essay(marker).effective_slug()
    draft = Ghost.render(other, RenderContext(target="blog"))
    assert connector(ghost_server).find(Ghost.new_key(), draft) is None


@pytest.mark.ghost
def test_verify_names_the_site(ghost_server: GhostServer) -> None:
    assert connector(ghost_server).verify() == "Crosspost Test Ghost"


# ---------------------------------------------------------------- error answers


@pytest.mark.ghost
def test_wrong_secret_is_auth_expired_with_ghosts_words(ghost_server: GhostServer) -> None:
    bad_key = wrong_secret(ghost_server.admin_key)
    with pytest.raises(AuthExpired) as caught:
        publish_with(connector(ghost_server, key=bad_key))
    assert caught.value.status == 401
    assert caught.value.platform_message and "token" in caught.value.platform_message.lower()
    assert bad_key.split(":")[1] not in str(caught.value)


@pytest.mark.ghost
def test_validation_error_is_rejected_with_ghosts_words(ghost_server: GhostServer) -> None:
    essay = sample_essay(unique(), image=None)
    essay.title = "T" * 300  # Ghost's title column holds 255 characters
    with pytest.raises(Rejected) as caught:
        publish(ghost_server, essay)
    assert caught.value.status == 422
    assert caught.value.platform_message and "title" in caught.value.platform_message.lower()


def publish_with(target: Ghost) -> Remote:
    draft = Ghost.render(sample_essay(unique(), image=None), RenderContext(target="blog"))
    return target.publish(draft, Ghost.new_key())


@pytest.mark.ghost
@pytest.mark.parametrize(
    ("status", "error", "headers", "expected"),
    [
        (
            401,
            {"type": "UnauthorizedError", "code": "INVALID_JWT", "message": "Invalid token"},
            {},
            AuthExpired,
        ),
        (
            403,
            {"type": "NoPermissionError", "message": "You do not have permission"},
            {},
            AuthExpired,
        ),
        (
            422,
            {"type": "ValidationError", "message": "Validation error, cannot save post."},
            {},
            Rejected,
        ),
        (
            429,
            {"type": "TooManyRequestsError", "message": "Too many attempts."},
            {"Retry-After": "30"},
            RateLimited,
        ),
        (
            500,
            {"type": "InternalServerError", "message": "An unexpected error occurred"},
            {},
            Transient,
        ),
        (504, {"type": "GatewayTimeout", "message": "upstream timed out"}, {}, InDoubt),
    ],
)
def test_error_answers_map_to_the_error_family(
    ghost_server: GhostServer,
    proxy: ReverseProxy,
    status: int,
    error: dict[str, str],
    headers: dict[str, str],
    expected: type[Exception],
) -> None:
    proxy.inject(
        "status",
        method="POST",
        path=r"/posts/$",
        status=status,
        body={"errors": [error]},
        headers=headers,
    )
    with pytest.raises(expected) as caught:
        publish_with(connector(ghost_server, proxy.base_url))
    assert error["message"] in str(caught.value)
    if expected is RateLimited:
        assert caught.value.retry_after == 30
