"""Each platform's options as a typed model: what a target's `options` table may hold.

Settings are checked against these at start (`pipeline.settings.load_settings`), so a typo
in a key (`visibilty`) or a value (`mode = "announcment"`) stops `run`, `worker`, `plan`,
`status`… with the key, the file and what is allowed, instead of surfacing at 3 a.m. as a
refused post. The same models check an essay's front-matter option overrides.

This module imports pydantic only: settings validate against it without loading any
connector (and its HTTP libraries), so read-only commands stay fast.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors.site.options import SiteOptions


class Options(BaseModel):
    """Base: unknown keys are errors, values are checked, nothing is converted."""

    model_config = ConfigDict(extra="forbid", strict=False)


class ScheduleOptions(Options):
    schedule_on_platform: bool = Field(False, description="let the platform hold a future post")


class SocialOptions(Options):
    """What every social connector shapes its posts with (`connectors/social.py`)."""

    mode: Literal["announcement", "thread"] = "announcement"
    template: str | None = Field(None, description="e.g. '{title}\\n\\n{teaser}\\n\\n{url}'")
    hashtag_style: Literal["camel", "lower", "plain"] = "camel"
    numbered: bool = True

    @field_validator("template")
    @classmethod
    def known_fields(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            value.format(title="", teaser="", url="", hashtags="")
        except (KeyError, IndexError, ValueError):
            raise ValueError(
                "a template may use only {title}, {teaser}, {url} and {hashtags}"
            ) from None
        return value


class WordPressOptions(ScheduleOptions):
    user: str | None = None
    categories: list[str] = []
    featured_image: bool = True


class GhostOptions(ScheduleOptions):
    visibility: Literal["public", "members", "paid", "tiers"] | None = None
    tiers: list[str] = []
    status: Literal["published", "draft"] = "published"
    newsletter: str | None = None
    email_segment: str | None = None
    feature_image: bool = True


class DevToOptions(Options):
    draft: bool = False
    series: str | None = None
    organization_id: int | None = None
    main_image: bool = True


MEDIUM_FORMATS = ("html", "markdown")
MEDIUM_STATUSES = ("public", "draft", "unlisted")
MEDIUM_LICENSES = (
    "all-rights-reserved",
    "cc-40-by",
    "cc-40-by-sa",
    "cc-40-by-nd",
    "cc-40-by-nc",
    "cc-40-by-nc-nd",
    "cc-40-by-nc-sa",
    "cc-40-zero",
    "public-domain",
)


class MediumOptions(Options):
    format: Literal[MEDIUM_FORMATS] = "html"  # type: ignore[valid-type]
    publish_status: Literal[MEDIUM_STATUSES] = "public"  # type: ignore[valid-type]
    notify_followers: bool | None = None
    license: Literal[MEDIUM_LICENSES] | None = None  # type: ignore[valid-type]
    if_unsure: Literal["ask", "resend"] = "ask"


class PatreonOptions(ScheduleOptions):
    mode: Literal["handoff", "session"] = "handoff"
    access: Literal["public", "patrons", "tier"] = "patrons"
    tier: str | None = None
    campaign_id: str | int | None = None


class SubstackOptions(ScheduleOptions):
    publication_url: str | None = None
    audience: Literal["everyone", "only_paid", "founding", "only_free"] = "everyone"
    comments: Literal["everyone", "only_paid", "none"] = "everyone"
    send_email: bool = False
    section_id: str | int | None = None


Visibility = Literal["public", "unlisted", "private", "direct"]


class ExpiringTokenOptions(Options):
    token_expires_at: datetime | None = Field(
        None, description="when the platform said the token expires (ISO time)"
    )


class MastodonOptions(SocialOptions):
    visibility: Visibility = "public"
    reply_visibility: Visibility | None = None
    spoiler_text: str = ""
    language: str | None = None
    attach_image: bool = False


class BlueskyOptions(SocialOptions):
    langs: list[str] = []
    handle: str | None = None
    identifier: str | None = None


class XOptions(SocialOptions, ExpiringTokenOptions):
    username: str | None = None
    link: Literal["post", "reply"] = Field(
        "post", description="reply: the URL goes in a reply under the announcement"
    )
    link_template: str | None = Field(None, description="the reply's text, with {url}")
    cost_per_post: float = Field(0.015, ge=0, description="US dollars per post (pay-per-use)")
    cost_per_post_with_link: float = Field(0.20, ge=0, description="per post holding a URL")


class LinkedInOptions(SocialOptions, ExpiringTokenOptions):
    visibility: Literal["PUBLIC", "CONNECTIONS"] = "PUBLIC"
    author: str | None = None
    version: str | None = Field(
        None, pattern=r"^\d{6}$", description="YYYYMM; default: the calendar"
    )


class ThreadsOptions(SocialOptions, ExpiringTokenOptions):
    user_id: str | int | None = None


class TelegramOptions(SocialOptions):
    mode: Literal["announcement", "full", "thread"] = "announcement"  # type: ignore[assignment]
    chat_id: str | int | None = None
    if_unsure: Literal["ask", "resend"] = "ask"


OPTIONS: dict[str, type[BaseModel]] = {
    "static_site": SiteOptions,
    "wordpress": WordPressOptions,
    "ghost": GhostOptions,
    "devto": DevToOptions,
    "medium": MediumOptions,
    "patreon": PatreonOptions,
    "substack": SubstackOptions,
    "mastodon": MastodonOptions,
    "bluesky": BlueskyOptions,
    "x": XOptions,
    "linkedin": LinkedInOptions,
    "threads": ThreadsOptions,
    "telegram": TelegramOptions,
}
OUTBOX_KINDS = ("blog", "patronage", "social")


def option_problems(platform: str, options: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, what is wrong and what is allowed) for each bad option; [] when all are good.

    The outbox imitates a platform (`as`): its other options are that platform's.
    """
    if platform == "outbox":
        imitated = options.get("as")
        rest = {k: v for k, v in options.items() if k not in {"as", "kind"}}
        problems: list[tuple[str, str]] = []
        if imitated is not None and imitated not in OPTIONS:
            allowed = ", ".join(sorted(OPTIONS))
            return [("as", f"{imitated!r} is not a platform; allowed: {allowed}")]
        if "kind" in options and options["kind"] not in OUTBOX_KINDS:
            problems.append(("kind", f"{options['kind']!r}; allowed: {', '.join(OUTBOX_KINDS)}"))
        if imitated is None:
            problems += [(k, unknown_key(Options, "outbox: as, kind")) for k in rest]
            return problems
        return problems + option_problems(imitated, rest)
    model = OPTIONS.get(platform)
    if model is None:
        return []
    try:
        model.model_validate(options)
    except ValidationError as exc:
        return [describe(model, error) for error in exc.errors()]
    return []


def allowed_keys(model: type[BaseModel]) -> str:
    return ", ".join(sorted(model.model_fields))


def unknown_key(model: type[BaseModel], allowed: str | None = None) -> str:
    return f"unknown option; allowed: {allowed or allowed_keys(model)}"


def describe(model: type[BaseModel], error: Any) -> tuple[str, str]:
    """One pydantic error as (key, message naming the allowed values)."""
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return key, unknown_key(model)
    message = str(error["msg"]).removeprefix("Value error, ")
    given = error.get("input")
    if error["type"] == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        message = f"{given!r} is not allowed; allowed: {expected.replace(' or ', ', ')}"
    elif given is not None and not isinstance(given, dict):
        message = f"{message} (given {given!r})"
    return key, message
