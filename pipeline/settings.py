"""Settings: `crosspost.toml` in the home folder, then `.env`, then `CROSSPOST_*` variables.

Later sources win: an environment variable overrides the file, so secrets can live outside
it (`CROSSPOST_TARGETS__BLOG__CREDENTIALS__APP_PASSWORD=...`). Every secret is a `SecretStr`
and prints as `**********`. A bad value stops the program at start with the key, the file
and what is allowed, never later at 3 a.m.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from pipeline.errors import ConfigError
from pipeline.settings_stamp import CONFIG_NAME

__all__ = ["CONFIG_NAME"]  # also imported from here by the rest of the program
_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 3600}


def parse_duration(value: str | int | float) -> timedelta:
    """'48h', '30m', '2d', '90s' or a number of hours."""
    if isinstance(value, int | float):
        return timedelta(hours=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration; use e.g. 90s, 30m, 48h, 2d")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


class TargetSettings(BaseModel):
    """One account: where to publish, how to sign in, and when."""

    model_config = ConfigDict(extra="forbid")

    platform: str
    enabled: bool = True
    base_url: str | None = None
    credentials: dict[str, SecretStr] = {}
    options: dict[str, Any] = {}
    # when: immediately, unless one of these says otherwise
    after: str | None = Field(None, description="publish once this target has a URL (link to it)")
    relative_to: str | None = Field(None, description="due time = that target's due time + offset")
    offset: str | None = Field(None, description="duration added to the base time, e.g. 48h")
    slots: list[str] = Field([], description="times of day in the author's time zone, HH:MM")
    max_per_day: int | None = Field(None, ge=1)
    rate_limit: tuple[int, float] | None = Field(
        None, description="[requests, seconds] this account may send; default: the platform's"
    )
    allow_private_links: bool = Field(
        False,
        description="may link to a target whose URLs only this machine or network opens"
        " (an intranet, a test server on 127.0.0.1)",
    )
    timeout_seconds: float | None = Field(
        None,
        gt=0,
        le=600,
        description="seconds to wait for the platform's answer before the request is in doubt;"
        " default 30",
    )

    @field_validator("platform")
    @classmethod
    def known_platform(cls, value: str) -> str:
        from connectors import REGISTRY

        if value not in REGISTRY:
            raise ValueError(f"unknown platform {value!r}; allowed: {', '.join(sorted(REGISTRY))}")
        return value

    @field_validator("offset")
    @classmethod
    def valid_offset(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @field_validator("slots")
    @classmethod
    def valid_slots(cls, value: list[str]) -> list[str]:
        for slot in value:
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", slot):
                raise ValueError(f"slot {slot!r} is not a time of day; use HH:MM, e.g. 09:00")
        return sorted(value)

    @field_validator("rate_limit")
    @classmethod
    def valid_rate_limit(cls, value: tuple[int, float] | None) -> tuple[int, float] | None:
        if value is not None and (value[0] < 1 or value[1] <= 0):
            raise ValueError("use [requests, seconds], e.g. [300, 300]: both above zero")
        return value

    @field_validator("base_url")
    @classmethod
    def http_url(cls, value: str | None) -> str | None:
        """An http(s) address without a user:password@ part: a password there would be
        shown in every message that names the host, so it belongs in `credentials`."""
        if value is None:
            return value
        shown = re.sub(r"^((?:[a-z][a-z0-9+.-]*:)?//)?[^/@]*@", r"\1***@", value, flags=re.I)
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{shown!r} is not an http(s) URL; write it as https://host")
        if "@" in re.match(r"^https?://([^/?#]*)", value).group(1):
            raise ValueError(
                f"{shown!r} holds a user name or password; put those in this target's "
                "credentials and leave the URL as https://host"
            )
        return value

    def offset_delta(self) -> timedelta:
        return parse_duration(self.offset) if self.offset else timedelta(0)

    def secret_values(self) -> list[str]:
        return [v.get_secret_value() for v in self.credentials.values() if v.get_secret_value()]


class NotifySettings(BaseModel):
    """Who is told when a publication needs a person."""

    model_config = ConfigDict(extra="forbid")

    webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    mail_from: str = "crosspost@localhost"
    mail_to: list[str] = []


class FeedSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    every: str = "30m"

    @field_validator("every")
    @classmethod
    def valid_every(cls, value: str) -> str:
        parse_duration(value)
        return value


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


class ConsoleSettings(BaseModel):
    """The operator console (`crosspost console`): where it listens and who may use it.

    Loopback needs no password (only this machine can connect); any other address needs
    one, or the console refuses to start (`pipeline/console/server.py`)."""

    model_config = ConfigDict(extra="forbid")

    bind: str = "127.0.0.1"
    port: int = Field(8040, ge=1, le=65535)
    password: SecretStr | None = None
    upload_limit_bytes: int = Field(10 * 1024 * 1024, ge=1024, le=512 * 1024 * 1024)

    def is_loopback(self) -> bool:
        return self.bind in LOOPBACK_HOSTS or self.bind.startswith("127.")


class HomeDotEnv(DotEnvSettingsSource):
    """The home's `.env`: our `CROSSPOST_*` keys only.

    A `.env` is often shared with other tools (compose's `POSTGRES_PASSWORD`), and
    `CROSSPOST_HOME` names the folder rather than a setting: both pass by. A misspelt
    `CROSSPOST_*` key still stops the program, as in crosspost.toml.
    """

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        prefix = self.env_prefix.lower()
        return {
            key: value
            for key, value in data.items()
            if key in self.settings_cls.model_fields
            or (key.lower().startswith(prefix) and key.lower() != f"{prefix}home")
        }


class Settings(BaseSettings):
    """Everything an instance is configured with."""

    model_config = SettingsConfigDict(
        env_prefix="CROSSPOST_",
        env_nested_delimiter="__",
        extra="forbid",
        env_file_encoding="utf-8",
    )
    home_path: ClassVar[Path] = Path(".")

    timezone: str = "UTC"
    database_url: str | None = None
    inbox_poll_seconds: float = Field(1.0, gt=0, le=3600)
    settle_seconds: float = Field(0.5, ge=0, le=600)
    # watch the inbox for file events (watchdog, when installed); polling stays as a fallback
    inbox_watch: bool = True
    max_attempts: int = Field(8, ge=1, le=100)
    retry_base_seconds: float = Field(10.0, gt=0)
    retry_max_seconds: float = Field(3600.0, gt=0)
    log_level: str = "info"
    targets: dict[str, TargetSettings] = {}
    notify: NotifySettings = NotifySettings()
    feeds: list[FeedSettings] = []
    console: ConsoleSettings = ConsoleSettings()

    @field_validator("timezone")
    @classmethod
    def valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like Europe/Berlin"
            ) from None
        return value

    @field_validator("log_level")
    @classmethod
    def valid_level(cls, value: str) -> str:
        if value.lower() not in {"debug", "info", "warning", "error"}:
            raise ValueError("allowed: debug, info, warning, error")
        return value.lower()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=cls.home_path / CONFIG_NAME)
        return init_settings, env_settings, HomeDotEnv(settings_cls), toml

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def db_url(self, home: Path) -> str:
        return self.database_url or f"sqlite:///{(home / 'crosspost.db').resolve()}"

    def secret_values(self) -> list[str]:
        """Every configured secret, so logs and outputs can be checked against them."""
        values = [s for t in self.targets.values() for s in t.secret_values()]
        if self.notify.smtp_password:
            values.append(self.notify.smtp_password.get_secret_value())
        if self.console.password:
            values.append(self.console.password.get_secret_value())
        for url in [self.database_url or ""]:
            match = re.search(r"://[^:/@]+:([^@]+)@", url)
            if match:
                values.append(match.group(1))
        return [v for v in values if v]

    def enabled_targets(self) -> dict[str, TargetSettings]:
        return {name: t for name, t in self.targets.items() if t.enabled}


def load_settings(home: Path) -> Settings:
    """Read the home folder's settings, or raise `ConfigError` saying key, file and allowed."""
    config = home / CONFIG_NAME
    if config.exists():
        try:
            tomllib.loads(config.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config}: not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{config}: not UTF-8 text") from None

    class HomeSettings(Settings):
        home_path: ClassVar[Path] = home
        model_config = SettingsConfigDict(**{**Settings.model_config, "env_file": home / ".env"})

    try:
        settings: Settings = HomeSettings()
    except ValidationError as exc:
        raise ConfigError(describe_validation(exc, config)) from None
    check_references(settings, config)
    check_options(settings, config)
    check_links(settings, config)
    return settings


def describe_validation(exc: ValidationError, config: Path) -> str:
    lines = [f"invalid settings ({config}, .env or CROSSPOST_* variables):"]
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown setting (check its spelling and section)"
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)


def check_references(settings: Settings, config: Path) -> None:
    """`after` and `relative_to` must name configured targets, and never form a cycle."""
    names = set(settings.targets)
    for name, target in settings.targets.items():
        for field_name in ("after", "relative_to"):
            ref = getattr(target, field_name)
            if ref is not None and ref not in names:
                raise ConfigError(
                    f"{config}: targets.{name}.{field_name} = {ref!r} names no target; "
                    f"allowed: {', '.join(sorted(names - {name})) or '(none configured)'}"
                )

    def follow(trail: list[str]) -> None:
        """Walk both kinds of reference (a target may have `after` and `relative_to`)."""
        target = settings.targets[trail[-1]]
        for ref in dict.fromkeys(r for r in (target.after, target.relative_to) if r):
            if ref in trail:
                raise ConfigError(f"{config}: targets form a cycle: {' -> '.join([*trail, ref])}")
            follow([*trail, ref])

    for name in settings.targets:  # in file order, so the message names the same cycle
        follow([name])


def check_options(settings: Settings, config: Path) -> None:
    """Every target's options against its platform's typed model (`connectors/options.py`)."""
    from connectors.options import option_problems

    lines = [
        f"  targets.{name}.options.{key}: {message}"
        for name, target in settings.targets.items()
        for key, message in option_problems(target.platform, dict(target.options))
    ]
    if lines:
        raise ConfigError("\n".join([f"invalid options ({config}):", *lines]))


SOCIAL_PLATFORMS = frozenset({"mastodon", "bluesky", "x", "linkedin", "threads", "telegram"})
_LOOPBACK = re.compile(r"^https?://(localhost|127\.[\d.]+|\[::1\]|0\.0\.0\.0)(:\d+)?(/|$)", re.I)


def private_url_key(name: str, target: TargetSettings) -> str | None:
    """The key to set when the URLs `target` publishes at are not public, else None.

    A static site without `base_url` gives file:// URLs; any target on a loopback address
    gives URLs only this machine can open; an outbox only writes files.
    """
    if target.platform == "outbox":
        return f"targets.{name}.platform (an outbox writes files: link to a published target)"
    if target.platform == "static_site":
        base = target.options.get("base_url")
        if not base or _LOOPBACK.match(str(base)):
            return f"targets.{name}.options.base_url"
        return None
    if target.base_url and _LOOPBACK.match(target.base_url):
        return f"targets.{name}.base_url"
    return None


def check_links(settings: Settings, config: Path) -> None:
    """A social post links to its `after` target's URL: that URL must work for its readers.

    An outbox (a local dry run) may link anywhere: its requests never leave the machine,
    and the README says its links are the local ones.
    """
    problems = []
    for name, target in settings.enabled_targets().items():
        if target.platform not in SOCIAL_PLATFORMS or not target.after:
            continue
        if target.allow_private_links:
            continue
        key = private_url_key(target.after, settings.targets[target.after])
        if key:
            problems.append(
                f"  targets.{name}.after = {target.after!r}: the posts would link to "
                f"{target.after}'s URLs, which are not public; set {key} "
                "(e.g. https://blog.example.org), or targets."
                f"{name}.allow_private_links = true if every reader is on this network"
            )
    if problems:
        raise ConfigError("\n".join([f"links that would not work ({config}):", *problems]))


def warn_if_world_readable(config: Path, secrets: Iterable[str] = ()) -> str | None:
    """A file holding secrets that others can read deserves a warning, not silence.

    It holds secrets when it has a `credentials` table or any of the loaded secret values
    (an SMTP password, a database URL's password, anything in `.env`).
    """
    if not config.exists():
        return None
    if not config.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH):
        return None
    text = config.read_text("utf-8", errors="replace")
    if "credentials" in text or any(secret in text for secret in secrets if secret):
        return f"{config} holds credentials and is readable by other users; run: chmod 600 {config}"
    return None


def default_home() -> Path:
    return Path(os.environ.get("CROSSPOST_HOME", ".")).resolve()
