"""Turn an essay plus settings into publications: which targets, when, and after what.

Pure: the clock and the slots already taken are passed in, so every rule is testable with
a fixed time. Rules, in the order they apply to a target:
1. the base time is the essay's `publish_at` (naive = the author's time zone) or now;
2. `relative_to: T` + `offset`: due at T's due time plus the offset (patrons' early access);
3. `after: T`: wait until T is published and has a URL, then due (+ offset) — the post links it;
4. `slots` (+ `max_per_day`): moved to the next free slot in the author's time zone.
Front matter may switch a target off (`x: false`), override its options, or give a patronage
target `early_access_hours: N` (every blog target then follows N hours after it), at the top
level or under `targets:` (`pipeline/frontmatter.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from connectors import connector_class
from connectors.base import Kind
from pipeline.document import Essay
from pipeline.errors import PlanError
from pipeline.frontmatter import RULE_KEYS, merged_overrides
from pipeline.publishing.states import State
from pipeline.settings import Settings, TargetSettings
from pipeline.timezones import author_time


@dataclass
class PlannedPublication:
    target: str
    platform: str
    kind: Kind
    state: State
    due_at: datetime | None
    depends_on: str | None = None
    wait_for: str | None = None  # "url": the dependency must be published with a URL
    offset: timedelta = timedelta(0)
    why: str = ""


@dataclass
class Plan:
    publications: list[PlannedPublication] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # front matter that was ignored


def essay_overrides(
    essay: Essay, settings: Settings, warnings: list[str] | None = None
) -> dict[str, Any]:
    """The essay's per-target front matter, both forms merged, options checked.

    A bad option value for a target is a `PlanError` naming the key and what is allowed:
    an author who wrote `mastodon: { mode: thred }` must not get a post in the wrong mode.
    """
    from connectors.options import option_problems

    found: list[str] = []
    overrides = merged_overrides(essay.targets, essay.front_matter_extra, settings.targets, found)
    for name, override in overrides.items():
        if not isinstance(override, Mapping) or name not in settings.targets:
            continue
        options = {k: v for k, v in override.items() if k not in RULE_KEYS | {"early_access_hours"}}
        merged = {**settings.targets[name].options, **options}
        for key, message in option_problems(settings.targets[name].platform, merged):
            if key in options:
                raise PlanError(f"front matter `{name}.{key}`: {message}")
    if warnings is not None:
        warnings.extend(found)
    return overrides


def target_kind(target: TargetSettings) -> Kind:
    """The target's kind; a connector may decide per account (Ghost `visibility: paid`)."""
    return connector_class(target.platform).kind_for(target.options)


def target_options(settings: Settings, essay: Essay, name: str) -> dict[str, Any]:
    """The account's options with the essay's front-matter options on top."""
    options = dict(settings.targets[name].options)
    override = essay_overrides(essay, settings).get(name)
    if isinstance(override, Mapping):
        skip = RULE_KEYS | {"early_access_hours"}
        options.update({k: v for k, v in override.items() if k not in skip})
    return options


def effective_targets(
    essay: Essay, settings: Settings, notes: list[str], warnings: list[str] | None = None
) -> dict[str, TargetSettings]:
    """Configured targets with the essay's front matter applied (off switches, rule overrides)."""
    targets = dict(settings.enabled_targets())
    overrides = essay_overrides(essay, settings, warnings)
    if overrides.pop("*", True) is False:
        named = {name for name, value in overrides.items() if value is not False}
        for name in list(targets):
            if name not in named:
                targets.pop(name)
                notes.append(f"{name}: not among the essay's targets")
    for name, override in overrides.items():
        if override is False:
            targets.pop(name, None)
            notes.append(f"{name}: switched off by the essay's front matter")
            continue
        if override is True and name not in targets:
            targets[name] = settings.targets[name]
        if isinstance(override, Mapping) and name in targets:
            rules = {k: v for k, v in override.items() if k in RULE_KEYS}
            if rules:
                targets[name] = targets[name].model_copy(update=checked_rules(name, rules))
    for name, override in overrides.items():
        hours = override.get("early_access_hours") if isinstance(override, Mapping) else None
        if hours is None or name not in targets:
            continue
        if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 <= hours < 1e5:
            raise PlanError(
                f"front matter `targets.{name}.early_access_hours` must be a number of hours "
                f"from 0 to 99999, not {hours!r}"
            )
        for other, target in list(targets.items()):
            if other != name and target_kind(target) is Kind.BLOG and not target.relative_to:
                targets[other] = target.model_copy(
                    update={"relative_to": name, "offset": f"{float(hours)}h", "after": None}
                )
                notes.append(f"{other}: {hours} h after {name} (patrons' early access)")
    return targets


def checked_rules(name: str, rules: dict[str, Any]) -> dict[str, Any]:
    """Front-matter timing rules validated as a target's settings are, or `PlanError`."""
    try:
        checked = TargetSettings.model_validate({"platform": "outbox", **rules})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise PlanError(f"front matter `targets.{name}.{key}`: {message}") from None
    except OverflowError:  # a duration too long for any calendar
        raise PlanError(
            f"front matter `targets.{name}.offset` is too long: {rules.get('offset')!r}"
        ) from None
    return {key: getattr(checked, key) for key in rules}


def plan(
    essay: Essay,
    settings: Settings,
    now: datetime,
    booked: Mapping[str, list[datetime]] | None = None,
) -> Plan:
    """Publications for `essay`; `booked` holds due times already taken per target (slots)."""
    result = Plan()
    targets = effective_targets(essay, settings, result.notes, result.warnings)
    base = base_time(essay, settings.zone, now, result.notes)
    planning = _Planning(targets, settings.zone, now, base, booked, result.notes)
    try:
        for name in targets:
            planning.visit(name)
    except OverflowError:
        raise PlanError(
            "a due time falls beyond the year 9999: check the front matter's publish_at and offsets"
        ) from None
    result.publications = [planning.planned[name] for name in targets]
    return result


def base_time(essay: Essay, zone: ZoneInfo, now: datetime, notes: list[str]) -> datetime:
    """The essay's `publish_at` (naive = the author's zone), or now when it is not later."""
    if essay.publish_at is None:
        return now
    at = author_time(essay.publish_at, zone)
    if at.astimezone(UTC) < now:
        notes.append(f"publish_at {at.isoformat()} is in the past: publishing now")
    return max(at.astimezone(UTC), now)


class _Planning:
    """One plan being made: targets visited dependencies first, each planned once."""

    def __init__(
        self,
        targets: dict[str, TargetSettings],
        zone: ZoneInfo,
        now: datetime,
        base: datetime,
        booked: Mapping[str, list[datetime]] | None,
        notes: list[str],
    ) -> None:
        self.targets = targets
        self.zone = zone
        self.now = now
        self.base = base
        self.booked = {k: list(v) for k, v in (booked or {}).items()}
        self.notes = notes
        self.due: dict[str, datetime | None] = {}
        self.planned: dict[str, PlannedPublication] = {}

    def visit(self, name: str, trail: tuple[str, ...] = ()) -> None:
        if name in self.planned:
            return
        if name in trail:  # only front matter can do this: the settings were checked at start
            raise PlanError(
                "front matter makes targets wait for each other in a circle: "
                + " -> ".join([*trail[trail.index(name) :], name])
            )
        target = self.targets[name]
        for ref in (target.relative_to, target.after):
            if ref and ref not in self.targets:
                self.notes.append(f"{name}: depends on {ref!r}, which is off for this essay")
        if target.relative_to and target.relative_to in self.targets:
            self.visit(target.relative_to, (*trail, name))
        if target.after and target.after in self.targets:
            self.visit(target.after, (*trail, name))
            item = self._waiting(name, target, target.after)
        else:
            item = self._scheduled(name, target)
        self.due[name] = item.due_at
        self.planned[name] = item

    def _waiting(self, name: str, target: TargetSettings, after: str) -> PlannedPublication:
        """Planned until `after` has a URL (the post links it)."""
        offset = target.offset_delta()
        why = f"after {after} has a URL" + (f", +{offset}" if offset else "")
        kind = target_kind(target)
        return PlannedPublication(
            name, target.platform, kind, State.PLANNED, None, after, "url", offset, why
        )

    def _scheduled(self, name: str, target: TargetSettings) -> PlannedPublication:
        """Due at the base time, or relative to another target, plus offset, then slotted."""
        offset = target.offset_delta()
        start, why = self.base, "now" if self.base == self.now else f"at {self.base.isoformat()}"
        if target.relative_to and target.relative_to in self.targets:
            ref_due = self.due.get(target.relative_to) or self.base
            start, why = ref_due + offset, f"{offset} after {target.relative_to}"
        elif offset:
            start, why = self.base + offset, f"{offset} after {why}"
        at = next_slot(start, target, self.zone, self.booked.get(name, []))
        if at != start:
            why += f", next free slot {at.astimezone(self.zone):%Y-%m-%d %H:%M %Z}"
        self.booked.setdefault(name, []).append(at)
        kind = target_kind(target)
        return PlannedPublication(name, target.platform, kind, State.SCHEDULED, at, why=why)


def next_slot(
    candidate: datetime, target: TargetSettings, zone: ZoneInfo, taken: list[datetime]
) -> datetime:
    """The first slot at or after `candidate` whose local day still has room."""
    if not target.slots:
        return candidate
    day = candidate.astimezone(zone).date()
    per_day = target.max_per_day or len(target.slots)
    for _ in range(3660):  # ten years of days: a full calendar is a config error, not a hang
        used = sum(1 for t in taken if t.astimezone(zone).date() == day)
        if used < per_day:
            for slot in target.slots:
                hour, minute = map(int, slot.split(":"))
                at = datetime.combine(day, time(hour, minute), tzinfo=zone)
                # compared as instants: same-zone datetimes compare as wall clocks, which
                # put a slot in the repeated hour before a due time in its second pass
                if at.astimezone(UTC) >= candidate and at.astimezone(UTC) not in taken:
                    return at.astimezone(UTC)
        day += timedelta(days=1)
    raise ValueError(f"no free slot within ten years for target with slots {target.slots}")


def release_after(
    dependency_published_at: datetime,
    item_offset: timedelta,
    target: TargetSettings,
    zone: ZoneInfo,
    taken: list[datetime],
    not_before: datetime,
) -> datetime:
    """The due time of an `after:` publication once its dependency has a URL."""
    start = max(dependency_published_at + item_offset, not_before)
    return next_slot(start, target, zone, taken)
