"""Know before it breaks: credential lifetimes, refresh in time, warnings ahead, holds.

Every test drives the real program (CLI processes) or a real connector over HTTP against an
emulator that enforces the platform's 2026 rules: token expiry and rotating refresh, X's
402 when the credit budget runs out, Threads' five-link cap, LinkedIn's version window.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import update

from connectors.base import Account, RenderContext
from connectors.linkedin import LinkedIn, version_for
from connectors.threads import Threads
from connectors.x import X
from pipeline.document import Essay, Paragraph, Run
from pipeline.publishing.pipeline import Pipeline
from pipeline.readers import read_bytes
from pipeline.render.lengths import RULES, find_urls
from pipeline.settings import load_settings
from pipeline.store import PublicationRow, State, Store
from tests.daemon_helpers import (
    EXAMPLE,
    crosspost,
    make_home,
    start_daemon,
    start_worker,
    stop_daemon,
    stop_worker,
    wait_for,
)
from tests.emulators.base import Request, Response
from tests.emulators.linkedin import LinkedInEmulator
from tests.emulators.threads import ThreadsEmulator
from tests.emulators.x import XEmulator
from tests.pg import throwaway_database

DAY = 86400.0


@pytest.fixture
def webhook(local_server: Any) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    def answer(req: Request) -> Response:
        received.append(req.json())
        return Response(204)

    yield local_server(answer), received


def essay_files(count: int, title: str = "Own Your Archive") -> list[tuple[str, bytes]]:
    text = EXAMPLE.read_text(encoding="utf-8")
    return [
        (
            f"e{i}.md",
            text.replace(title, f"{title} {i}")
            .replace("own-your-archive", f"own-your-archive-{i}")
            .encode(),
        )
        for i in range(count)
    ]


def account_on(
    emulator: Any, platform: str, options: dict[str, Any] | None = None, **credentials: str
) -> Account:
    """A configured account of `platform` pointing at a loopback emulator."""
    return Account(
        name=platform if platform != "linkedin" else "li",
        platform=platform,
        options=options or {},
        credentials={k: SecretStr(v) for k, v in credentials.items()},
        base_url=emulator.base_url,
    )


# ---------------------------------------------------------------- LinkedIn: warn ahead


def test_a_linkedin_token_six_days_from_expiry_warns_once_and_shows_in_check_and_status(
    tmp_path: Path, webhook: tuple[Any, list[dict[str, Any]]]
) -> None:
    hook, received = webhook
    platform = LinkedInEmulator()
    platform.add_member("li-token-6-days", lifetime=6 * DAY + 3600)
    expires = (datetime.now(UTC) + timedelta(days=6, hours=1)).isoformat()
    with platform:
        home = make_home(
            tmp_path,
            f"""
            timezone = "UTC"
            settle_seconds = 0.2
            inbox_poll_seconds = 0.2
            [notify]
            webhook_url = "{hook.base_url}/hook"
            [targets.li]
            platform = "linkedin"
            base_url = "{platform.base_url}"
            credentials = {{ access_token = "li-token-6-days" }}
            options = {{ token_expires_at = "{expires}" }}
            slots = ["03:00"]
            """,
        )
        for start in range(2):  # a restart must not warn a second time
            daemon = start_daemon(home)
            try:
                assert wait_for(lambda: "daemon started" in _log(home), timeout=60)
                wait_for(lambda: len(received) >= 1, timeout=10)
            finally:
                stop_daemon(daemon)
            assert len(received) == 1, f"after start {start + 1}: {received}"
        warning = received[0]
        assert "li" in warning["subject"] and "7 days" in warning["subject"]
        assert "expires in 6 days" in warning["text"]
        assert "CROSSPOST_TARGETS__LI__CREDENTIALS__ACCESS_TOKEN" in warning["text"]

        check = crosspost(home, "accounts", "check")
        assert check.returncode == 0, check.stdout + check.stderr
        assert "expires in 6 days" in check.stdout
        as_json = json.loads(crosspost(home, "accounts", "check", "--json").stdout)
        assert as_json[0]["health"]["state"] == "expiring"

        # an essay due in a slot: its publication carries the account's state in status
        (soon, soon_data), (late, late_data) = essay_files(2)
        later = (datetime.now(UTC) + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
        late_data = late_data.replace(b"---\n", f"---\npublish_at: {later}\n".encode(), 1)
        (home / "inbox" / soon).write_bytes(soon_data)
        (home / "inbox" / late).write_bytes(late_data)
        assert crosspost(home, "run", "--once").returncode in (0, 1)
        rows = json.loads(crosspost(home, "status", "--json").stdout)
        li_rows = {r["essay"].split(":")[0]: r for r in rows if r["target"] == "li"}
        in_a_slot, after_expiry = li_rows["Own Your Archive 0"], li_rows["Own Your Archive 1"]
        assert in_a_slot["state"] == after_expiry["state"] == "scheduled"
        assert "expires in 6 days" in in_a_slot["account"]["detail"]
        assert in_a_slot["account"]["expires_before_due"] is False
        assert after_expiry["account"]["expires_before_due"] is True
        shown = crosspost(home, "status").stdout
        assert "[account: expires in 6 days" in shown
        assert "li-token-6-days" not in json.dumps(rows) + check.stdout + shown


def _log(home: Path) -> str:
    path = home / "logs" / "crosspost.jsonl"
    return path.read_text(encoding="utf-8") if path.exists() else ""


# ---------------------------------------------------------------- Threads: refresh once


@pytest.mark.postgres
def test_two_workers_refresh_a_threads_token_once_and_both_use_the_new_one(
    tmp_path: Path,
) -> None:
    platform = ThreadsEmulator()
    # a long-lived token issued 55 days ago: 5 days left, a quarter of its life is gone
    platform.add_user("threads-old-token", lifetime=5 * DAY, age=55 * DAY)
    seen: list[str] = []
    original = platform.handle

    def recording(req: Request) -> Response:
        if req.method == "POST":
            seen.append((req.form().get("access_token") or [""])[0])
        return original(req)

    platform.handle = recording  # type: ignore[method-assign]
    expires = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    with platform, throwaway_database("crosspost_refresh") as pg_url:
        home = make_home(
            tmp_path,
            f"""
            timezone = "UTC"
            database_url = "{pg_url}"
            [targets.threads]
            platform = "threads"
            base_url = "{platform.base_url}"
            credentials = {{ access_token = "threads-old-token" }}
            options = {{ token_expires_at = "{expires}" }}
            """,
        )
        later = datetime.now(UTC) + timedelta(hours=1)  # planned ahead, released once both run
        engine = Pipeline(home, load_settings(home), clock=lambda: later)
        for name, data in essay_files(24):
            engine.add_essay(read_bytes(Path(name), data), name, data)
        engine.close()

        workers = [start_worker(home, n) for n in range(2)]
        store = Store(pg_url)
        try:
            assert wait_for(
                lambda: all(
                    "worker started" in (home / f"worker-{n}.out").read_text() for n in (0, 1)
                ),
                timeout=60,
            )
            with store.session() as session, session.begin():
                session.execute(update(PublicationRow).values(due_at=datetime.now(UTC)))
            assert wait_for(
                lambda: {r.state for r in store.publications()} == {State.PUBLISHED.value},
                timeout=120,
                every=0.2,
            ), [(r.state, r.last_error) for r in store.publications()]
        finally:
            for worker in workers:
                stop_worker(worker)
            outputs = [(home / f"worker-{n}.out").read_text() for n in (0, 1)]
            store.close()
        check = crosspost(home, "accounts", "check")

    assert platform.refreshes == 1
    assert len(platform.published()) == 24  # each once
    assert all('"worker started"' in out or "worker started" in out for out in outputs)
    new_tokens = set(seen) - {"threads-old-token"}
    assert len(new_tokens) == 1 and not any(token == "threads-old-token" for token in seen)
    stored = (home / "accounts" / "credentials.json").stat().st_mode & 0o777
    assert stored == 0o600
    (new_token,) = new_tokens
    written = [
        p.read_bytes().decode("utf-8", "replace")
        for p in home.rglob("*")
        if p.is_file() and p.name != "credentials.json"
    ]
    assert not any(new_token in text for text in written)  # only its own owner-only file
    assert "crosspost refreshes it" in check.stdout
    assert "threads-old-token" not in check.stdout + "".join(outputs)


# ---------------------------------------------------------------- X: credits run out


def test_x_credits_running_out_hold_the_backlog_and_resume_posts_each_once(
    tmp_path: Path, webhook: tuple[Any, list[dict[str, Any]]]
) -> None:
    hook, received = webhook
    platform = XEmulator()
    user = platform.add_user("writer")
    platform.add_bearer("x-user-token", user)
    platform.set_credits(user, 0.45)  # two posts with a link, then the money is gone
    with platform:
        home = make_home(
            tmp_path,
            f"""
            timezone = "UTC"
            [notify]
            webhook_url = "{hook.base_url}/hook"
            [targets.x]
            platform = "x"
            base_url = "{platform.base_url}"
            credentials = {{ bearer_token = "x-user-token" }}
            """,
        )
        for name, data in essay_files(5):
            (home / "inbox" / name).write_bytes(data)
        first = crosspost(home, "run", "--once")
        rows = json.loads(crosspost(home, "status", "--json").stdout)
        states = sorted(r["state"] for r in rows)
        assert states == ["published"] * 2 + ["scheduled"] * 3, first.stdout + first.stderr
        held = [r for r in rows if r["state"] == "scheduled"]
        assert all("X API credits exhausted" in r["last_error"] for r in held)
        assert all("crosspost resume x" in r["last_error"] for r in held)
        assert all(r["attempts"] == 0 for r in held)  # held, not failed, not spent
        assert platform.refused_for_credits == 1  # the others never went out
        assert len(received) == 1 and "credits exhausted" in received[0]["subject"]

        check = crosspost(home, "accounts", "check")
        assert "held: x (x): X API credits exhausted" in check.stdout
        assert check.returncode == 1

        platform.set_credits(user, 10.0)
        resumed = crosspost(home, "resume", "x")
        assert resumed.returncode == 0, resumed.stderr
        assert "3 held publications due now" in resumed.stdout
        crosspost(home, "run", "--once")
        rows = json.loads(crosspost(home, "status", "--json").stdout)
        assert {r["state"] for r in rows} == {"published"}
    texts = [t["source_text"] for t in platform.published()]
    assert len(texts) == 5 and len(set(texts)) == 5  # every essay once, none twice
    assert len(received) == 1


def test_resume_names_an_unknown_target_plainly(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    result = crosspost(home, "resume", "nosuch")
    assert result.returncode == 2
    assert "no target 'nosuch'" in result.stderr
    assert "Error" not in result.stderr


# ---------------------------------------------------------------- X: costs and link reply


def test_preview_shows_what_each_x_publication_costs_and_a_link_reply_as_two_posts(
    tmp_path: Path,
) -> None:
    home = make_home(
        tmp_path,
        """
        timezone = "UTC"
        [targets.x]
        platform = "x"
        [targets.x_reply]
        platform = "x"
        options = { link = "reply" }
        """,
    )
    result = crosspost(home, "preview", str(EXAMPLE), "--json", "--link", "https://blog.example/a")
    assert result.returncode == 0, result.stderr
    targets = json.loads(result.stdout)["targets"]
    plain, reply = targets["x"], targets["x_reply"]
    assert len(plain["posts"]) == 1 and plain["cost_usd"] == pytest.approx(0.20)
    assert len(reply["posts"]) == 2
    first, second = (p["request"]["text"] for p in reply["posts"])
    assert not find_urls(first) and "https://blog.example/a" in second
    assert reply["cost_usd"] == pytest.approx(0.215)
    assert all(p["length"] <= p["limit"] for p in reply["posts"])
    table = crosspost(home, "preview", str(EXAMPLE), "--link", "https://blog.example/a")
    assert "estimated cost: $0.215" in table.stdout
    planned = crosspost(home, "plan", str(EXAMPLE))
    assert "cost: x about $0.200" in planned.stdout
    assert "cost: x_reply about $0.215" in planned.stdout


def test_a_link_reply_is_posted_under_the_announcement_on_the_wire() -> None:
    platform = XEmulator()
    user = platform.add_user("writer")
    platform.add_bearer("x-user-token", user)
    essay = Essay(title="Trains at night", blocks=[Paragraph(content=[Run(text="A long ride.")])])
    with platform:
        account = account_on(platform, "x", {"link": "reply"}, bearer_token="x-user-token")
        ctx = RenderContext(target="x", options=account.options, link="https://blog.example/t")
        X(account).publish(X.render(essay, ctx), "key-1")
    first, second = platform.published()
    assert "https://" not in first["source_text"]
    assert second["in_reply_to"] == first["id"]
    assert "https://blog.example/t" in second["source_text"]


# ---------------------------------------------------------------- Threads: five links


def test_a_threads_thread_from_an_essay_with_twelve_links_keeps_five_links_per_post() -> None:
    sentences = [
        f"Source number {i} is at https://example.org/source-{i} and it matters." for i in range(12)
    ]
    essay = Essay(
        title="Twelve sources",
        blocks=[Paragraph(content=[Run(text=" ".join(sentences))])],
    )
    platform = ThreadsEmulator()
    platform.add_user("threads-token")
    with platform:
        account = account_on(platform, "threads", {"mode": "thread"}, access_token="threads-token")
        ctx = RenderContext(
            target="threads", options=account.options, link="https://blog.example/twelve"
        )
        draft = Threads.render(essay, ctx)
        Threads(account).publish(draft, "key-12")
    posts = platform.published()
    assert len(posts) == len(draft.posts) >= 3
    for post in posts:
        links = {post["text"][a:b] for a, b in find_urls(post["text"])}
        if post.get("link_attachment"):
            links.add(post["link_attachment"])
        assert len(links) <= 5, post["text"]
    joined = " ".join(p["text"] for p in posts)
    assert all(f"https://example.org/source-{i}" in joined for i in range(12))
    assert RULES["threads"].max_links == 5


# ---------------------------------------------------------------- LinkedIn: versions


def test_linkedin_version_follows_the_calendar_for_a_clock_a_year_ahead() -> None:
    ahead = datetime.now(UTC) + timedelta(days=365)
    platform = LinkedInEmulator()
    platform.clock = lambda: ahead.timestamp()
    platform.add_member("li-token")
    essay = Essay(title="A year on", blocks=[Paragraph(content=[Run(text="Still here.")])])
    with platform:
        account = account_on(platform, "linkedin", access_token="li-token")
        connector = LinkedIn(account)
        connector.clock = lambda: ahead
        connector.publish(LinkedIn.render(essay, RenderContext(target="li")), "k")
        sent = [
            r.header("LinkedIn-Version") for r in platform.requests_seen if r.path == "/rest/posts"
        ]
    assert sent == [version_for(ahead)]
    assert version_for(ahead) != version_for(datetime.now(UTC))
    assert len(platform.published()) == 1


@pytest.mark.parametrize(
    ("today", "version"),
    [
        (datetime(2026, 12, 2, tzinfo=UTC), "202610"),
        (datetime(2027, 1, 31, tzinfo=UTC), "202611"),
        (datetime(2027, 2, 1, tzinfo=UTC), "202612"),
    ],
)
def test_linkedin_version_is_two_months_back(today: datetime, version: str) -> None:
    assert version_for(today) == version


def test_a_pinned_linkedin_version_past_its_sunset_names_the_version_and_the_fix() -> None:
    platform = LinkedInEmulator()
    platform.add_member("li-token")
    essay = Essay(title="Old", blocks=[Paragraph(content=[Run(text="Text.")])])
    with platform:
        account = account_on(platform, "linkedin", {"version": "202401"}, access_token="li-token")
        with pytest.raises(Exception) as caught:
            LinkedIn(account).publish(LinkedIn.render(essay, RenderContext(target="li")), "k")
    error = caught.value
    assert "no longer serves API version 202401" in str(error)
    assert "remove targets.li.options.version" in error.next_step  # type: ignore[attr-defined]
    assert version_for(datetime.now(UTC)) in error.next_step  # type: ignore[attr-defined]


# ---------------------------------------------------------------- expired: held, then renewed


def test_an_expired_linkedin_token_holds_its_publications_until_a_new_token_and_resume(
    tmp_path: Path, webhook: tuple[Any, list[dict[str, Any]]]
) -> None:
    hook, received = webhook
    platform = LinkedInEmulator()
    platform.add_member("li-dead-token", lifetime=-60)
    platform.add_member("li-new-token")
    config = """
        timezone = "UTC"
        [notify]
        webhook_url = "{hook}/hook"
        [targets.li]
        platform = "linkedin"
        base_url = "{base}"
        credentials = {{ access_token = "{token}" }}
        {options}
        """
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    with platform:
        home = make_home(
            tmp_path,
            config.format(
                hook=hook.base_url,
                base=platform.base_url,
                token="li-dead-token",
                options=f'options = {{ token_expires_at = "{past}" }}',
            ),
        )
        name, data = essay_files(1)[0]
        (home / "inbox" / name).write_bytes(data)
        for _ in range(2):
            crosspost(home, "run", "--once")
        (row,) = json.loads(crosspost(home, "status", "--json").stdout)
        assert row["state"] == "scheduled" and row["attempts"] == 0
        assert row["last_error"].startswith("held: the linkedin credentials of li expired")
        assert "CROSSPOST_TARGETS__LI__CREDENTIALS__ACCESS_TOKEN" in row["last_error"]
        assert len(received) == 1 and "li is held" in received[0]["subject"]
        assert platform.published() == []  # nothing was sent with the dead token

        (home / "crosspost.toml").write_text(
            config.format(
                hook=hook.base_url, base=platform.base_url, token="li-new-token", options=""
            ),
            encoding="utf-8",
        )
        assert crosspost(home, "resume", "li").returncode == 0
        final = crosspost(home, "run", "--once")
        (row,) = json.loads(crosspost(home, "status", "--json").stdout)
    assert row["state"] == "published", (row, final.stdout[-2000:], final.stderr[-2000:])
    assert len(platform.published()) == 1
    assert len(received) == 1


# ---------------------------------------------------------------- X: OAuth 2.0 refresh


def test_an_x_oauth2_token_is_refreshed_before_it_dies_and_the_new_pair_is_kept(
    tmp_path: Path,
) -> None:
    from pipeline.accounts import AccountBook

    platform = XEmulator()
    user = platform.add_user("writer")
    platform.add_oauth2(user, "client-1", "x-access-1", "x-refresh-1", lifetime=600)
    soon = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    essay = Essay(title="Fresh", blocks=[Paragraph(content=[Run(text="Still fresh.")])])
    with platform:
        configured = {
            "bearer_token": SecretStr("x-access-1"),
            "refresh_token": SecretStr("x-refresh-1"),
            "client_id": SecretStr("client-1"),
        }
        book = AccountBook(tmp_path)
        account = Account(
            name="x",
            platform="x",
            options={"token_expires_at": soon},
            credentials=book.credentials("x", configured),
            configured=configured,
            base_url=platform.base_url,
        )
        connector = X(account)
        assert book.refresh_if_due(connector) is True
        assert book.refresh_if_due(connector) is False  # two hours ahead now: nothing to do
        platform.clock = lambda: datetime.now(UTC).timestamp() + 900  # the old token is dead
        connector.publish(X.render(essay, RenderContext(target="x")), "k")
        # a new process reads the refreshed pair from the home, not the spent one
        later = book.credentials("x", configured)
    assert platform.refreshes == 1
    assert len(platform.published()) == 1
    assert later["bearer_token"].get_secret_value() not in {"x-access-1"}
    assert later["refresh_token"].get_secret_value() != "x-refresh-1"
    saved = tmp_path / "accounts" / "credentials.json"
    assert saved.stat().st_mode & 0o777 == 0o600
    assert "x-refresh-1" not in saved.read_text()
    assert "x-access-1" not in (tmp_path / "accounts" / "lifetimes.json").read_text()
