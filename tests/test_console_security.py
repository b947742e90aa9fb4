"""The console's security, over real HTTP against a real `crosspost console` process.

No page or answer carries a configured secret (not even half of one); a form posted
without its CSRF token is refused; a password guards every page when one is set; a
non-loopback address without a password refuses to start; uploads are size-limited and
named safely; the headers forbid inline script and framing.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.console_helpers import Operator, csrf_of, free_port, start_console
from tests.daemon_helpers import (
    EXAMPLE,
    crosspost,
    make_home,
    secret_hits,
    status,
    stop_daemon,
)
from tests.emulators.mastodon import MastodonEmulator

TOKEN = "console-mastodon-token-7c1e95a2"
COOKIE = "session_id=console-patreon-cookie-4b8d0f36"
PASSWORD = "console-password-e3a91b7d52"
SECRETS = {"mastodon token": TOKEN, "patreon cookie": COOKIE, "console password": PASSWORD}
CONFIG = """
timezone = "Europe/Berlin"
[console]
password = "{password}"
upload_limit_bytes = 4096
[targets.site]
platform = "static_site"
[targets.toot]
platform = "mastodon"
base_url = "{mastodon}"
after = "site"
allow_private_links = true
credentials = {{ access_token = "{token}" }}
[targets.patrons]
platform = "patreon"
credentials = {{ session_cookie = "{cookie}" }}
"""


@dataclass
class Running:
    home: Path
    port: int
    mastodon: MastodonEmulator


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A home with one essay published (site, toot) and one waiting (patrons), and its
    console on loopback with a password."""
    mastodon = MastodonEmulator()
    mastodon.add_account(TOKEN, "walker")
    with mastodon:
        home = make_home(
            tmp_path_factory.mktemp("console-security"),
            CONFIG.format(
                password=PASSWORD, mastodon=mastodon.base_url, token=TOKEN, cookie=COOKIE
            ),
        )
        shutil.copy(EXAMPLE, home / "inbox")
        assert crosspost(home, "run", "--once").returncode == 4  # the Patreon post waits
        port = free_port()
        proc = start_console(home, port)
        try:
            yield Running(home, port, mastodon)
        finally:
            output = stop_daemon(proc)
            assert secret_hits(output, SECRETS) == []


def signed_in(console: Running) -> Operator:
    operator = Operator(console.port)
    page = operator.get("/login")
    said = operator.post("/login", {"csrf": csrf_of(page.text), "password": PASSWORD})
    assert said.status_code == 303 and said.headers["location"] == "/queue"
    return operator


def test_every_page_asks_for_the_password_first(console: Running) -> None:
    stranger = Operator(console.port)
    for path in ("/queue", "/publications/1", "/essays/1", "/calendar", "/logs", "/accounts"):
        answer = stranger.get(path, allow_redirects=False)
        assert (answer.status_code, answer.headers.get("location")) == (303, "/login"), path
    assert stranger.get("/logs/stream", allow_redirects=False).status_code == 303
    refused = stranger.post("/publications/1/retry", {"csrf": "0" * 64})
    assert refused.status_code == 403
    login = stranger.get("/login")
    wrong = stranger.post("/login", {"csrf": csrf_of(login.text), "password": "not-it"})
    assert wrong.headers["location"] == "/login"
    assert "wrong password" in stranger.get("/login").text
    assert stranger.get("/queue", allow_redirects=False).status_code == 303


def test_no_page_or_answer_holds_a_configured_secret(console: Running) -> None:
    operator = signed_in(console)
    checked = operator.submit("/accounts", "/accounts/check", {})
    assert checked.status_code == 303
    rows = status(console.home)
    paths = [
        "/queue",
        "/queue?state=awaiting-manual",
        "/calendar",
        "/calendar?view=month",
        "/logs?level=debug",
        "/accounts",
        "/drop",
        "/login",
        "/static/console.js",
        *(f"/publications/{row['id']}" for row in rows),
        *{f"/essays/{row['essay_id']}" for row in rows},
    ]
    seen: list[str] = []
    for path in paths:
        answer = operator.get(path)
        assert answer.status_code == 200, path
        seen += [answer.text, str(answer.headers)]
    assert "toot" in seen[paths.index("/accounts") * 2]  # the check ran and is shown
    with operator.http.get(operator.base + "/logs/stream", stream=True, timeout=10) as stream:
        seen.append(next(stream.iter_content(chunk_size=None)).decode())
    assert secret_hits("\n".join(seen), SECRETS) == []


def test_a_form_posted_without_its_csrf_token_is_refused(console: Running) -> None:
    operator = signed_in(console)
    [patrons] = [row for row in status(console.home) if row["target"] == "patrons"]
    step = f"/publications/{patrons['id']}/cancel"
    assert operator.post(step, {}).status_code == 403
    assert operator.post(step, {"csrf": "f" * 64}).status_code == 403
    other = signed_in(console)  # another session's token is no token here
    assert operator.post(step, {"csrf": csrf_of(other.get("/queue").text)}).status_code == 403
    assert [r["state"] for r in status(console.home) if r["target"] == "patrons"] == [
        "awaiting-manual"
    ]


def test_a_step_the_engine_refuses_says_what_the_cli_says(console: Running) -> None:
    operator = signed_in(console)
    [site] = [row for row in status(console.home) if row["target"] == "site"]
    page = f"/publications/{site['id']}"
    answer = operator.submit(page, f"{page}/retry", {"next": page})
    assert (answer.status_code, answer.headers["location"]) == (303, page)
    cli = crosspost(console.home, "retry", str(site["id"]))
    assert cli.returncode == 2
    said = cli.stderr.strip().removeprefix("error: ")
    assert said.startswith(f"publication {site['id']} is published; this works on")
    assert said in operator.get(page).text.replace("&#39;", "'")


def test_headers_forbid_inline_script_and_framing_and_the_cookie_is_strict(
    console: Running,
) -> None:
    answer = Operator(console.port).get("/login")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert answer.headers["x-frame-options"] == "DENY"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_a_request_for_another_host_name_is_refused(console: Running) -> None:
    """DNS rebinding: a page on attacker.example resolving to 127.0.0.1 gets nothing."""
    answer = requests.get(
        f"http://127.0.0.1:{console.port}/login",
        headers={"Host": "attacker.example"},
        timeout=10,
    )
    assert answer.status_code == 400


def test_an_upload_is_size_limited_and_gets_a_safe_name(console: Running) -> None:
    operator = signed_in(console)
    token = csrf_of(operator.get("/drop").text)
    inbox = console.home / "inbox"
    before = set(inbox.iterdir())
    too_big = operator.http.post(
        operator.base + "/drop",
        data={"csrf": token},
        files={"file": ("big.md", b"# Big\n\n" + b"x" * 5000)},
        allow_redirects=False,
        timeout=30,
    )
    assert too_big.status_code == 413
    assert set(inbox.iterdir()) == before
    without_token = operator.http.post(
        operator.base + "/drop",
        files={"file": ("a.md", b"# A\n\ntext\n")},
        allow_redirects=False,
        timeout=30,
    )
    assert without_token.status_code == 403
    dropped = operator.http.post(
        operator.base + "/drop",
        data={"csrf": token},
        files={"file": ("../../etc/.my essay?.md", b"# Small\n\nA small essay.\n")},
        allow_redirects=False,
        timeout=30,
    )
    assert dropped.status_code == 303
    assert sorted(p.name for p in set(inbox.iterdir()) - before) == ["my-essay.md"]
    assert (inbox / "my-essay.md").read_bytes() == b"# Small\n\nA small essay.\n"
    refused = operator.http.post(
        operator.base + "/drop",
        data={"csrf": token},
        files={"file": ("tool.exe", b"MZ")},
        timeout=30,
    )
    assert "not a file type the inbox reads" in refused.text
    assert sorted(p.name for p in set(inbox.iterdir()) - before) == ["my-essay.md"]


@pytest.mark.parametrize("command", ["console", "run"])
def test_a_non_loopback_address_without_a_password_refuses_to_start(
    tmp_path: Path, command: str
) -> None:
    home = make_home(tmp_path)
    port = free_port()
    args = ["console"] if command == "console" else ["run", "--console"]
    result = crosspost(home, *args, "--bind", "0.0.0.0", "--port", str(port), timeout=60)
    assert result.returncode == 2
    assert "without a password; set console.password" in result.stderr
    assert "Error" not in result.stderr and "Traceback" not in result.stderr
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/", timeout=2)
