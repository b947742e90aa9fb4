"""Account health: when each credential expires, refreshing it in time, warning before it
dies, and holding a target that cannot post until a person acts.

Why a book of its own, in the home folder (`accounts/`, owner-only):
- Platforms rarely say when a token was issued, so the first time crosspost sees a
  credential it notes the moment; with the connector's documented lifetime (or the
  platform's own `expires_in`) that gives the expiry. A credential is recognised by a short
  fingerprint (a hash prefix), so no more secret material is stored than before, and a
  credential the operator replaced in the settings starts a new life on its own.
- A refresh rotates the secret (X's refresh tokens are single-use), so it must happen once
  even when several processes share the home: it runs under a file lock, and whoever comes
  second reads the new credential instead of refreshing again. The new secret is written to
  `accounts/credentials.json` (0600) and overrides the settings' value until the operator
  changes that value.
- Warnings go out 7 days and 1 day before an expiry that cannot be refreshed, once each.
- A hold (credits used up, a dead token) parks the target's publications unsent instead
  of failing them one by one; `crosspost resume TARGET` (or a renewed token) lifts it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.filelock import locked

if TYPE_CHECKING:  # `status` reads the book without importing connectors, HTTP or pydantic
    from pydantic import SecretStr

    from connectors.base import Connector, TokenLife

WARN_DAYS = (7, 1)
# refresh this long before expiry: a daemon that is down a few days still finds time
REFRESH_AHEAD = 0.25  # of the credential's lifetime


def fingerprint(value: str) -> str:
    """A short, one-way mark of a secret: enough to notice it changed, useless to an attacker."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:12]


@dataclass
class Health:
    """One target's account as `accounts check` and `status` show it."""

    state: str  # ok | expiring | expired | held | unknown
    detail: str
    expires_at: datetime | None = None
    next_step: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "detail": self.detail,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "next_step": self.next_step,
        }


class AccountBook:
    """The home's record of credential lifetimes, refreshed secrets and holds."""

    def __init__(self, home: Path, clock: Callable[[], datetime] | None = None) -> None:
        self.folder = Path(home) / "accounts"
        self.clock = clock or (lambda: datetime.now(UTC))

    # ------------------------------------------------------------------ files

    def _path(self, name: str) -> Path:
        return self.folder / name

    def _read(self, name: str) -> dict[str, Any]:
        try:
            data = json.loads(self._path(name).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, name: str, data: dict[str, Any]) -> None:
        """Atomically replace one file, owner-only from its first byte."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = self._path(name)
        temporary = target.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)

    def _lock(self) -> Any:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return locked(self._path(".lock"))

    # ------------------------------------------------------------ credentials

    def credentials(self, target: str, configured: Mapping[str, SecretStr]) -> dict[str, SecretStr]:
        """The settings' credentials with any refreshed values on top.

        A refreshed value applies only while the settings still hold the value it replaced:
        when the operator pastes a new token, theirs wins.
        """
        from pydantic import SecretStr

        merged = dict(configured)
        entry = self._read("credentials.json").get(target) or {}
        for key, value in (entry.get("values") or {}).items():
            base = (entry.get("replaced") or {}).get(key)
            current = configured.get(key)
            if current is None or base is None or fingerprint(current.get_secret_value()) == base:
                merged[key] = SecretStr(str(value))
        return merged

    def secret_values(self) -> list[str]:
        """Every refreshed secret, so logs, errors and the database redact them like the
        settings' own."""
        book = self._read("credentials.json")
        return [str(v) for entry in book.values() for v in (entry.get("values") or {}).values()]

    def _store_refreshed(
        self, target: str, configured: Mapping[str, SecretStr], values: Mapping[str, str]
    ) -> None:
        book = self._read("credentials.json")
        entry = book.get(target) or {"values": {}, "replaced": {}}
        for key, value in values.items():
            entry["values"][key] = value
            if key not in entry["replaced"] and key in configured:
                entry["replaced"][key] = fingerprint(configured[key].get_secret_value())
        book[target] = entry
        self._write("credentials.json", book)

    # -------------------------------------------------------------- lifetimes

    def life(self, connector: Connector) -> dict[str, Any] | None:
        """The stored life of the account's expiring credential, noted now if new."""
        token = connector.token_life()
        if token is None:
            return None
        with self._lock():
            return self._observe(connector, token)

    def _observe(self, connector: Connector, token: TokenLife) -> dict[str, Any] | None:
        secret = connector.account.credentials.get(token.credential)
        if secret is None:
            return None
        mark = fingerprint(secret.get_secret_value())
        lives = self._read("lifetimes.json")
        name = connector.account.name
        entry = lives.get(name)
        if entry is None or entry.get("fingerprint") != mark:
            now = self.clock()
            stated = _stated_expiry(connector.account.options)
            entry = {
                "fingerprint": mark,
                "credential": token.credential,
                "seen_at": now.isoformat(),
                "expires_at": (stated or now + token.lifetime).isoformat(),
                "source": "the account's token_expires_at option" if stated else token.source,
                "refreshable": token.refreshable,
                "warned": [],
            }
            lives[name] = entry
            self._write("lifetimes.json", lives)
            holds = self._read("holds.json")
            if holds.get(name, {}).get("kind") == "expired":
                del holds[name]  # a new credential: the expired one no longer holds anything
                self._write("holds.json", holds)
        return entry

    def refresh_if_due(self, connector: Connector) -> bool:
        """Renew the account's credential when a quarter of its life is left; True when the
        connector's credentials changed (renewed here or by another process)."""
        token = connector.token_life()
        if token is None or not token.refreshable:
            return False
        configured = dict(connector.account.credentials)
        with self._lock():
            # another process may have refreshed while we waited: take its credential
            fresh = self.credentials(connector.account.name, self._configured(connector))
            changed = _differs(fresh, configured)
            if changed:
                connector.account.credentials = fresh
            entry = self._observe(connector, token)
            if entry is None:
                return changed
            expires = datetime.fromisoformat(entry["expires_at"])
            ahead = token.lifetime * REFRESH_AHEAD
            if expires - self.clock() > ahead:
                return changed
            from pydantic import SecretStr

            renewed = connector.refresh_credentials()
            self._store_refreshed(
                connector.account.name, self._configured(connector), renewed.values
            )
            connector.account.credentials = {
                **connector.account.credentials,
                **{k: SecretStr(v) for k, v in renewed.values.items()},
            }
            lives = self._read("lifetimes.json")
            now = self.clock()
            life = timedelta(seconds=renewed.expires_in) if renewed.expires_in else token.lifetime
            secret = connector.account.credentials[token.credential].get_secret_value()
            lives[connector.account.name] = {
                **entry,
                "fingerprint": fingerprint(secret),
                "seen_at": now.isoformat(),
                "refreshed_at": now.isoformat(),
                "expires_at": (now + life).isoformat(),
                "source": "the platform's answer to the refresh"
                if renewed.expires_in
                else token.source,
                "warned": [],
            }
            self._write("lifetimes.json", lives)
            return True

    def _configured(self, connector: Connector) -> Mapping[str, SecretStr]:
        """The settings' own credentials (before refreshed values were laid over them)."""
        return connector.account.configured or connector.account.credentials

    def warnings_due(self, connector: Connector) -> list[int]:
        """Days-ahead warnings (7, 1) that are due now and not sent yet; marked as sent."""
        token = connector.token_life()
        if token is None or token.refreshable:
            return []
        with self._lock():
            entry = self._observe(connector, token)
            if entry is None:
                return []
            left = datetime.fromisoformat(entry["expires_at"]) - self.clock()
            due = [d for d in WARN_DAYS if left <= timedelta(days=d) and d not in entry["warned"]]
            if not due or left <= timedelta(0):
                return []
            lives = self._read("lifetimes.json")
            lives[connector.account.name]["warned"] = sorted({*entry["warned"], *due})
            self._write("lifetimes.json", lives)
            return [min(due)]  # one message, however many thresholds it crossed at once

    # ------------------------------------------------------------------ holds

    def hold(self, target: str, reason: str, next_step: str, kind: str = "manual") -> bool:
        """Hold the target; True when the hold is new (the one time to tell a person)."""
        with self._lock():
            holds = self._read("holds.json")
            if target in holds:
                return False
            holds[target] = {
                "reason": reason,
                "next_step": next_step,
                "kind": kind,
                "since": self.clock().isoformat(),
            }
            self._write("holds.json", holds)
            return True

    def held(self, target: str) -> dict[str, Any] | None:
        return self._read("holds.json").get(target)

    def release(self, target: str) -> bool:
        with self._lock():
            holds = self._read("holds.json")
            if target not in holds:
                return False
            del holds[target]
            self._write("holds.json", holds)
            return True

    # ----------------------------------------------------------------- health

    def health(self, connector: Connector) -> Health:
        """The account's state for a person: ok, expiring, expired or held, with a next step."""
        self.life(connector)  # note a credential seen for the first time
        return self.stored_health(connector.account.name, renew_step(connector))

    def stored_health(self, target: str, renew: str | None = None) -> Health | None:
        """The same from the book alone (no connector): None when nothing is known."""
        hold = self.held(target)
        entry = self._read("lifetimes.json").get(target)
        expires = datetime.fromisoformat(entry["expires_at"]) if entry else None
        if hold:
            return Health("held", f"held: {hold['reason']}", expires, hold["next_step"])
        if entry is None or expires is None:
            return None if renew is None else Health("ok", "no expiry known for these credentials")
        renew = renew or "renew the account's credentials (see `crosspost accounts check`)"
        left = expires - self.clock()
        if left <= timedelta(0):
            return Health("expired", f"expired {expires:%Y-%m-%d %H:%M} UTC", expires, renew)
        days = left.days
        when = f"in {days} days" if days >= 2 else f"in {int(left.total_seconds() // 3600)} hours"
        if entry.get("refreshable"):
            return Health(
                "ok", f"expires {when} ({expires:%Y-%m-%d}); crosspost refreshes it", expires
            )
        if left <= timedelta(days=max(WARN_DAYS)):
            return Health("expiring", f"expires {when} ({expires:%Y-%m-%d})", expires, renew)
        return Health("ok", f"expires {when} ({expires:%Y-%m-%d})", expires)

    def expires_at(self, target: str) -> datetime | None:
        """The stored expiry of a credential that cannot be refreshed (for `status`)."""
        entry = self._read("lifetimes.json").get(target)
        if not entry or entry.get("refreshable"):
            return None
        return datetime.fromisoformat(entry["expires_at"])


def renew_step(connector: Connector) -> str:
    token = connector.token_life()
    key = token.credential if token else "access_token"
    env = f"CROSSPOST_TARGETS__{connector.account.name.upper()}__CREDENTIALS__{key.upper()}"
    return (
        f"sign in to {connector.platform} again for a new {key} and put it in .env as {env}, "
        f"then `crosspost resume {connector.account.name}` (held publications also look again "
        "every 10 minutes)"
    )


def _stated_expiry(options: Mapping[str, Any]) -> datetime | None:
    """An expiry the operator wrote down (`token_expires_at`), when the platform told them."""
    value = options.get("token_expires_at")
    if not value:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _differs(a: Mapping[str, SecretStr], b: Mapping[str, SecretStr]) -> bool:
    if a.keys() != b.keys():
        return True
    return any(a[k].get_secret_value() != b[k].get_secret_value() for k in a)
