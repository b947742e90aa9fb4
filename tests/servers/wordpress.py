"""A real WordPress (Debian package) with a private MariaDB and `php -S`, on 127.0.0.1.

Cold path (fresh machine, as root): install the Debian packages, make a MariaDB data
folder, run WordPress's own installer and create an Application Password; the installed
database and the password are then kept in the cache as a template. Warm path: copy the
template into a temp dir and start the two servers (about a second or two).

Gotchas this module handles (learned by running it):
- Debian's `/usr/share/wordpress/wp-config.php` picks its config by the Host header, so
  each session runs a private copy of the tree with its own `wp-config.php`.
- `WP_ENVIRONMENT_TYPE=local` is what allows Application Passwords over plain HTTP.
- `wp_install()` tries to send mail: the installer filters it out.
- `mariadbd` run as root needs `--user=root` and `--no-defaults`.
- `php -S` workers outlive their parent: both servers start with `setsid` and are killed by
  process group, at `stop()`, at interpreter exit, or by a watchdog if the test process dies.
- Site URLs come from `WP_HOME`/`WP_SITEURL` in `wp-config.php`, so a database installed
  on one port serves correctly on another: that is what makes the template reusable.
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
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.servers.cache import CACHE

PACKAGES = [
    "wordpress",
    "wordpress-theme-twentytwentythree",
    "php-cli",
    "php-mysql",
    "php-gd",
    "php-curl",
    "php-xml",
    "php-mbstring",
    "php-zip",
    "php-intl",
    "php-imagick",
    "mariadb-server",
]
WP_TREE = Path("/usr/share/wordpress")
THEME = WP_TREE / "wp-content/themes/twentytwentythree"  # without it the front end is empty
MARIADBD = Path("/usr/sbin/mariadbd")
ADMIN_USER = "admin"
ADMIN_PASSWORD = "admin-pass-123"  # a throwaway admin of a throwaway loopback site
DB_USER, DB_PASSWORD = "wp", "wppass"
BOOT_TIMEOUT = 30.0
TEMPLATE_FORMAT = "3"  # bump when the template's contents change


@dataclass
class WordPressServer:
    """A running WordPress: where it is, how to log in, and how to stop it."""

    base_url: str
    user: str
    app_password: str
    root: Path
    groups: list[int] = field(default_factory=list)
    socket_path: Path | None = None

    @property
    def api(self) -> str:
        return f"{self.base_url}/wp-json/wp/v2"

    def stop(self) -> None:
        """Kill both servers' process groups and remove the temp dir; safe to call twice."""
        for group in self.groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        self.groups.clear()
        shutil.rmtree(self.root, ignore_errors=True)


# ---------------------------------------------------------------- install


def ensure_packages() -> None:
    """Install WordPress, PHP and MariaDB from Debian when any of them is missing."""
    wordpress = (WP_TREE / "wp-settings.php").exists() and THEME.exists()
    if wordpress and shutil.which("php") and MARIADBD.exists():
        return
    if os.geteuid() != 0:
        raise RuntimeError(
            "WordPress tests need the Debian packages " + " ".join(PACKAGES) + " (run as root)"
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update"], check=True, capture_output=True, env=env, timeout=600)
    subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES],
        check=True,
        capture_output=True,
        env=env,
        timeout=1200,
    )


def cache_dir() -> Path:
    return CACHE / "wordpress"


def site_dir() -> Path:
    return cache_dir() / f"site-{_wp_version()}-{TEMPLATE_FORMAT}"


def template_dir() -> Path:
    return cache_dir() / f"template-{_wp_version()}-{TEMPLATE_FORMAT}"


def _wp_version() -> str:
    text = (WP_TREE / "wp-includes/version.php").read_text(errors="replace")
    for line in text.splitlines():
        if line.startswith("$wp_version"):
            return line.split("'")[1]
    return "unknown"


@contextlib.contextmanager
def _cache_lock() -> Iterator[None]:
    """Two test processes building the template at once would corrupt it."""
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---------------------------------------------------------------- start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_wordpress() -> WordPressServer:
    """A fresh WordPress on free loopback ports; call `stop()` when done."""
    ensure_packages()
    with _cache_lock():
        if not (site_dir() / "ready").exists():
            _build_site()
        if not (template_dir() / "ready").exists():
            _build_template()
    root = Path(tempfile.mkdtemp(prefix="crosspost-wp-"))
    server = WordPressServer(
        base_url="",
        user=ADMIN_USER,
        app_password=(template_dir() / "app_password.txt").read_text().strip(),
        root=root,
    )
    try:
        shutil.copytree(template_dir() / "db", root / "db", symlinks=True)
        db_port = _start_mariadb(server, root)
        _start_php(server, root, free_port(), db_port)
        _watchdog(server.groups)
    except BaseException:
        server.stop()
        raise
    return server


def _build_site() -> None:
    """The shared WordPress tree: Debian's files as hard links, plus our config and router.

    Sessions differ only in ports and content folder, read from the environment by
    `wp-config.php`, so every session runs the same paths and PHP's file cache stays warm.
    """
    site = site_dir()
    shutil.rmtree(site, ignore_errors=True)
    site.parent.mkdir(parents=True, exist_ok=True)
    _link_tree(WP_TREE, site)
    config = site / "wp-config.php"
    config.unlink(missing_ok=True)  # a hard link to Debian's file: never write through it
    config.write_text(_WP_CONFIG)
    (site / "crosspost-router.php").write_text(_ROUTER_PHP)
    (site / "ready").write_text(_wp_version())


def _session_content(root: Path) -> Path:
    """This session's wp-content: shared themes and plugins, private uploads."""
    content = root / "content"
    content.mkdir(exist_ok=True)
    for name in ("themes", "plugins", "languages"):
        shared = site_dir() / "wp-content" / name
        if shared.exists() and not (content / name).exists():
            (content / name).symlink_to(shared)
    (content / "uploads").mkdir(exist_ok=True)
    return content


def _site_env(root: Path, port: int, db_port: int) -> dict[str, str]:
    return dict(
        os.environ,
        CROSSPOST_WP_PORT=str(port),
        CROSSPOST_WP_DBPORT=str(db_port),
        CROSSPOST_WP_CONTENT=str(_session_content(root)),
    )


def _build_template() -> None:
    """Install WordPress once into a MariaDB data folder kept in the cache."""
    target = template_dir()
    work = Path(tempfile.mkdtemp(prefix="build-", dir=cache_dir()))
    server = WordPressServer(base_url="", user=ADMIN_USER, app_password="", root=work)
    try:
        _run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={work / 'db'}",
                "--user=root",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
                "--innodb-log-file-size=8M",
            ],
            timeout=120,
        )
        db_port = _start_mariadb(server, work)
        _run(
            [
                "mariadb",
                f"--socket={server.socket_path}",
                "-uroot",
                "-e",
                "CREATE DATABASE wordpress CHARACTER SET utf8mb4;"
                f" CREATE USER '{DB_USER}'@'127.0.0.1' IDENTIFIED BY '{DB_PASSWORD}';"
                f" GRANT ALL ON wordpress.* TO '{DB_USER}'@'127.0.0.1';",
            ]
        )
        installer = work / "install.php"
        installer.write_text(
            _INSTALL_PHP.replace("@SITE@", str(site_dir())).replace("@OUT@", str(work))
        )
        _run(["php", str(installer)], timeout=120, env=_site_env(work, free_port(), db_port))
        _run(["mariadb-admin", f"--socket={server.socket_path}", "-uroot", "shutdown"])
        _wait_gone(server.groups[0])
        server.groups.clear()
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        shutil.move(work / "db", target / "db")
        shutil.move(work / "app_password.txt", target / "app_password.txt")
        (target / "ready").write_text(_wp_version())
    finally:
        server.stop()


def _start_mariadb(server: WordPressServer, root: Path) -> int:
    port = free_port()
    server.socket_path = root / "mysqld.sock"
    for stale in ("mysqld.pid", "mysqld.sock"):
        (root / "db" / stale).unlink(missing_ok=True)
    process = subprocess.Popen(
        [
            str(MARIADBD),
            "--no-defaults",
            f"--datadir={root / 'db'}",
            "--user=root",
            f"--socket={server.socket_path}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--pid-file={root / 'mysqld.pid'}",
            f"--log-error={root / 'mysqld.err'}",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=32M",
            "--innodb-log-file-size=8M",
            "--skip-name-resolve",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    server.groups.append(process.pid)
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mariadbd exited: {_tail(root / 'mysqld.err')}")
        ping = subprocess.run(
            ["mariadb-admin", f"--socket={server.socket_path}", "-uroot", "ping"],
            capture_output=True,
        )
        if ping.returncode == 0:
            return port
        time.sleep(0.05)
    raise RuntimeError(f"mariadbd did not start in time: {_tail(root / 'mysqld.err')}")


def _link_tree(source: Path, target: Path) -> None:
    """Copy a tree as hard links (fast: 60 MB of PHP); a plain copy across file systems.

    PHP resolves symlinks in `__FILE__`, so a symlinked tree would load Debian's config;
    hard links keep our paths. Files are only ever replaced here, never written through.
    """
    linked = subprocess.run(["cp", "-al", str(source), str(target)], capture_output=True)
    if linked.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, symlinks=True)


def _start_php(server: WordPressServer, root: Path, port: int, db_port: int) -> None:
    env = _site_env(root, port, db_port)
    env["PHP_CLI_SERVER_WORKERS"] = "4"
    opcache = cache_dir() / "opcache"
    opcache.mkdir(parents=True, exist_ok=True)
    with open(root / "php-server.log", "wb") as log:
        process = subprocess.Popen(
            [
                "php",
                "-d",
                "opcache.enable_cli=1",
                "-d",
                f"opcache.file_cache={opcache}",
                "-S",
                f"127.0.0.1:{port}",
                "-t",
                str(site_dir()),
                str(site_dir() / "crosspost-router.php"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            start_new_session=True,
        )
    server.groups.append(process.pid)
    server.base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"php -S exited: {_tail(root / 'php-server.log')}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{server.base_url}/wp-json/", timeout=5).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"WordPress did not answer in time: {_tail(root / 'php-server.log')}")


def _watchdog(groups: list[int]) -> None:
    """A detached shell that kills the servers if this test process dies without cleanup."""
    kills = " ".join(f"-{g}" for g in groups)
    script = f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; kill -9 -- {kills}"
    subprocess.Popen(
        ["sh", "-c", script],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_gone(pid: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if finished:
            return
        time.sleep(0.05)


def _run(cmd: list[str], timeout: float = 60, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({done.returncode}): {done.stderr[-2000:]}")


def _tail(path: Path, size: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return "(no log)"


# ---------------------------------------------------------------- one per test session

_shared: WordPressServer | None = None


def shared_wordpress() -> WordPressServer:
    """The session's WordPress, started on first use and stopped when the process exits.

    The contract harness and the connector tests share it, so it starts once per session.
    """
    global _shared
    if _shared is None:
        _shared = start_wordpress()
        atexit.register(_shared.stop)
    return _shared


@pytest.fixture(scope="session")
def wordpress_server() -> WordPressServer:
    return shared_wordpress()


_WP_CONFIG = """<?php
// Ports and the content folder come from the environment: one tree serves every session.
$port = getenv('CROSSPOST_WP_PORT'); $db_port = getenv('CROSSPOST_WP_DBPORT');
define('DB_NAME', 'wordpress'); define('DB_USER', 'wp'); define('DB_PASSWORD', 'wppass');
define('DB_HOST', '127.0.0.1:' . $db_port);
define('DB_CHARSET', 'utf8mb4'); define('DB_COLLATE', '');
foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT',
          'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'] as $k) define($k, 'test-' . $k);
$table_prefix = 'wp_';
define('WP_HOME', 'http://127.0.0.1:' . $port); define('WP_SITEURL', 'http://127.0.0.1:' . $port);
define('WP_CONTENT_DIR', getenv('CROSSPOST_WP_CONTENT'));
define('WP_CONTENT_URL', 'http://127.0.0.1:' . $port . '/wp-content');
define('WP_ENVIRONMENT_TYPE', 'local');  // Application Passwords over plain http
define('AUTOMATIC_UPDATER_DISABLED', true); define('WP_AUTO_UPDATE_CORE', false);
define('WP_HTTP_BLOCK_EXTERNAL', true);  // never call api.wordpress.org
define('DISABLE_WP_CRON', true);
define('FS_METHOD', 'direct');
define('WP_DEBUG', false);
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
"""

# Uploads live in the session's content folder, outside the shared document root.
_ROUTER_PHP = """<?php
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if (strpos($path, '/wp-content/uploads/') === 0) {
    $base = realpath(getenv('CROSSPOST_WP_CONTENT') . '/uploads');
    $file = realpath(getenv('CROSSPOST_WP_CONTENT') . substr($path, strlen('/wp-content')));
    if ($base && $file && strpos($file, $base . '/') === 0 && is_file($file)) {
        $type = function_exists('mime_content_type') ? mime_content_type($file) : false;
        header('Content-Type: ' . ($type ?: 'application/octet-stream'));
        readfile($file);
    } else {
        http_response_code(404);
    }
    return true;
}
return false;
"""

_INSTALL_PHP = """<?php
define('WP_INSTALLING', true);
$port = getenv('CROSSPOST_WP_PORT');
$_SERVER['HTTP_HOST'] = '127.0.0.1:' . $port; $_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_NAME'] = '127.0.0.1'; $_SERVER['SERVER_PORT'] = $port;
require '@SITE@/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
add_filter('pre_wp_mail', '__return_false');  // there is no sendmail
wp_install('Crosspost Test Blog', 'admin', 'admin@example.com', true, '', 'admin-pass-123');
switch_theme('twentytwentythree');
global $wp_rewrite;
$wp_rewrite->set_permalink_structure('/%postname%/');
flush_rewrite_rules(false);
$user = get_user_by('login', 'admin');
$made = WP_Application_Passwords::create_new_application_password($user->ID, ['name' => 'tests']);
if (is_wp_error($made)) { fwrite(STDERR, $made->get_error_message() . "\\n"); exit(1); }
file_put_contents('@OUT@/app_password.txt', $made[0]);
"""
