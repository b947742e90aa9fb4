"""The few settings a read-only command needs, validated once and kept stamped in the home.

Validating every setting (pydantic-settings, every target's options) costs more than the
whole answer of `crosspost status`. So the full loader's verdict is kept in
`.settings-cache.json` (mode 0600) beside `crosspost.toml`, stamped with a hash of that
file, the home's `.env` and every `CROSSPOST_*` variable: whatever changes any of them
changes the stamp (and so does an upgrade of the code that validates), and a stale
stamp is never used. It holds no secret: a database URL with
a password in it is not kept, and a command then takes the full path.

Standard library only: importing this module must stay cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

CONFIG_NAME = "crosspost.toml"
CACHE_NAME = ".settings-cache.json"
FORMAT = 1  # bump when the cached fields change meaning
# the code that validates: an upgrade that judges the same settings differently rewrites
# these files, which changes the stamp
VALIDATORS = [
    Path(__file__).with_name("settings.py"),
    Path(__file__).parent.parent / "connectors" / "__init__.py",
    Path(__file__).parent.parent / "connectors" / "options.py",
]
_PASSWORD_IN_URL = re.compile(r"://[^/@]*:[^/@]*@")


@dataclass(frozen=True)
class QuickSettings:
    """What `status` reads from the settings: the time zone and where the database is."""

    timezone: str
    database_url: str | None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def db_url(self, home: Path) -> str:
        return self.database_url or f"sqlite:///{(home / 'crosspost.db').resolve()}"


def stamp(home: Path) -> str:
    """A hash of every source the settings are read from (see pipeline/settings.py)."""
    digest = hashlib.sha256(f"crosspost-settings-{FORMAT}\0".encode())
    for name in (CONFIG_NAME, ".env"):
        try:
            data = (home / name).read_bytes()
        except FileNotFoundError:
            data = b"\0missing"
        digest.update(f"{name}\0{len(data)}\0".encode() + data)
    for code in VALIDATORS:
        with contextlib.suppress(OSError):
            found = code.stat()
            digest.update(f"{code.name}\0{found.st_mtime_ns}\0{found.st_size}\0".encode())
    for key in sorted(os.environ):
        if key.upper().startswith("CROSSPOST_") and key.upper() != "CROSSPOST_HOME":
            digest.update(f"{key}={os.environ[key]}\0".encode())
    return digest.hexdigest()


def remember(home: Path, timezone: str, database_url: str | None) -> None:
    """Keep what the full loader validated (best effort: a read-only home just stays slow)."""
    if database_url and _PASSWORD_IN_URL.search(database_url):
        return  # never a secret in the cache: this home keeps the full path
    partial = home / f"{CACHE_NAME}.{os.getpid()}.tmp"
    with contextlib.suppress(OSError):
        record = {
            "format": FORMAT,
            "stamp": stamp(home),
            "timezone": timezone,
            "database_url": database_url,
        }
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(record))
        partial.replace(home / CACHE_NAME)
    with contextlib.suppress(OSError):
        partial.unlink(missing_ok=True)


def recall(home: Path) -> QuickSettings | None:
    """The cached settings when their stamp still matches every source, else None."""
    try:
        record = json.loads((home / CACHE_NAME).read_text(encoding="utf-8"))
        if record.get("format") != FORMAT or record.get("stamp") != stamp(home):
            return None
        settings = QuickSettings(str(record["timezone"]), record["database_url"])
        settings.zone  # noqa: B018 - a zone that no longer exists on this machine: full path
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if settings.database_url is not None and not isinstance(settings.database_url, str):
        return None
    return settings
