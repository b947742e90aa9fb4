"""Notice an edited `crosspost.toml` or `.env` under a running daemon, and validate it.

The daemon asks on every tick; reading two small files' sizes and times costs microseconds.
A change is loaded with the same `load_settings` the start uses, so an edit is either
applied whole or refused with the same message a start would print.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.settings import CONFIG_NAME, Settings, load_settings

WATCHED = (CONFIG_NAME, ".env")


class SettingsWatch:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.seen: tuple[tuple[int, int] | None, ...] = ()

    def _stamp(self) -> tuple[tuple[int, int] | None, ...]:
        stamps: list[tuple[int, int] | None] = []
        for name in WATCHED:
            try:
                info = (self.home / name).stat()
            except OSError:
                stamps.append(None)
                continue
            stamps.append((info.st_mtime_ns, info.st_size))
        return tuple(stamps)

    def remember(self) -> None:
        """The files as the running settings were read from them."""
        self.seen = self._stamp()

    def check(self) -> tuple[Settings | None, str | None] | None:
        """None if nothing changed; else (new settings, None) or (None, why they are refused)."""
        stamp = self._stamp()
        if stamp == self.seen:
            return None
        self.seen = stamp
        try:
            return load_settings(self.home), None
        except ConfigError as exc:
            return None, str(exc)
