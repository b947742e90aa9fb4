"""The console as the operator starts it: a real `crosspost console` (or `run --console`)
process on a free loopback port, and a browser-less client that reads forms as a browser
would (cookie jar, the form's CSRF token)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import requests

from tests.daemon_helpers import ROOT, env_for, stop_daemon, wait_for

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_console(
    home: Path, port: int, *args: str, command: str = "console"
) -> subprocess.Popen[str]:
    """`crosspost console --port PORT` (or `run --console`), answering when this returns."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "--home",
            str(home),
            *([command, "--console"] if command == "run" else [command]),
            "--port",
            str(port),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env_for(),
        cwd=ROOT,
        start_new_session=True,
    )
    if not wait_for(lambda: answers(port) or proc.poll() is not None, timeout=60, every=0.2):
        stop_daemon(proc)
        raise AssertionError("the console did not answer within 60 s")
    if proc.poll() is not None:
        raise AssertionError(f"the console stopped: {proc.communicate()[0]}")
    return proc


def answers(port: int) -> bool:
    try:
        requests.get(f"http://127.0.0.1:{port}/static/console.css", timeout=2)
    except requests.ConnectionError:
        return False
    return True


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


class Operator:
    """A browser without a browser: one session (cookie jar) against one console."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.http = requests.Session()

    def get(self, path: str, **kw: object) -> requests.Response:
        return self.http.get(self.base + path, timeout=30, **kw)

    def post(self, path: str, data: dict[str, str], **kw: object) -> requests.Response:
        return self.http.post(self.base + path, data=data, timeout=60, allow_redirects=False, **kw)

    def submit(
        self, page: str, action: str, data: dict[str, str], **kw: object
    ) -> requests.Response:
        """Post a form of `page` as the browser would: with the token the page carries."""
        token = csrf_of(self.get(page).text)
        return self.post(action, {"csrf": token, **data}, **kw)
