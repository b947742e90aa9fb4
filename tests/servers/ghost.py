"""A real Ghost 6 (npm, sqlite, development mode) on 127.0.0.1, for connector tests.

Install once into the cache (`npm pack ghost@6.65.0`, extract, `npm install` inside the
package: it has `file:` dependencies and needs `--legacy-peer-deps`; about 4 minutes cold,
it compiles better-sqlite3 and re2 against Node 22). Each test session then gets a fresh
content folder and sqlite database in a temp dir, an owner created over HTTP, and an
integration whose Admin API key (`id:secret`) the connector signs its JWTs with.

Development mode is what lets the session login skip the emailed verification code.
The server runs in its own process group, dies with the test process, and is killed with
its group at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.servers.cache import CACHE, node22_env

GHOST_VERSION = "6.65.0"
OWNER_EMAIL = "owner@example.com"
OWNER_PASSWORD = "Sup3r-secret-pass!"  # a throwaway owner of a throwaway loopback site
SITE_TITLE = "Crosspost Test Ghost"
BOOT_TIMEOUT = 180.0
NPM_PACK_TIMEOUT = 300.0
NPM_INSTALL_TIMEOUT = 3600.0  # about 4 minutes on an idle 2-core machine; far more under load


def ghost_home() -> Path:
    return CACHE / "ghost"


def app_dir() -> Path:
    return ghost_home() / f"ghost-{GHOST_VERSION}"


@contextlib.contextmanager
def _install_lock() -> Iterator[None]:
    """Two test processes installing at once would corrupt one node_modules."""
    ghost_home().mkdir(parents=True, exist_ok=True)
    with open(ghost_home() / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def install() -> Path:
    """The installed Ghost package, installing it into the cache when missing.

    The package is unpacked into a staging folder that survives a failed or interrupted
    install, so the next run's `npm install` finishes the job instead of starting over
    (the native builds of re2 and better-sqlite3 are most of the time). Only a complete
    install is moved to its final place.
    """
    target = app_dir()
    if (target / ".installed").exists():
        return target
    with _install_lock():
        if (target / ".installed").exists():
            return target
        env = node22_env()
        npm = shutil.which("npm", path=env["PATH"])
        if npm is None:
            raise RuntimeError("npm is not installed; it is needed to install Ghost for tests")
        for leftover in ghost_home().glob("install-*"):  # from runs killed mid-install
            shutil.rmtree(leftover, ignore_errors=True)
        staging = ghost_home() / f"staging-{GHOST_VERSION}"
        package = staging / "package"
        if not (package / "package.json").exists():
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            _run([npm, "pack", f"ghost@{GHOST_VERSION}"], staging, env, NPM_PACK_TIMEOUT)
            with tarfile.open(staging / f"ghost-{GHOST_VERSION}.tgz") as archive:
                archive.extractall(staging, filter="tar")
        command = [npm, "install", "--omit=dev", "--legacy-peer-deps", "--no-audit", "--no-fund"]
        try:
            _run(command, package, env, NPM_INSTALL_TIMEOUT)
        except subprocess.CalledProcessError:
            # The registry or a native build sometimes fails once; start clean and retry.
            shutil.rmtree(package / "node_modules", ignore_errors=True)
            _run(command, package, env, NPM_INSTALL_TIMEOUT)
        (package / ".installed").write_text(GHOST_VERSION)
        shutil.rmtree(target, ignore_errors=True)
        package.rename(target)
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> None:
    """Run an npm step in its own process group, so a timeout also stops its compilers."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    if process.returncode != 0:
        tail = output.decode("utf-8", "replace")[-2000:]
        raise subprocess.CalledProcessError(process.returncode, command, output=tail)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """Runs in the child: a crashed test run must not leave Ghost listening (Linux only)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class GhostServer:
    """A running Ghost: its URL, an Admin API key for it, and the id of its paid tier."""

    base_url: str
    admin_key: str
    content_key: str
    paid_tier_id: str | None
    process: subprocess.Popen[bytes]
    workdir: Path
    startup_seconds: float = 0.0
    _stopped: bool = field(default=False, repr=False)

    def stop(self) -> None:
        """Kill the server's process group and remove its content folder and database."""
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, chars: int = 3000) -> str:
        path = self.workdir / "ghost.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def start() -> GhostServer:
    """Install if needed, boot a fresh site, create its owner and an integration."""
    began = time.monotonic()
    app = install()
    env = node22_env()
    workdir = Path(tempfile.mkdtemp(prefix="crosspost-ghost-"))
    content = workdir / "content"
    shutil.copytree(app / "content", content, symlinks=True)
    (content / "data").mkdir(exist_ok=True)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env.update(
        {
            "NODE_ENV": "development",
            "url": base_url,
            "server__host": "127.0.0.1",
            "server__port": str(port),
            "database__client": "better-sqlite3",
            "database__connection__filename": str(content / "data" / "ghost-test.db"),
            "paths__contentPath": str(content),
            "logging__level": "warn",
            "logging__transports": '["stdout"]',
        }
    )
    node = shutil.which("node", path=env["PATH"])
    log = open(workdir / "ghost.log", "wb")  # noqa: SIM115 - the child keeps writing to it
    process = subprocess.Popen(
        [node or "node", "index.js"],
        cwd=app,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    log.close()
    server = GhostServer(base_url, "", "", None, process, workdir)
    try:
        _wait_until_up(server)
        server.admin_key, server.content_key = _owner_and_integration(base_url)
        server.paid_tier_id = _paid_tier(server)
    except BaseException:
        tail = server.log_tail()
        server.stop()
        raise RuntimeError(f"Ghost did not start on {base_url}; log tail:\n{tail}") from None
    server.startup_seconds = time.monotonic() - began
    return server


def _wait_until_up(server: GhostServer) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT
    url = f"{server.base_url}/ghost/api/admin/authentication/setup/"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"Ghost exited with code {server.process.returncode}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=5).status_code == 200:
                return
        time.sleep(0.5)
    raise TimeoutError(f"Ghost did not answer within {BOOT_TIMEOUT:.0f}s")


def _owner_and_integration(base_url: str) -> tuple[str, str]:
    """Owner setup, a cookie session, then an integration: its admin key is `id:secret`."""
    admin = f"{base_url}/ghost/api/admin"
    session = requests.Session()
    session.headers["Origin"] = base_url
    setup = session.post(
        f"{admin}/authentication/setup/",
        timeout=60,
        json={
            "setup": [
                {
                    "name": "CI Owner",
                    "email": OWNER_EMAIL,
                    "password": OWNER_PASSWORD,
                    "blogTitle": SITE_TITLE,
                }
            ]
        },
    )
    setup.raise_for_status()
    login = session.post(
        f"{admin}/session/", timeout=60, json={"username": OWNER_EMAIL, "password": OWNER_PASSWORD}
    )
    login.raise_for_status()
    made = session.post(
        f"{admin}/integrations/",
        params={"include": "api_keys"},
        timeout=60,
        json={"integrations": [{"name": "crosspost-tests"}]},
    )
    made.raise_for_status()
    keys = {k["type"]: k["secret"] for k in made.json()["integrations"][0]["api_keys"]}
    return keys["admin"], keys["content"]


def _paid_tier(server: GhostServer) -> str | None:
    """A fresh site has one paid tier; `visibility: tiers` posts need its id."""
    from connectors.ghost import admin_token

    answer = requests.get(
        f"{server.base_url}/ghost/api/admin/tiers/",
        headers={
            "Authorization": f"Ghost {admin_token(server.admin_key)}",
            "Accept-Version": "v5.0",
        },
        params={"filter": "type:paid"},
        timeout=30,
    )
    answer.raise_for_status()
    tiers = answer.json().get("tiers", [])
    return tiers[0]["id"] if tiers else None


# ---------------------------------------------------------------- one server per test run

_shared: GhostServer | None = None
_shared_lock = threading.Lock()


def shared() -> GhostServer:
    """The test run's Ghost, started on first use and killed when the run ends.

    The contract harness and the platform tests both use it, so a run boots Ghost once.
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = start()
            atexit.register(_shared.stop)
        return _shared


@pytest.fixture(scope="session")
def ghost_server() -> Iterator[GhostServer]:
    """The run's Ghost; stopped at interpreter exit so the contract suite can share it."""
    yield shared()
