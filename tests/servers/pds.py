"""A real Bluesky PDS (with its PLC directory) on loopback, for the Bluesky connector's tests.

Why real software: the lexicon's own validation (300 graphemes, facet shapes, TID rkeys,
duplicate rkeys) is the contract we must meet, and an emulator could only guess at it.

How: `@atproto/dev-env` (pinned) is installed from npm under Node 22 into the shared test
cache (cold ≈ 95 s, it compiles better-sqlite3; warm: nothing to do), then
`bluesky-pds.mjs` runs `TestNetworkNoAppView` (PLC + PDS, sqlite, disk blobs) on two free
127.0.0.1 ports in its own process group and its own TMPDIR (the PDS writes to
`os.tmpdir()`). It prints `{"ready":true,...}` once healthy. `stop()` kills the group.

Gotchas kept from the recipe: `npm_config_nodedir` must point at Node 22's headers (the
machine's ~/.npmrc points at Node 20, and the module then builds but fails to load);
handles must end in `.test`; no invite code is needed.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import requests

from tests.servers.cache import CACHE, node22_env

DEV_ENV_VERSION = "0.6.7"
INSTALL_DIR = CACHE / "atproto"
SCRIPT = Path(__file__).with_name("bluesky-pds.mjs")
# @atproto/dev-env (dist/const.js) signs session JWTs (HS256) with this test-only secret, which
# lets a test mint a truly expired access token, the case a real client meets after 2 hours.
DEV_ENV_JWT_SECRET = "jwt-secret"
READY_TIMEOUT = 120.0
INSTALL_TIMEOUT = 900.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def install() -> float:
    """Install @atproto/dev-env into the cache unless already there; return seconds spent."""
    started = time.monotonic()
    stamp = INSTALL_DIR / f".installed-dev-env-{DEV_ENV_VERSION}"
    INSTALL_DIR.mkdir(parents=True, exist_ok=True)
    with open(INSTALL_DIR.parent / "atproto.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two pytest processes must not npm-install at once
        if stamp.exists():
            return time.monotonic() - started
        env = node22_env()
        npm = shutil.which("npm", path=env["PATH"])
        if npm is None:
            raise RuntimeError("npm is not installed; it is needed to install the test PDS")
        if not (INSTALL_DIR / "package.json").exists():
            subprocess.run(
                [npm, "init", "-y"], cwd=INSTALL_DIR, env=env, check=True, capture_output=True
            )
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", f"@atproto/dev-env@{DEV_ENV_VERSION}"],
            cwd=INSTALL_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
        )
        if done.returncode != 0:
            raise RuntimeError(f"npm install @atproto/dev-env failed:\n{done.stderr[-4000:]}")
        stamp.write_text(DEV_ENV_VERSION)
    return time.monotonic() - started


class PdsServer:
    """One running PLC + PDS pair; `new_account()` makes a fresh user with an app password."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.plc_url = ""
        self.install_seconds = 0.0
        self.start_seconds = 0.0
        self.tmpdir = Path(tempfile.mkdtemp(prefix="crosspost-pds-"))
        self.log_path = self.tmpdir / "pds.log"

    def start(self) -> PdsServer:
        self.install_seconds = install()
        began = time.monotonic()
        script = INSTALL_DIR / SCRIPT.name  # ESM resolves imports next to the script
        staged = script.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(SCRIPT, staged)
        os.replace(staged, script)  # atomic: another session may be starting from it
        env = node22_env()
        pds_port, plc_port = free_port(), free_port()
        while plc_port == pds_port:
            plc_port = free_port()
        (self.tmpdir / "tmp").mkdir()
        env.update(
            TMPDIR=str(self.tmpdir / "tmp"),
            PDS_PORT=str(pds_port),
            PLC_PORT=str(plc_port),
            NODE_ENV="test",
        )
        log = open(self.log_path, "w")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(
            [str(Path(env["PATH"].split(":")[0]) / "node"), str(script)],
            cwd=INSTALL_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,  # setsid: one group to kill
        )
        ready = self._wait_ready(log)
        self.base_url = ready["pds"].replace("localhost", "127.0.0.1")
        self.plc_url = ready["plc"].replace("localhost", "127.0.0.1")
        self.start_seconds = time.monotonic() - began
        return self

    def _wait_ready(self, log: object) -> dict[str, str]:
        assert self.process is not None and self.process.stdout is not None
        found: dict[str, dict[str, str]] = {}
        event = threading.Event()

        def drain() -> None:  # keep reading so the server never blocks on a full pipe
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                if not found and line.startswith("{") and '"ready"' in line:
                    with contextlib.suppress(ValueError):
                        found["ready"] = json.loads(line)
                        event.set()
                        continue
                log.write(line)  # type: ignore[attr-defined]
                log.flush()  # type: ignore[attr-defined]
            event.set()

        threading.Thread(target=drain, daemon=True).start()
        event.wait(READY_TIMEOUT)
        if "ready" not in found:
            self.stop()
            tail = (
                self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""
            )
            raise RuntimeError(f"the test PDS did not become ready; its log ends:\n{tail}")
        return found["ready"]

    def xrpc(self, method: str) -> str:
        return f"{self.base_url}/xrpc/{method}"

    def new_account(self) -> tuple[str, str, str, str]:
        """A fresh account: (handle, did, app_password, password)."""
        handle = f"u{uuid.uuid4().hex[:10]}.test"
        password = f"pw-{uuid.uuid4().hex}"
        made = requests.post(
            self.xrpc("com.atproto.server.createAccount"),
            json={"handle": handle, "email": f"{handle}@example.com", "password": password},
            timeout=30,
        )
        made.raise_for_status()
        body = made.json()
        app = requests.post(
            self.xrpc("com.atproto.server.createAppPassword"),
            headers={"Authorization": f"Bearer {body['accessJwt']}"},
            json={"name": "crosspost-tests"},
            timeout=30,
        )
        app.raise_for_status()
        return body["handle"], body["did"], app.json()["password"], password

    @staticmethod
    def expired_copy(access_jwt: str, seconds_ago: int = 60) -> str:
        """The same access token, re-signed by the test PDS's key, expired `seconds_ago`."""
        header = jwt.get_unverified_header(access_jwt)
        claims = jwt.decode(access_jwt, options={"verify_signature": False})
        now = int(time.time())
        claims.update(iat=now - 7200 - seconds_ago, exp=now - seconds_ago)
        with warnings.catch_warnings():  # the dev secret is short on purpose; it guards nothing
            warnings.simplefilter("ignore")
            return jwt.encode(claims, DEV_ENV_JWT_SECRET, algorithm=header["alg"], headers=header)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self.tmpdir, ignore_errors=True)


_shared: PdsServer | None = None
_shared_lock = threading.Lock()


def shared_pds() -> PdsServer:
    """The one PDS of this test process (the fixture and the contract harness share it)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.process is None:
            server = PdsServer().start()
            atexit.register(server.stop)
            print(
                f"[pds] install {server.install_seconds:.1f}s, start {server.start_seconds:.1f}s",
                file=sys.stderr,
            )
            _shared = server
        return _shared


@pytest.fixture(scope="session")
def pds_server() -> Iterator[PdsServer]:
    """A running PDS for the whole test session, stopped (process group killed) at the end."""
    server = shared_pds()
    yield server
    server.stop()
