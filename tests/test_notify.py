"""A publication that needs a person tells the operator: by e-mail and by webhook.

The engine publishes to a Mastodon account whose instance (a loopback server) refuses the
token and, like a careless server, repeats the token in its error. A tiny SMTP server and a
webhook receiver on 127.0.0.1 catch what the operator would read.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import socket
import socketserver
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.publishing.pipeline import Pipeline
from pipeline.readers import read_bytes
from pipeline.settings import NotifySettings, Settings, TargetSettings
from pipeline.store import State
from tests.emulators.base import Emulator, Request, Response

TOKEN = "mastodon-token-3f9e1d77c0"
SMTP_PASSWORD = "smtp-password-b81c55e2"
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "home-base.md"

Server = Callable[[Callable[[Request], Response]], Emulator]


class SMTPSink(socketserver.ThreadingTCPServer):
    """Enough SMTP for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT; keeps each message."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SMTPSession)
        self.messages: list[email.message.EmailMessage] = []
        self.logins: list[str] = []

    @property
    def port(self) -> int:
        return self.server_address[1]


class SMTPSession(socketserver.StreamRequestHandler):
    server: SMTPSink

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 localhost test SMTP")
        while line := self.rfile.readline():
            verb, _, argument = line.decode("utf-8", "replace").strip().partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                self.wfile.write(b"250-localhost\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")
            elif verb == "AUTH":
                _mechanism, _, initial = argument.partition(" ")
                self.server.logins.append(base64.b64decode(initial).decode())
                self.reply("235 2.7.0 accepted")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                raw = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    raw += chunk[1:] if chunk.startswith(b"..") else chunk
                self.server.messages.append(
                    email.message_from_bytes(raw, policy=email.policy.default)
                )
                self.reply("250 2.0.0 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


@pytest.fixture
def smtp() -> Iterator[SMTPSink]:
    import threading

    sink = SMTPSink()
    thread = threading.Thread(target=sink.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield sink
    sink.shutdown()
    sink.server_close()


def refusing_instance(req: Request) -> Response:
    """A Mastodon instance that refuses the token and echoes it back in its error."""
    token = (req.header("Authorization") or "").removeprefix("Bearer ")
    return Response(401, {"error": f"The access token {token} is invalid"})


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fail_one_publication(tmp_path: Path, instance: str, notify: NotifySettings) -> Pipeline:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'crosspost.db'}",
        targets={
            "toot": TargetSettings(
                platform="mastodon", base_url=instance, credentials={"access_token": TOKEN}
            )
        },
        notify=notify,
    )
    engine = Pipeline(tmp_path, settings)
    data = EXAMPLE.read_bytes()
    intake = engine.add_essay(read_bytes(EXAMPLE, data), EXAMPLE.name, data)
    assert engine.publish(intake.publications[0]) is State.FAILED
    return engine


def test_failed_publication_is_mailed_with_reason_and_next_step_and_no_secret(
    tmp_path: Path, smtp: SMTPSink, local_server: Server
) -> None:
    instance = local_server(refusing_instance)
    notify = NotifySettings(
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_user="writer",
        smtp_password=SMTP_PASSWORD,
        mail_from="crosspost@example.org",
        mail_to=["writer@example.org", "editor@example.org"],
    )
    engine = fail_one_publication(tmp_path, instance.base_url, notify)
    engine.close()
    assert any(TOKEN in (r.header("Authorization") or "") for r in instance.requests_seen)

    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["Subject"] == "[crosspost] publication 1 to toot failed"
    assert message["From"] == "crosspost@example.org"
    assert message["To"] == "writer@example.org, editor@example.org"
    body = message.get_content()
    assert "access token was refused" in body  # the reason
    assert "next step: renew the account's credentials" in body
    assert "crosspost retry" in body
    everything = message.as_string()
    assert TOKEN not in everything and SMTP_PASSWORD not in everything
    assert "[redacted]" in body  # the instance's echo of the token, scrubbed
    assert smtp.logins == [f"\0writer\0{SMTP_PASSWORD}"]  # the password went to login only


def test_failed_publication_is_posted_to_the_webhook(tmp_path: Path, local_server: Server) -> None:
    received: list[dict[str, Any]] = []

    def webhook(req: Request) -> Response:
        received.append(req.json())
        return Response(204)

    hook = local_server(webhook)
    instance = local_server(refusing_instance)
    notify = NotifySettings(webhook_url=f"{hook.base_url}/hooks/crosspost")
    fail_one_publication(tmp_path, instance.base_url, notify).close()

    assert len(received) == 1
    payload = received[0]
    assert payload["subject"] == "publication 1 to toot failed"
    assert (payload["publication"], payload["target"], payload["state"]) == (1, "toot", "failed")
    assert "access token was refused" in payload["text"]
    assert "next step:" in payload["text"]
    assert TOKEN not in json.dumps(payload)
    assert hook.requests_seen[0].path == "/hooks/crosspost"


def test_a_broken_mail_server_or_webhook_never_stops_publishing(
    tmp_path: Path, local_server: Server
) -> None:
    hook = local_server(lambda req: Response(500, {"error": "down"}))
    instance = local_server(refusing_instance)
    notify = NotifySettings(
        webhook_url=hook.base_url,
        smtp_host="127.0.0.1",
        smtp_port=closed_port(),
        mail_to=["writer@example.org"],
    )
    engine = fail_one_publication(tmp_path, instance.base_url, notify)
    try:
        row = engine.store.publication(1)
        assert row.state == "failed" and "access token was refused" in row.last_error
        assert len(hook.requests_seen) == 1  # tried once, not in a loop
    finally:
        engine.close()
