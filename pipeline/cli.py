"""`crosspost`: the operator's command line.

Every command works on one home folder (`--home` before or after the command,
`CROSSPOST_HOME`, or the current directory). Commands that only look (status, logs, plan,
accounts, retry…) refuse a folder that is not a home and never create files there.
Errors print one clear line; no traceback reaches the operator unless `--debug` is given.

Exit codes (README "Exit codes"): 0 done; 1 a platform said no or something unexpected;
2 bad input or settings; 3 (`run --once`, `worker --once`) a publication failed or a file
in the inbox was refused; 4 (same) a publication waits for a person (`awaiting-manual`);
5 (`run`) another `run` already holds the store (pipeline/runlock.py).

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

from pipeline.errors import ConfigError, CrosspostError, OperatorError, ReadError

DEFAULT_CONFIG = Path(__file__).parent / "defaults" / "crosspost.toml"
EXAMPLE_CONFIG = Path(__file__).parent / "defaults" / "crosspost.example.toml"
HOME_FOLDERS = ("inbox", "processed", "failed", "site", "outbox", "logs")
EXIT_FAILED = 3  # run/worker --once: a publication failed, or an inbox file was refused
EXIT_WAITING = 4  # run/worker --once: a publication waits for a person


# ----------------------------------------------------------------------------- helpers


def home_of(args: argparse.Namespace) -> Path:
    return Path(args.home or os.environ.get("CROSSPOST_HOME") or ".").resolve()


def existing_home(args: argparse.Namespace) -> Path:
    """The home folder, refused unless it is one: a misspelt `--home` must not become a
    new, empty home (nor an empty status that looks like "nothing happened")."""
    from pipeline.settings_stamp import CONFIG_NAME

    home = home_of(args)
    if not (home / CONFIG_NAME).is_file():
        raise CrosspostError(
            f"not a crosspost home: {home} has no {CONFIG_NAME}; run `crosspost init {home}` "
            "to make one, or give --home DIR"
        )
    return home


def open_home(args: argparse.Namespace) -> tuple[Path, Any]:
    """The home folder and its settings, with the folders made and file modes checked."""
    from pipeline.settings import load_settings, warn_if_world_readable

    home = existing_home(args)
    settings = load_settings(home)
    for folder in HOME_FOLDERS:
        (home / folder).mkdir(parents=True, exist_ok=True)
    for private in ("crosspost.toml", ".env"):
        warning = warn_if_world_readable(home / private, settings.secret_values())
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
    if settings.database_url is None:  # created private, so SQLite's -wal/-shm are too
        from pipeline.store import create_private_file

        create_private_file(settings.db_url(home))
    return home, settings


def open_engine(args: argparse.Namespace, console: bool = True) -> Any:
    from pipeline.accounts import AccountBook
    from pipeline.logs import setup_logging
    from pipeline.publishing.pipeline import Pipeline

    home, settings = open_home(args)
    secrets = settings.secret_values() + AccountBook(home).secret_values()
    setup_logging(home / "logs", secrets, settings.log_level, console=console)
    return Pipeline(home, settings)


def open_view(args: argparse.Namespace) -> Any:
    """Settings and store only, for read-only commands: no engine, connectors or HTTP
    libraries are imported, so `crosspost status` starts fast. Nothing is created: a home
    whose SQLite file does not exist yet has no store (`store` is None)."""
    from types import SimpleNamespace

    from pipeline.accounts import AccountBook
    from pipeline.settings import load_settings
    from pipeline.settings_stamp import remember
    from pipeline.store import Store

    home = existing_home(args)
    settings = load_settings(home)
    remember(home, settings.timezone, settings.database_url)  # for the next quick_view
    accounts = AccountBook(home)
    store = None
    if settings.database_url is not None or (home / "crosspost.db").exists():
        secrets = settings.secret_values() + accounts.secret_values()
        store = Store(settings.db_url(home), secrets=secrets)
    return SimpleNamespace(
        home=home,
        settings=settings,
        store=store,
        close=store.close if store else lambda: None,
        accounts=accounts,
        quick=False,
    )


def quick_view(args: argparse.Namespace) -> Any | None:
    """`open_view` without SQLAlchemy or pydantic, for `status`: the settings the full path
    validated last (pipeline/settings_stamp.py) and the DB-API reader
    (pipeline/store/quick.py). None when either is in doubt: the caller takes `open_view`."""
    from types import SimpleNamespace

    from pipeline.accounts import AccountBook
    from pipeline.settings_stamp import recall
    from pipeline.store.quick import QuickReader, QuickUnavailable

    home = existing_home(args)
    settings = recall(home)
    if settings is None:
        return None
    store = None
    if settings.database_url is not None or (home / "crosspost.db").exists():
        try:
            store = QuickReader(settings.db_url(home))
        except QuickUnavailable:
            return None
    return SimpleNamespace(
        home=home,
        settings=settings,
        store=store,
        close=store.close if store else lambda: None,
        accounts=AccountBook(home),
        quick=True,
    )


def parse_when(text: str, zone: Any) -> datetime:
    """ISO time (naive = the author's time zone), `now`, or `+2h` / `+30m` from now."""
    from pipeline.settings import parse_duration

    if text == "now":
        return datetime.now(UTC)
    if text.startswith("+"):
        try:
            return datetime.now(UTC) + parse_duration(text[1:])
        except ValueError as exc:  # the operator's input, said as it was said before
            raise CrosspostError(str(exc)) from None
    from pipeline.timezones import author_time

    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise CrosspostError(f"{text!r} is not a time; use {example_time()}, now, or +2h") from None
    return author_time(when, zone)  # a skipped or repeated local time is refused, both named


def example_time() -> str:
    """A time a week ahead, 09:00: an example the operator can copy without moving a post
    into the past."""
    from datetime import timedelta

    return (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT09:00")


def local(dt: datetime | None, zone: Any) -> str:
    """A stored time in the author's zone, always with its UTC offset."""
    return dt.astimezone(zone).strftime("%Y-%m-%d %H:%M%z") if dt else "-"


COLUMN_WIDTH = 60


def cut(text: str, width: int | None) -> str:
    """`text` within `width` characters, a cut one ending in "…" so the reader knows."""
    if width is None or len(text) <= width:
        return text
    return text[: width - 1] + "…"


def table(
    rows: list[list[str]], headers: list[str], full_last: bool = False, full: bool = False
) -> str:
    """Columns cut at 60 characters with "…"; `full_last` keeps the last one whole (nothing
    follows it to misalign), for messages the reader must see in full; `full` cuts nothing."""
    limit = None if full else COLUMN_WIDTH
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=False)]
    widths = [w if limit is None else min(w, limit) for w in widths]

    def line(values: Sequence[str]) -> str:
        cells = [cut(str(v), w).ljust(w) for v, w in zip(values, widths, strict=False)]
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
    if args.example:
        example = home / EXAMPLE_CONFIG.name
        shutil.copyfile(EXAMPLE_CONFIG, example)
        example.chmod(0o600)
        print(f"created {example}: every setting and platform, to copy from")
    print(
        f"home folder ready: {home}\n  drop essays into {home / 'inbox'}\n"
        f"  then run: crosspost --home {home} run --once"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from pipeline.daemon import Daemon
    from pipeline.runlock import EXIT_ALREADY_RUNNING, AlreadyRunning, hold_run_lock

    console = getattr(args, "console", False) and not args.once
    if console:  # a refused console address stops `run` before it takes the store
        from pipeline.console.server import check_bind, with_address

        check_bind(with_address(open_home(args)[1], args.bind, args.port))
    engine = open_engine(args)
    try:
        run_lock = hold_run_lock(engine.store.url)
    except AlreadyRunning as exc:
        engine.close()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ALREADY_RUNNING
    daemon = Daemon(home_of(args), engine)
    if console:
        start_console(engine, args)
    try:
        if args.once:
            refused_before = set(failed_files(engine.home))
            started = time.monotonic()
            counts = daemon.run_once()
            print(
                f"processed {counts['files']} file(s), published {counts['published']} "
                f"publication(s) in {time.monotonic() - started:.2f} s"
            )
            print_status(engine, as_json=False)
            refused = [f for f in failed_files(engine.home) if f not in refused_before]
            return once_exit_code(engine, refused)
        daemon.serve_forever()
    finally:
        engine.close()
        run_lock.release()
    return 0


def start_console(engine: Any, args: argparse.Namespace) -> Any:
    """`run --console`: the console in a thread of the daemon's process, on its engine."""
    from pipeline.console.server import console_url, make_server, serve_in_thread

    server = make_server(engine, args.bind, args.port)
    serve_in_thread(server)
    print(f"console: {console_url(engine.settings)}", file=sys.stderr, flush=True)
    return server


def cmd_console(args: argparse.Namespace) -> int:
    """The operator console alone (a daemon may run elsewhere on the same store)."""
    from pipeline.console.server import check_bind, console_url, make_server, with_address

    _, settings = open_home(args)
    check_bind(with_address(settings, args.bind, args.port))  # before the store is opened
    engine = open_engine(args, console=False)
    try:
        server = make_server(engine, args.bind, args.port)
        print(f"console: {console_url(engine.settings)}", file=sys.stderr, flush=True)
        server.run()
    finally:
        engine.close()
    return 0


def once_exit_code(engine: Any, refused_files: list[str]) -> int:
    """What a script or cron needs to know after `--once`: 0 all well (or scheduled for
    later), 3 something failed, 4 something waits for a person. Said on stderr too."""
    counts = state_counts(engine)
    failed, waiting = counts.get("failed", 0), counts.get("awaiting-manual", 0)
    if failed or refused_files:
        print(
            f"exit {EXIT_FAILED}: {failed} publication(s) failed, {len(refused_files)} inbox "
            "file(s) refused this run (see `crosspost status`)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if waiting:
        print(
            f"exit {EXIT_WAITING}: {waiting} publication(s) wait for you "
            "(see `crosspost status`; `crosspost confirm ID URL` once done)",
            file=sys.stderr,
        )
        return EXIT_WAITING
    return 0


SHOW_ALL_UP_TO = 100  # a small store is listed whole; a large one as summary + open rows
SOONEST = 10  # scheduled rows shown (the next due)
RECENT = 10  # finished rows shown (the newest)
ATTENTION = 50  # failed, awaiting-manual, publishing and planned rows shown, each
STATUS_LIMITS = {
    "show_all_up_to": SHOW_ALL_UP_TO,
    "soonest": SOONEST,
    "recent": RECENT,
    "attention": ATTENTION,
}


def status_rows(engine: Any, essay_id: int | None, everything: bool) -> tuple[list[Any], int]:
    """The rows `status` shows, and the total count; indexed queries only unless `everything`.

    A store of a hundred thousand publications is summarised: every row that needs a
    person or is under way (up to `ATTENTION` per state), the next scheduled, the newest
    finished. `--all`, `--essay` and `--json` list every row.
    """
    if getattr(engine, "quick", False):  # the same queries, DB-API (pipeline/store/quick.py)
        return engine.store.status_rows(essay_id, everything, STATUS_LIMITS)
    from pipeline.store import StatusLimits

    limits = StatusLimits(SHOW_ALL_UP_TO, ATTENTION, SOONEST, RECENT)
    return engine.store.status_rows(limits, essay_id, everything)


def state_counts(engine: Any) -> dict[str, int]:
    return engine.store.state_counts()


def failed_files(home: Path) -> dict[str, str]:
    """Files the inbox refused (in `failed/`), each with the reason its note gives."""
    found: dict[str, str] = {}
    folder = home / "failed"
    if not folder.is_dir():
        return found
    for note in sorted(folder.glob("*.error.txt")):
        text = note.read_text(encoding="utf-8", errors="replace")
        reason = text.partition("Reason: ")[2].partition("\n\nThe original file")[0].strip()
        found[note.name.removesuffix(".error.txt")] = " ".join(reason.split()) or text.strip()
    return found


def publication_json(p: Any, account: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "kind": "publication",
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
        "account": account,
    }


def failed_file_json(name: str, reason: str) -> dict[str, Any]:
    """A refused inbox file as a `status --json` row: `kind` tells it from publications."""
    return {
        "kind": "inbox-file",
        "id": None,
        "essay": name,
        "target": None,
        "state": "refused",
        "file": f"failed/{name}",
        "last_error": reason,
    }


def publications_table(
    rows: list[Any], zone: Any, full: bool = False, accounts: dict[int, Any] | None = None
) -> str:
    accounts = accounts or {}
    lines = [
        [
            str(p.id),
            p.title if full else cut(p.title, 40),
            p.target,
            p.state,
            local(p.due_at, zone) if p.state != "planned" else f"after #{p.depends_on}",
            str(p.attempts),
            (p.remote_url or p.last_error or "")
            + (f" [account: {accounts[p.id]['detail']}]" if p.id in accounts else ""),
        ]
        for p in rows
    ]
    headers = ["ID", "ESSAY", "TARGET", "STATE", "DUE", "TRIES", "URL / LAST ERROR"]
    return table(lines, headers, full_last=True, full=full)


def failed_files_table(files: dict[str, str], full: bool = False) -> str:
    rows = [[f"failed/{name}", reason] for name, reason in files.items()]
    return table(rows, ["REFUSED INBOX FILE", "REASON"], full_last=True, full=full)


def print_status(
    engine: Any,
    as_json: bool,
    essay_id: int | None = None,
    everything: bool = False,
    full: bool = False,
) -> None:
    zone = engine.settings.zone
    home = getattr(engine, "home", None)
    files = failed_files(home) if home is not None and essay_id is None else {}
    if engine.store is None:  # a home where nothing ran yet: no database to read
        rows, total = [], 0
    else:
        rows, total = status_rows(engine, essay_id, everything or as_json)
    accounts = account_notes(engine, rows)
    if as_json:
        listed = [publication_json(p, accounts.get(p.id)) for p in rows]
        listed += [failed_file_json(name, reason) for name, reason in files.items()]
        print(json.dumps(listed, indent=2, ensure_ascii=False))
        return
    if not rows and not files:
        print("nothing planned yet: drop an essay into the inbox and run `crosspost run --once`")
        return
    if rows:
        print(publications_table(rows, zone, full, accounts))
    if files:
        print(("\n" if rows else "") + failed_files_table(files, full))
    if len(rows) < total:
        counts = ", ".join(f"{n} {state}" for state, n in sorted(state_counts(engine).items()))
        print(
            f"\n{total} publications ({counts}); shown: what needs you or is under way, "
            f"the next {SOONEST} due and the {RECENT} newest finished. "
            "Every row: crosspost status --all"
        )


def account_notes(engine: Any, rows: list[Any]) -> dict[int, dict[str, Any]]:
    """Per unfinished publication, its account's health where it needs a person: held,
    expired, expiring, or expiring before this publication is due."""
    notes: dict[int, dict[str, Any]] = {}
    healths: dict[str, Any] = {}
    for p in rows:
        if p.state in {"published", "cancelled"}:
            continue
        if p.target not in healths:
            healths[p.target] = engine.accounts.stored_health(p.target)
        health = healths[p.target]
        if health is None:
            continue
        before_due = bool(health.expires_at and p.due_at and health.expires_at <= p.due_at)
        if health.state != "ok" or (before_due and "refreshes" not in health.detail):
            notes[p.id] = {**health.as_dict(), "expires_before_due": before_due}
    return notes


def cmd_status(args: argparse.Namespace) -> int:
    """The quick path when it can answer with certainty, else the full one; the quick
    path's output is held back until it is complete, so a fallback never prints twice."""
    import contextlib
    import io

    view = quick_view(args)
    if view is not None:
        held = io.StringIO()
        try:
            with contextlib.redirect_stdout(held):
                code = show_status(view, args)
        except Exception:  # any doubt: the full path answers (or says what is wrong)
            pass
        else:
            sys.stdout.write(held.getvalue())
            return code
    return show_status(open_view(args), args)


def daemon_health(engine: Any) -> tuple[Any, Any]:
    """The daemon's health and the run lock's holder, read by whichever path is open."""
    from pipeline.health import Health, judge, read_health
    from pipeline.runlock import ADVISORY_HOLDER_SQL, advisory_holder, file_run_holder, run_holder

    if engine.store is None:  # nothing ran here yet
        return Health("never started", None, None, None, None), None
    if not engine.quick:
        return read_health(engine.store, engine.home), run_holder(engine.store.engine)
    health = judge(engine.store.heartbeat(), engine.home)
    if engine.store.sqlite_path is None:
        return health, advisory_holder(engine.store.holder_row(ADVISORY_HOLDER_SQL))
    return health, file_run_holder(Path(f"{engine.store.sqlite_path}.run-lock"))


def show_status(engine: Any, args: argparse.Namespace) -> int:
    from pipeline.runlock import daemon_line, daemon_status

    try:
        health, holder = daemon_health(engine)
        lines = [health.line(engine.settings.zone, now()), daemon_line(holder)]
        if args.daemon:
            if args.json:
                print(json.dumps({**health.as_json(), "lock": daemon_status(holder)}))
            else:
                print("\n".join(lines))
        else:
            print_status(engine, args.json, args.essay, everything=args.all, full=args.full)
            if not args.json:
                print("\n" + "\n".join(lines))
    finally:
        engine.close()
    return health.exit_code  # 3: a daemon that says it runs is stale or unhealthy


def now() -> datetime:
    return datetime.now(UTC)


def cmd_logs(args: argparse.Namespace) -> int:
    from pipeline.logs import human_line, read_log_lines

    logs_dir = existing_home(args) / "logs"

    def wanted(line: dict[str, Any]) -> bool:
        return log_line_wanted(line, args.level, args.essay, args.target)

    shown = 0
    matched = 0
    while True:
        lines = read_log_lines(logs_dir) if logs_dir.exists() else []
        for line in lines[shown:]:
            if wanted(line):
                matched += 1
                print(json.dumps(line, ensure_ascii=False) if args.json else human_line(line))
        shown = len(lines)
        if not args.follow:
            if not matched and not args.json:
                print(no_log_lines(args, len(lines)))
            return 0
        sys.stdout.flush()
        time.sleep(1)


LOG_LEVELS = {"debug": 0, "info": 1, "warning": 2, "error": 3}


def log_line_wanted(
    line: dict[str, Any], level: str, essay: int | None, target: str | None
) -> bool:
    """A log line at `level` or above, of that essay and target when given (`logs`, console)."""
    if essay is not None and line.get("essay") != essay:
        return False
    if target and line.get("target") != target:
        return False
    return LOG_LEVELS.get(line.get("level", "info"), 1) >= LOG_LEVELS[level]


def no_log_lines(args: argparse.Namespace, total: int) -> str:
    """Say so when nothing matched: an empty screen reads as "crosspost is broken"."""
    asked = [f"level {args.level} or above"]
    if args.essay is not None:
        asked.append(f"essay {args.essay}")
    if args.target:
        asked.append(f"target {args.target}")
    if not total:
        return "no log lines yet: the log starts with the first `crosspost run`"
    return f"no log lines match ({', '.join(asked)}) among {total} line(s)"


def operator_step(action: Callable[[Any, argparse.Namespace], Any], verb: str) -> Callable:
    def run(args: argparse.Namespace) -> int:
        engine = open_engine(args, console=False)
        try:
            row = action(engine, args)
        except OperatorError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        finally:
            engine.close()
        print(step_done(row, verb, engine.settings.zone))
        return 0

    return run


def step_done(row: Any, verb: str, zone: Any) -> str:
    """What an operator step says once done (the CLI and the console say the same)."""
    waits = row.state == "planned" and row.depends_on is not None
    return (
        f"publication {row.id} ({row.target}) {verb}: now {row.state}"
        + (f", due {local(row.due_at, zone)}" if row.due_at else "")
        + (f", after publication {row.depends_on} is published" if waits else "")
    )


def known_publications(view: Any, essay: Any) -> tuple[int, dict[str, Any]] | None:
    """The store's essay this file already is (same content, slug or canonical URL, as the
    engine decides on intake) and its publications by target; None for a new essay."""
    if view.store is None:
        return None
    return view.store.essay_known_as(essay.effective_slug(), essay.canonical_url)


def cmd_plan(args: argparse.Namespace) -> int:
    from pipeline.publishing.planner import plan
    from pipeline.readers import read_file

    view = open_view(args)
    try:
        essay = read_file(args.file)
        result = plan(essay, view.settings, datetime.now(UTC))
        known = known_publications(view, essay)
    finally:
        view.close()
    zone = view.settings.zone
    existing = known[1] if known else {}
    rows = [plan_row(p, existing.get(p.target), zone) for p in result.publications]
    if args.json:
        keys = ["target", "platform", "kind", "state", "when", "why"]
        print(
            json.dumps(
                {
                    "essay": essay.title,
                    "known_essay_id": known[0] if known else None,
                    "publications": [dict(zip(keys, row, strict=True)) for row in rows],
                    "notes": result.notes,
                    "warnings": result.warnings,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    print(f"{essay.title}\n")
    if known:
        print(
            f"already known as essay {known[0]}: dropping it again publishes nothing new "
            "where it is already published\n"
        )
    print(
        table(rows, ["TARGET", "PLATFORM", "KIND", "STATE", "WHEN", "WHY"], full_last=True)
        if rows
        else "no targets configured"
    )
    for note in result.notes:
        print(f"note: {note}")
    for warning in result.warnings:
        print(f"warning: {warning}")
    for name, cost in plan_costs(essay, view.settings, result).items():
        print(f"cost: {name} about ${cost:.3f} (estimate; the platform charges per post)")
    return 0


def plan_costs(essay: Any, settings: Any, result: Any) -> dict[str, float]:
    """The estimated price of each publication on a pay-per-use platform (X)."""
    from connectors import connector_class
    from connectors.base import PublishError, RenderContext
    from pipeline.publishing.planner import target_options

    costs: dict[str, float] = {}
    for p in result.publications:
        cls = connector_class(p.platform)
        if not cls.charges_per_post:
            continue
        # the link is known only once the blog post exists; any URL costs the same
        link = essay.canonical_url or f"https://example.invalid/{essay.effective_slug()}"
        ctx = RenderContext(
            target=p.target, options=target_options(settings, essay, p.target), link=link
        )
        try:
            cost = cls.cost_estimate(cls.render(essay, ctx), ctx.options)
        except PublishError:
            continue
        if cost is not None:
            costs[p.target] = cost
    return costs


def plan_row(p: Any, done: Any, zone: Any) -> list[str]:
    """One planned publication, or the stored one when the essay already has it."""
    if done is not None:
        what = {"published": "already published"}.get(done.state, f"already {done.state}")
        return [
            p.target,
            p.platform,
            p.kind.value,
            done.state,
            local(done.due_at, zone),
            f"{what} (publication {done.id}) {done.remote_url or ''}".rstrip(),
        ]
    return [
        p.target,
        p.platform,
        p.kind.value,
        p.state.value,
        local(p.due_at, zone) if p.due_at else f"after {p.depends_on}",
        p.why,
    ]


def cmd_preview(args: argparse.Namespace) -> int:
    from pipeline.preview import preview, preview_table

    if args.write:
        from connectors.site.preview import write_site_preview

        for page in write_site_preview(Path(args.file), home_of(args), args.target or None):
            print(page)
        return 0
    result = preview(Path(args.file), home_of(args), args.target or None, args.link)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(preview_table(result))
    for warning in result.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def check_accounts(engine: Any) -> tuple[list[dict[str, Any]], int]:
    """`accounts check` for every target: the rows it shows and how many failed (the
    console shows the same rows)."""
    from connectors.base import PublishError

    failures = 0
    rows = []
    for name, target in engine.settings.targets.items():
        if not target.enabled:
            rows.append(account_row(name, target.platform, "off", "disabled in settings"))
            continue
        connector = engine.connector(name)
        try:
            who = connector.verify()
            health = engine.accounts.health(connector)
            if health.state in {"expired", "held"}:
                failures += 1
            rows.append(account_row(name, target.platform, "ok", who, health))
        except PublishError as exc:
            failures += 1
            step = getattr(exc, "next_step", "")
            said = engine.store.redact(f"{exc}" + (f" -- {step}" if step else ""))
            health = engine.accounts.health(connector)
            rows.append(account_row(name, target.platform, "FAILED", said, health))
        except Exception as exc:  # an answer no connector expected: report it, check the rest
            failures += 1
            said = (
                f"unexpected answer ({unexpected(exc)}) -- check that "
                f"targets.{name}.base_url is the address of the {target.platform} API"
            )
            rows.append(account_row(name, target.platform, "FAILED", engine.store.redact(said)))
    return rows, failures


def cmd_accounts(args: argparse.Namespace) -> int:
    engine = open_engine(args, console=False)
    try:
        rows, failures = check_accounts(engine)
    finally:
        engine.close()
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 1 if failures else 0
    lines = [
        [
            r["target"],
            r["platform"],
            r["check"],
            (r["health"] or {}).get("detail", ""),
            r["detail"]
            + (
                f" -- next step: {r['health']['next_step']}"
                if r["health"] and r["health"]["next_step"]
                else ""
            ),
        ]
        for r in rows
    ]
    headers = ["TARGET", "PLATFORM", "CHECK", "ACCOUNT", "DETAIL"]
    print(table(lines, headers, full_last=True) if lines else "no targets")
    return 1 if failures else 0


def account_row(
    name: str, platform: str, check: str, detail: str, health: Any = None
) -> dict[str, Any]:
    """One account as `accounts check --json` shows it (the table shows the same)."""
    return {
        "target": name,
        "platform": platform,
        "check": check,
        "detail": detail,
        "health": health.as_dict() if health is not None else None,
    }


def cmd_resume(args: argparse.Namespace) -> int:
    engine = open_engine(args, console=False)
    try:
        try:
            count = engine.resume(args.target)
        except OperatorError as exc:
            print(f"error: {exc.args[0]}", file=sys.stderr)
            return 2
    finally:
        engine.close()
    plural = "s" if count != 1 else ""
    print(f"{args.target}: hold lifted; {count} held publication{plural} due now")
    return 0


def unexpected(exc: Exception) -> str:
    """An answer no connector expected, in words: a missing field names the field."""
    if isinstance(exc, KeyError):
        return f"the answer lacks the field {exc}"
    return str(exc) or "no detail"


def cmd_worker(args: argparse.Namespace) -> int:
    from pipeline.worker import run_worker

    engine = open_engine(args)
    try:
        run_worker(engine, once=args.once)
        return once_exit_code(engine, []) if args.once else 0
    finally:
        engine.close()


# ------------------------------------------------------------------------------ parser


class ShowVersion(argparse.Action):
    """`--version`, looked up only when asked (the package metadata costs ~20 ms to read)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("crosspost")
        except PackageNotFoundError:
            found = "(not installed)"
        print(f"crosspost {found}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    # --home and --debug work before or after the command: `crosspost status --home H`
    # as well as `crosspost --home H status` (SUPPRESS keeps a value given before)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", default=argparse.SUPPRESS, help="home folder")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    parser = argparse.ArgumentParser(
        prog="crosspost",
        description=__doc__.splitlines()[0],
        epilog="Exit codes: 0 done, 1 a platform said no or an unexpected failure, 2 bad input "
        "or settings, 3 (--once) a publication failed or an inbox file was refused, "
        "4 (--once) a publication waits for a person.",
    )
    parser.add_argument("--home", help="home folder (default: $CROSSPOST_HOME or .)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action=ShowVersion, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, **kw: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kw)

    p = command("init", help="create a home folder with the default settings")
    p.add_argument("dir", nargs="?")
    p.add_argument(
        "--example",
        action="store_true",
        help="also write crosspost.example.toml: every setting and platform, explained",
    )
    p.set_defaults(func=cmd_init)

    p = command("run", help="the daemon: inbox, feeds, scheduler, publisher")
    p.add_argument(
        "--once",
        action="store_true",
        help="process the inbox and everything due, then exit (3: something failed, "
        "4: something waits for a person)",
    )
    p.add_argument(
        "--console", action="store_true", help="also serve the operator console (see console)"
    )
    p.add_argument("--bind", help="the console's address (default: console.bind, 127.0.0.1)")
    p.add_argument("--port", type=int, help="the console's port (default: console.port, 8040)")
    p.set_defaults(func=cmd_run)

    p = command("console", help="the operator console: a local web page (127.0.0.1:8040)")
    p.add_argument("--bind", help="address to listen on (default: console.bind, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: console.port, 8040)")
    p.set_defaults(func=cmd_console)

    p = command("worker", help="claim and publish due publications (scale-out)")
    p.add_argument("--once", action="store_true", help="publish what is due, then exit (3/4)")
    p.set_defaults(func=cmd_worker)

    p = command("status", help="essays x targets: state, due, URL, attempts, error")
    p.add_argument("--json", action="store_true", help="every row, refused inbox files too")
    p.add_argument("--essay", type=int)
    p.add_argument("--all", action="store_true", help="every row, however many")
    p.add_argument("--full", "--wide", action="store_true", help="cut no column")
    p.add_argument(
        "--daemon", action="store_true", help="only the daemon's health (exit 3: stale/unhealthy)"
    )
    p.set_defaults(func=cmd_status)

    p = command("logs", help="the structured log, filtered")
    p.add_argument("--essay", type=int)
    p.add_argument("--target")
    p.add_argument("--level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument("--follow", "-f", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_logs)

    p = command("retry", help="publish a failed publication again")
    p.add_argument("id", type=int)
    p.set_defaults(func=operator_step(lambda e, a: e.retry(a.id), "set to retry"))

    p = command("cancel", help="cancel a publication that has not been published")
    p.add_argument("id", type=int)
    p.set_defaults(func=operator_step(lambda e, a: e.cancel(a.id), "cancelled"))

    p = command("reschedule", help="move a publication to another time")
    p.add_argument("id", type=int)
    p.add_argument(
        "when", help=f"ISO time (author's zone if naive, e.g. {example_time()}), now, or +2h"
    )
    p.set_defaults(
        func=operator_step(
            lambda e, a: e.reschedule(a.id, parse_when(a.when, e.settings.zone)), "rescheduled"
        )
    )

    p = command("confirm", help="record the URL of a post a person published or found")
    p.add_argument("id", type=int)
    p.add_argument("url")
    p.set_defaults(func=operator_step(lambda e, a: e.confirm(a.id, a.url), "confirmed"))

    p = command("plan", help="what would be published where and when, without doing it")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_plan)

    p = command("preview", help="exactly what each destination would receive")
    p.add_argument("file")
    p.add_argument("--target", action="append", help="only this target (repeatable)")
    p.add_argument("--link", help="the URL social posts announce (default: as when published)")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--write",
        action="store_true",
        help="write the static site's page to a temporary folder and print its path",
    )
    p.set_defaults(func=cmd_preview)

    p = command("accounts", help="accounts check: every account's credentials, health, expiry")
    p.add_argument("action", choices=["check"])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_accounts)

    p = command("resume", help="lift a target's hold (credits topped up, account renewed)")
    p.add_argument("target")
    p.set_defaults(func=cmd_resume)
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
        print(f"error: unexpected failure: {exc} (run with --debug for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
