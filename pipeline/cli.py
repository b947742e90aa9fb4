"""`crosspost`: the operator's command line.

Every command works on one home folder (`--home`, `CROSSPOST_HOME`, or the current
directory). Errors print one clear line and exit 2 (bad input or settings) or 1 (a
platform said no); no traceback reaches the operator unless `--debug` is given.

Operator steps (`retry`, `cancel`, `reschedule`, `confirm`) change a publication only in a
state they allow, in one compare-and-set with any publisher's claim: exit 0 and "now
<state>" means the row is in that state; exit 2 means nothing changed, and the message names
the state the row is in (e.g. "is publishing (a publisher has it right now)") or the
publication it waits for. `status` exits 3 when a daemon that says it runs is stale or
unhealthy (see pipeline/health.py), else 0.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, CrosspostError, ReadError

DEFAULT_CONFIG = Path(__file__).parent / "defaults" / "crosspost.toml"
HOME_FOLDERS = ("inbox", "processed", "failed", "site", "outbox", "logs")


# ----------------------------------------------------------------------------- helpers


def home_of(args: argparse.Namespace) -> Path:
    return Path(args.home or os.environ.get("CROSSPOST_HOME") or ".").resolve()


def open_home(args: argparse.Namespace) -> tuple[Path, Any]:
    """The home folder and its settings, with the folders made and file modes checked."""
    from pipeline.settings import load_settings, warn_if_world_readable

    home = home_of(args)
    settings = load_settings(home)
    for folder in HOME_FOLDERS:
        (home / folder).mkdir(parents=True, exist_ok=True)
    for private in ("crosspost.toml", ".env"):
        warning = warn_if_world_readable(home / private, settings.secret_values())
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
    if settings.database_url is None:  # created private, so SQLite's -wal/-shm are too
        db = home / "crosspost.db"
        os.close(os.open(db, os.O_CREAT | os.O_WRONLY, 0o600))
        db.chmod(0o600)
    return home, settings


def open_engine(args: argparse.Namespace, console: bool = True) -> Any:
    from pipeline.engine import Engine
    from pipeline.logs import setup_logging

    home, settings = open_home(args)
    setup_logging(home / "logs", settings.secret_values(), settings.log_level, console=console)
    return Engine(home, settings)


def open_view(args: argparse.Namespace) -> Any:
    """Settings and store only, for read-only commands: no engine, connectors or HTTP
    libraries are imported, so `crosspost status` starts fast."""
    from types import SimpleNamespace

    from pipeline.store import Store

    home, settings = open_home(args)
    store = Store(settings.db_url(home), secrets=settings.secret_values())
    return SimpleNamespace(settings=settings, store=store, close=store.close)


def parse_when(text: str, zone: Any) -> datetime:
    """ISO time (naive = the author's time zone), `now`, or `+2h` / `+30m` from now."""
    from pipeline.settings import parse_duration

    if text == "now":
        return datetime.now(UTC)
    if text.startswith("+"):
        return datetime.now(UTC) + parse_duration(text[1:])
    from pipeline.timezones import author_time

    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise CrosspostError(f"{text!r} is not a time; use 2025-06-02T09:00, now, or +2h") from None
    return author_time(when, zone)  # a skipped or repeated local time is refused, both named


def local(dt: datetime | None, zone: Any) -> str:
    """A stored time in the author's zone, always with its UTC offset."""
    return dt.astimezone(zone).strftime("%Y-%m-%d %H:%M%z") if dt else "-"


def table(rows: list[list[str]], headers: list[str], full_last: bool = False) -> str:
    """Columns cut at 60 characters; `full_last` keeps the last one whole (nothing follows
    it to misalign), for messages the reader must see in full."""
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=False)]
    widths = [min(w, 60) for w in widths]

    def line(values: Sequence[str]) -> str:
        cells = [str(v)[:w].ljust(w) for v, w in zip(values, widths, strict=False)]
        if full_last and values:
            cells[-1] = str(values[-1])
        return "  ".join(cells).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


# ---------------------------------------------------------------------------- commands


def cmd_init(args: argparse.Namespace) -> int:
    home = Path(args.dir or args.home or ".").resolve()
    for folder in HOME_FOLDERS:
        (home / folder).mkdir(parents=True, exist_ok=True)
    config = home / "crosspost.toml"
    if config.exists():
        print(f"{config} exists; left as it is")
    else:
        shutil.copyfile(DEFAULT_CONFIG, config)
        config.chmod(0o600)
        print(f"created {config}")
    print(
        f"home folder ready: {home}\n  drop essays into {home / 'inbox'}\n"
        f"  then run: crosspost --home {home} run --once"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from pipeline.daemon import Daemon

    engine = open_engine(args)
    daemon = Daemon(home_of(args), engine)
    try:
        if args.once:
            started = time.monotonic()
            counts = daemon.run_once()
            print(
                f"processed {counts['files']} file(s), published {counts['published']} "
                f"publication(s) in {time.monotonic() - started:.2f} s"
            )
            print_status(engine, as_json=False)
        else:
            daemon.serve_forever()
    finally:
        engine.close()
    return 0


SHOW_ALL_UP_TO = 100  # a small store is listed whole; a large one as summary + open rows
SOONEST = 10  # scheduled rows shown (the next due)
RECENT = 10  # finished rows shown (the newest)
ATTENTION = 50  # failed, awaiting-manual, publishing and planned rows shown, each


def status_rows(engine: Any, essay_id: int | None, everything: bool) -> tuple[list[Any], int]:
    """The rows `status` shows, and the total count; indexed queries only unless `everything`.

    A store of a hundred thousand publications is summarised: every row that needs a
    person or is under way (up to `ATTENTION` per state), the next scheduled, the newest
    finished. `--all`, `--essay` and `--json` list every row.
    """
    from sqlalchemy import func, select

    from pipeline.store import EssayRow, PublicationRow, State

    columns = (
        PublicationRow.id,
        EssayRow.id.label("essay_id"),
        EssayRow.title,
        PublicationRow.target,
        PublicationRow.platform,
        PublicationRow.state,
        PublicationRow.due_at,
        PublicationRow.attempts,
        PublicationRow.remote_url,
        PublicationRow.last_error,
        PublicationRow.depends_on,
    )
    base = select(*columns).join(EssayRow, EssayRow.id == PublicationRow.essay_id)
    with engine.store.session() as session:
        if essay_id is not None:
            query = base.where(PublicationRow.essay_id == essay_id).order_by(PublicationRow.id)
            rows = session.execute(query).all()
            return rows, len(rows)
        total = session.scalar(select(func.count()).select_from(PublicationRow)) or 0
        if everything or total <= SHOW_ALL_UP_TO:
            return session.execute(base.order_by(PublicationRow.id)).all(), total
        by_state = PublicationRow.state
        parts = [
            base.where(by_state == s.value).order_by(PublicationRow.id).limit(ATTENTION)
            for s in (State.FAILED, State.AWAITING_MANUAL, State.PUBLISHING, State.PLANNED)
        ]
        parts.append(
            base.where(by_state == State.SCHEDULED.value)
            .order_by(PublicationRow.due_at, PublicationRow.id)
            .limit(SOONEST)
        )
        parts += [
            base.where(by_state == s.value).order_by(PublicationRow.id.desc()).limit(RECENT)
            for s in (State.PUBLISHED, State.CANCELLED)
        ]
        found = {row.id: row for part in parts for row in session.execute(part).all()}
        return [found[key] for key in sorted(found)], total


def state_counts(engine: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from pipeline.store import PublicationRow

    with engine.store.session() as session:
        query = select(PublicationRow.state, func.count()).group_by(PublicationRow.state)
        return {state: count for state, count in session.execute(query).all()}


def print_status(
    engine: Any, as_json: bool, essay_id: int | None = None, everything: bool = False
) -> None:
    zone = engine.settings.zone
    rows, total = status_rows(engine, essay_id, everything or as_json)
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "id": p.id,
                        "essay_id": p.essay_id,
                        "essay": p.title,
                        "target": p.target,
                        "platform": p.platform,
                        "state": p.state,
                        "due_at": p.due_at.isoformat() if p.due_at else None,
                        "attempts": p.attempts,
                        "url": p.remote_url,
                        "last_error": p.last_error,
                        "waiting_for": p.depends_on if p.state == "planned" else None,
                    }
                    for p in rows
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if not rows:
        print("nothing planned yet: drop an essay into the inbox and run `crosspost run --once`")
        return
    lines = [
        [
            str(p.id),
            p.title[:40],
            p.target,
            p.state,
            local(p.due_at, zone) if p.state != "planned" else f"after #{p.depends_on}",
            str(p.attempts),
            (p.remote_url or p.last_error or ""),
        ]
        for p in rows
    ]
    print(table(lines, ["ID", "ESSAY", "TARGET", "STATE", "DUE", "TRIES", "URL / LAST ERROR"]))
    if len(rows) < total:
        counts = ", ".join(f"{n} {state}" for state, n in sorted(state_counts(engine).items()))
        print(
            f"\n{total} publications ({counts}); shown: what needs you or is under way, "
            f"the next {SOONEST} due and the {RECENT} newest finished. "
            "Every row: crosspost status --all"
        )


def cmd_status(args: argparse.Namespace) -> int:
    from pipeline.health import read_health

    engine = open_view(args)
    try:
        health = read_health(engine.store.engine, home_of(args))
        if args.daemon:
            out = health.as_json() if args.json else health.line(engine.settings.zone, now())
            print(json.dumps(out) if args.json else out)
        else:
            print_status(engine, args.json, args.essay, everything=args.all)
            if not args.json:
                print(f"\n{health.line(engine.settings.zone, now())}")
    finally:
        engine.close()
    return health.exit_code  # 3: a daemon that says it runs is stale or unhealthy


def now() -> datetime:
    return datetime.now(UTC)


def cmd_logs(args: argparse.Namespace) -> int:
    from pipeline.logs import human_line, read_log_lines

    logs_dir = home_of(args) / "logs"
    order = {"debug": 0, "info": 1, "warning": 2, "error": 3}

    def wanted(line: dict[str, Any]) -> bool:
        if args.essay is not None and line.get("essay") != args.essay:
            return False
        if args.target and line.get("target") != args.target:
            return False
        return order.get(line.get("level", "info"), 1) >= order[args.level]

    shown = 0
    while True:
        lines = read_log_lines(logs_dir) if logs_dir.exists() else []
        for line in lines[shown:]:
            if wanted(line):
                print(json.dumps(line, ensure_ascii=False) if args.json else human_line(line))
        shown = len(lines)
        if not args.follow:
            return 0
        sys.stdout.flush()
        time.sleep(1)


def operator_step(action: Callable[[Any, argparse.Namespace], Any], verb: str) -> Callable:
    def run(args: argparse.Namespace) -> int:
        engine = open_engine(args, console=False)
        try:
            row = action(engine, args)
        except (LookupError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        finally:
            engine.close()
        waits = row.state == "planned" and row.depends_on is not None
        print(
            f"publication {row.id} ({row.target}) {verb}: now {row.state}"
            + (f", due {local(row.due_at, engine.settings.zone)}" if row.due_at else "")
            + (f", after publication {row.depends_on} is published" if waits else "")
        )
        return 0

    return run


def cmd_plan(args: argparse.Namespace) -> int:
    from pipeline.planner import plan
    from pipeline.readers import read_file
    from pipeline.settings import load_settings

    settings = load_settings(home_of(args))
    essay = read_file(args.file)
    result = plan(essay, settings, datetime.now(UTC))
    zone = settings.zone
    rows = [
        [
            p.target,
            p.platform,
            p.kind.value,
            p.state.value,
            local(p.due_at, zone) if p.due_at else f"after {p.depends_on}",
            p.why,
        ]
        for p in result.publications
    ]
    print(f"{essay.title}\n")
    print(
        table(rows, ["TARGET", "PLATFORM", "KIND", "STATE", "WHEN", "WHY"])
        if rows
        else "no targets configured"
    )
    for note in result.notes:
        print(f"note: {note}")
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    from pipeline.preview import preview, preview_table

    result = preview(Path(args.file), home_of(args), args.target or None, args.link)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(preview_table(result))
    return 0


def cmd_accounts(args: argparse.Namespace) -> int:
    from connectors.base import PublishError

    engine = open_engine(args, console=False)
    failures = 0
    rows = []
    try:
        for name, target in engine.settings.targets.items():
            if not target.enabled:
                rows.append([name, target.platform, "off", "disabled in settings"])
                continue
            try:
                who = engine.connector(name).verify()
                rows.append([name, target.platform, "ok", who])
            except PublishError as exc:
                failures += 1
                step = getattr(exc, "next_step", "")
                rows.append(
                    [
                        name,
                        target.platform,
                        "FAILED",
                        engine.store.redact(f"{exc}" + (f" -- {step}" if step else "")),
                    ]
                )
            except Exception as exc:  # an answer no connector expected: report it, check the rest
                failures += 1
                said = (
                    f"unexpected answer ({type(exc).__name__}: {exc}) -- check that "
                    f"targets.{name}.base_url is the address of the {target.platform} API"
                )
                rows.append([name, target.platform, "FAILED", engine.store.redact(said)])
    finally:
        engine.close()
    headers = ["TARGET", "PLATFORM", "CHECK", "DETAIL"]
    print(table(rows, headers, full_last=True) if rows else "no targets")
    return 1 if failures else 0


def cmd_worker(args: argparse.Namespace) -> int:
    from pipeline.worker import run_worker

    engine = open_engine(args)
    try:
        run_worker(engine, once=args.once)
    finally:
        engine.close()
    return 0


# ------------------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crosspost", description=__doc__.splitlines()[0])
    parser.add_argument("--home", help="home folder (default: $CROSSPOST_HOME or .)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create a home folder with the default settings")
    p.add_argument("dir", nargs="?")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("run", help="the daemon: inbox, feeds, scheduler, publisher")
    p.add_argument(
        "--once", action="store_true", help="process the inbox and everything due, then exit"
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("worker", help="claim and publish due publications (scale-out)")
    p.add_argument("--once", action="store_true")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("status", help="essays x targets: state, due, URL, attempts, error")
    p.add_argument("--json", action="store_true")
    p.add_argument("--essay", type=int)
    p.add_argument("--all", action="store_true", help="every row, however many")
    p.add_argument(
        "--daemon", action="store_true", help="only the daemon's health (exit 3: stale/unhealthy)"
    )
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("logs", help="the structured log, filtered")
    p.add_argument("--essay", type=int)
    p.add_argument("--target")
    p.add_argument("--level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument("--follow", "-f", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_logs)

    p = sub.add_parser("retry", help="publish a failed publication again")
    p.add_argument("id", type=int)
    p.set_defaults(func=operator_step(lambda e, a: e.retry(a.id), "set to retry"))

    p = sub.add_parser("cancel", help="cancel a publication that has not been published")
    p.add_argument("id", type=int)
    p.set_defaults(func=operator_step(lambda e, a: e.cancel(a.id), "cancelled"))

    p = sub.add_parser("reschedule", help="move a publication to another time")
    p.add_argument("id", type=int)
    p.add_argument("when", help="ISO time (author's zone if naive), now, or +2h")
    p.set_defaults(
        func=operator_step(
            lambda e, a: e.reschedule(a.id, parse_when(a.when, e.settings.zone)), "rescheduled"
        )
    )

    p = sub.add_parser("confirm", help="record the URL of a post a person published or found")
    p.add_argument("id", type=int)
    p.add_argument("url")
    p.set_defaults(func=operator_step(lambda e, a: e.confirm(a.id, a.url), "confirmed"))

    p = sub.add_parser("plan", help="what would be published where and when, without doing it")
    p.add_argument("file")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("preview", help="exactly what each destination would receive")
    p.add_argument("file")
    p.add_argument("--target", action="append", help="only this target (repeatable)")
    p.add_argument("--link", help="the URL social posts announce (default: canonical URL)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_preview)

    p = sub.add_parser("accounts", help="accounts check: verify every account's credentials")
    p.add_argument("action", choices=["check"])
    p.set_defaults(func=cmd_accounts)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ConfigError, ReadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except CrosspostError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"error: {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
