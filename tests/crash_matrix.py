"""The crash matrix: the real daemon, every target, SIGKILL at seeded points, restarts.

One run drops essays into a daemon's inbox and kills the daemon with SIGKILL over and
over, each time at a point drawn (seeded) from every phase of its work:

- `read`, `planned`, `before-request`, `after-response`, `published`: the program's own
  crashpoints (`pipeline/crashpoints.py`), the n-th time the process passes one;
- `during-request`: the n-th write request reaching any platform server; the server's
  `on_request` hook kills the daemon while the request is in flight, then handles it, so
  the platform holds a post whose answer nobody read;
- `idle`: a point that was never reached before the work ran out; the daemon is killed
  while idle, which is a restart like any other;
- `second-daemon`: a second `crosspost run` on the same home while the first is running
  (it must refuse: exit 5), while the first is stopping on SIGTERM (it refuses, or starts
  once the first is gone), or beside it with the run lock bypassed (the test-only hook:
  both read the inbox and publish, and the store alone must keep everything once); the
  pair is killed with SIGKILL once the work is done.

Every target runs: the static site and the outbox, WordPress, Ghost and the Bluesky PDS
for real (behind the fault proxy), the others on their emulators. After the last kill a
daemon runs to the end; then, for every publication, its post must exist on its platform
exactly once, nothing may be missing, and the store must be consistent. Medium and
Telegram cannot look a post up, so a kill between their request and the database write
leaves the publication `failed` for a person to check; the run plays that person (one
post found: `crosspost confirm`; none: `crosspost retry`) and counts how often it had to.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.crashpoints import POINTS
from pipeline.runlock import EXIT_ALREADY_RUNNING, SKIP_ENV
from tests.contract.harness import Harness, toml_table
from tests.daemon_helpers import ROOT, crosspost, env_for, everything_written, secret_hits
from tests.emulators.base import Request

SECOND = "second-daemon"
SECOND_MODES = ("running", "stopping", "beside")
STOP_WAIT = 30  # seconds a SIGTERMed first daemon is given before it counts as a slow stop
PHASES = (*POINTS, "during-request", SECOND)
# the highest pass count drawn per phase: how deep into a run a point may lie
DEPTH = {
    "read": 2,
    "planned": 2,
    "before-request": 12,
    "during-request": 12,
    "after-response": 12,
    "published": 12,
    SECOND: 3,  # new essays dropped for the pair to take
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
TERMINAL = {"published", "failed", "cancelled", "awaiting-manual"}
ASK_A_PERSON = {"medium", "telegram"}  # no look-up: a lost answer is checked by a person
THREAD_TARGET = "mastodon_thread"

# [targets.NAME] -> (harness module, options, after)
SOCIAL_AFTER = "wordpress"
TARGETS: dict[str, tuple[str | None, dict[str, Any], str | None]] = {
    "site": (None, {}, None),
    "dry": (None, {"as": "mastodon"}, "site"),
    "wordpress": ("wordpress", {}, None),
    "ghost": ("ghost", {}, None),
    "devto": ("devto", {}, None),
    "medium": ("medium", {}, None),
    "patreon": ("patreon", {}, None),
    "substack": ("substack", {}, None),
    "mastodon": ("mastodon", {}, SOCIAL_AFTER),
    THREAD_TARGET: ("mastodon", {"mode": "thread"}, None),
    "bluesky": ("bluesky", {}, SOCIAL_AFTER),
    "x": ("x", {}, SOCIAL_AFTER),
    "linkedin": ("linkedin", {}, SOCIAL_AFTER),
    "threads": ("threads", {}, SOCIAL_AFTER),
    "telegram": ("telegram", {}, "site"),
}
LOCAL = {"site", "dry"}
# a daemon that takes files and retries quickly: the top of crosspost.toml for whole-program runs
FAST_SETTINGS = (
    'timezone = "UTC"',
    "settle_seconds = 0.1",
    "inbox_poll_seconds = 0.2",
    "retry_base_seconds = 0.2",
    "retry_max_seconds = 2",
)

WORDS = [
    *("archive", "river", "lantern", "quiet", "harbour", "ledger", "meadow", "signal"),
    *("copper", "orchard", "window", "granite", "thread", "compass", "morning", "letter"),
    *("garden", "bridge", "candle", "mirror", "paper", "valley", "engine", "pocket"),
    *("marble", "winter", "summer", "beacon", "anchor", "island", "forest", "spiral"),
]


@dataclass
class Figures:
    """What one run did and found: the numbers docs/RELIABILITY.md quotes."""

    seed: int
    kills_planned: int
    kills: Counter[str] = field(default_factory=Counter)  # phase -> SIGKILLs that landed
    idle_kills: Counter[str] = field(default_factory=Counter)  # phase -> points not reached
    # (the work ran out first; those daemons were killed while idle instead)
    essays: int = 0
    publications: int = 0
    posts_checked: int = 0
    duplicates: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    inconsistent: list[str] = field(default_factory=list)
    asked_a_person: int = 0  # Medium/Telegram publications a person had to check
    daemon_deaths: list[str] = field(default_factory=list)  # exits nobody caused
    secret_hits: list[str] = field(default_factory=list)
    rate_limit_answers: Counter[str] = field(default_factory=Counter)  # 429s given, by platform
    # second daemons started by mode, and what they did: refused | took-over | ran-beside
    second_daemons: Counter[str] = field(default_factory=Counter)
    slow_stops: int = 0  # first daemons still stopping STOP_WAIT s after SIGTERM
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data["kills"] = dict(sorted(self.kills.items()))
        data["rate_limit_answers"] = dict(self.rate_limit_answers)
        data["second_daemons"] = dict(sorted(self.second_daemons.items()))
        data["kills_landed"] = sum(self.kills.values())
        data["idle_kills"] = dict(sorted(self.idle_kills.items()))
        data["sigkills"] = data["kills_landed"] + sum(self.idle_kills.values())
        return data

    @property
    def clean(self) -> bool:
        return not (
            self.duplicates
            or self.missing
            or self.inconsistent
            or self.daemon_deaths
            or self.secret_hits
        )


def essay_text(marker: str, rng: random.Random) -> str:
    """A short essay with every kind of block; its title carries the marker, its body not."""
    words = [rng.choice(WORDS) for _ in range(70)]
    first, second = " ".join(words[:40]), " ".join(words[40:])
    return (
        f"---\ntitle: Crash essay {marker}\ntags: [reliability, writing]\n---\n\n"
        f"Opening lines about the {words[0]} and the {words[1]}: {first}.\n\n"
        "## What stays\n\n"
        f"- the *{words[2]}* kept\n- the **{words[3]}** named\n- a [link](https://example.org/{words[4]})\n\n"
        f"> {second}.\n\n"
        "## What goes\n\n"
        f"The end, with `{words[5]}` in code and a last {words[6]} {words[7]} {words[8]}.\n"
    )


class Matrix:
    """One crash-matrix run over a fresh home folder."""

    def __init__(
        self,
        work: Path,
        seed: int,
        kills: int,
        backlog: int = 12,
        targets: dict[str, tuple[str | None, dict[str, Any], str | None]] | None = None,
    ) -> None:
        self.targets = targets or TARGETS
        self.work = work
        self.home = work / "home"
        self.rng = random.Random(seed)
        self.figures = Figures(seed=seed, kills_planned=kills)
        self.backlog = backlog  # keep this much open work, so deep points can be reached
        self.run_id = f"{seed % 100000:05d}{self.rng.randrange(16**4):04x}"
        self.harnesses: dict[str, Harness] = {}
        self.dropped: list[str] = []  # markers of every essay dropped
        self.texts: list[str] = []  # and their text
        self.console = work / "daemon-console.log"
        self.armed: tuple[int, subprocess.Popen[str]] | None = None
        self.write_count = 0
        self.arm_lock = threading.Lock()

    # -- setup -------------------------------------------------------------

    def start_servers(self) -> None:
        for module in sorted({m for m, _, _ in self.targets.values() if m}):
            made = importlib.import_module(f"tests.contract.harness_{module}").make_harness()
            self.harnesses[module] = made
            made.server.on_request = self._on_request
        # X's 100 posts per 15 minutes would hold a long run for a quarter hour; the matrix
        # proves crash safety, the fault suite proves the limits
        if "x" in self.harnesses:
            self.harnesses["x"].server.limits["create"] = 100_000  # type: ignore[attr-defined]

    def close(self) -> None:
        for made in self.harnesses.values():
            made.server.on_request = None
            made.close()

    def write_home(self) -> None:
        for folder in ("inbox", "processed", "failed", "site", "outbox", "logs"):
            (self.home / folder).mkdir(parents=True, exist_ok=True)
        lines = list(FAST_SETTINGS)
        for name, (module, options, after) in self.targets.items():
            if module:
                table = self.harnesses[module].target_table(**options)
            else:
                table = {"platform": "static_site" if name == "site" else "outbox"}
                if options:
                    table["options"] = options
            if after:
                table["after"] = after
                if module:  # the blog is a test server on 127.0.0.1: its links stay here
                    table["allow_private_links"] = True
            lines.append(toml_table(f"targets.{name}", table))
        config = self.home / "crosspost.toml"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        config.chmod(0o600)

    def secrets(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for made in self.harnesses.values():
            found.update(made.secrets())
        return found

    # -- essays --------------------------------------------------------------

    def drop_essay(self) -> None:
        index = len(self.dropped)
        marker = f"cm{self.run_id}n{index:04d}"
        self.dropped.append(marker)
        text = essay_text(marker, self.rng)
        tmp = self.work / f".{marker}.md"
        tmp.write_text(text, encoding="utf-8")
        tmp.rename(self.home / "inbox" / f"essay-{index:04d}.md")  # appears whole
        self.texts.append(text)

    def drop_again(self, copy: int) -> None:
        """An essay already dropped, under a new name: read, recognised, nothing new planned."""
        index = self.rng.randrange(len(self.texts))
        name = f"again-{len(self.dropped):04d}-{copy}-{index:04d}.md"
        (self.home / "inbox" / name).write_text(self.texts[index], encoding="utf-8")

    # -- the daemon ------------------------------------------------------------

    def start_daemon(self, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        with self.console.open("a") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "pipeline.cli", "--home", str(self.home), "run"],
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                env=env_for(env),
                cwd=ROOT,
                start_new_session=True,
            )

    def _on_request(self, req: Request) -> None:
        """Every platform server calls this first: the `during-request` kill lands here."""
        if req.method not in WRITES:
            return
        with self.arm_lock:
            self.write_count += 1
            if self.armed and self.write_count >= self.armed[0]:
                _, proc = self.armed
                self.armed = None
                _kill(proc)

    @contextmanager
    def store(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(f"file:{self.home / 'crosspost.db'}?mode=ro", uri=True)
        try:
            yield connection
        finally:
            connection.close()

    def open_work(self) -> tuple[int, int]:
        """(publications still to do, of which due now) read straight from the database."""
        if not (self.home / "crosspost.db").exists():
            return (0, 0)
        now = time.time()
        with self.store() as db:
            try:
                rows = db.execute("SELECT state, due_at FROM publications").fetchall()
            except sqlite3.OperationalError:  # schema not there yet
                return (0, 0)
        open_rows = [(s, d) for s, d in rows if s not in TERMINAL]
        due = [s for s, d in open_rows if s == "publishing" or (d and _epoch(d) <= now + 1)]
        return (len(open_rows), len(due))

    def inbox_busy(self) -> bool:
        return any(not p.name.startswith(".") for p in (self.home / "inbox").iterdir()) or bool(
            self.claimed_files()
        )

    def claimed_files(self) -> list[str]:
        """Files claimed by a reader (moved to `working/`) and not yet moved on."""
        working = self.home / "working"
        if not working.is_dir():
            return []
        return [p.name for p in working.rglob("*") if p.is_file() and p.name != ".owner.lock"]

    def wait(self, proc: subprocess.Popen[str], until_done: bool, limit: float) -> str:
        """Wait until the daemon dies, or its work is over; 'killed', 'idle' or 'done'."""
        started = time.monotonic()
        quiet_since: float | None = None
        while time.monotonic() - started < limit:
            if proc.poll() is not None:
                return "killed" if proc.returncode == -signal.SIGKILL else "exited"
            remaining, due = self.open_work()
            quiet = not self.inbox_busy() and (remaining == 0 if until_done else due == 0)
            now = time.monotonic()
            if quiet and now - started > 2.5:
                quiet_since = quiet_since or now
                if now - quiet_since > 0.6:
                    return "done" if until_done else "idle"
            else:
                quiet_since = None
            time.sleep(0.1)
        return "timeout"

    def cycle(self, phase: str, count: int) -> None:
        if phase == SECOND:
            self.second_daemon(count)
            return
        # files for the point to reach: reading needs any file (an old essay under a new name
        # costs no publications), planning needs a new essay
        fresh = count if phase == "planned" or (phase == "read" and not self.dropped) else 0
        if self.open_work()[0] < self.backlog:
            fresh = max(fresh, 1)
        for _ in range(fresh):
            self.drop_essay()
        if phase == "read" and not fresh:
            for copy in range(count):
                self.drop_again(copy)
        env = {"CROSSPOST_CRASH_AT": f"{phase}:{count}"} if phase in POINTS else None
        proc = self.start_daemon(env)
        if phase == "during-request":
            with self.arm_lock:
                self.write_count = 0
                self.armed = (count, proc)
        outcome = self.wait(proc, until_done=False, limit=180)
        with self.arm_lock:
            self.armed = None
        if outcome == "killed":
            self.figures.kills[phase] += 1
        elif outcome in ("idle", "timeout"):
            self.figures.idle_kills[phase] += 1
            _kill(proc)
        else:
            self.figures.daemon_deaths.append(f"{phase}:{count}: exit {proc.returncode}")
        proc.wait()

    def starts(self) -> int:
        """Daemons that have said "daemon started" on the console so far."""
        if not self.console.exists():
            return 0
        return self.console.read_text(errors="replace").count("daemon started")

    def second_daemon(self, count: int) -> None:
        """A second daemon on the same home while the first runs or stops (see top)."""
        for _ in range(count):
            self.drop_essay()
        mode = self.rng.choice(SECOND_MODES)
        started = self.starts()
        first = self.start_daemon()
        deadline = time.monotonic() + 60
        while self.starts() == started and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(self.rng.uniform(0.0, 1.5))  # the first takes files and publishes
        if mode == "stopping" and first.poll() is None:
            os.killpg(first.pid, signal.SIGTERM)
        second = self.start_daemon({SKIP_ENV: "1"} if mode == "beside" else None)
        where = f"{SECOND} ({mode})"
        if mode == "stopping":
            with suppress(subprocess.TimeoutExpired):
                first.wait(timeout=STOP_WAIT)
            if first.returncode is None:  # still finishing its work: killed with the pair
                self.figures.slow_stops += 1
            elif first.returncode != 0:
                self.figures.daemon_deaths.append(f"{where}: first exit {first.returncode}")
        if mode != "beside":
            with suppress(subprocess.TimeoutExpired):
                second.wait(timeout=20 if mode == "running" else 5)
        refused = second.returncode == EXIT_ALREADY_RUNNING
        if mode == "running" and not refused:
            self.figures.inconsistent.append(f"{where}: exit {second.returncode}, not refused")
        elif second.returncode not in (None, EXIT_ALREADY_RUNNING):
            self.figures.daemon_deaths.append(f"{where}: second exit {second.returncode}")
        outcome = "refused" if refused else "ran-beside" if mode == "beside" else "took-over"
        self.figures.second_daemons[f"{mode}: {outcome}"] += 1
        running = [p for p in (first, second) if p.poll() is None]
        if running and self.wait(running[0], until_done=False, limit=180) == "exited":
            self.figures.daemon_deaths.append(f"{where}: exit {running[0].returncode}")
        for proc in (first, second):
            if proc.poll() is None:
                _kill(proc)
            proc.wait()
        self.figures.kills[SECOND] += 1

    # -- the run ---------------------------------------------------------------

    def plan(self) -> list[tuple[str, int]]:
        """Every phase in turn (shuffled), each at a pass count drawn from its depth."""
        rounds = -(-self.figures.kills_planned // len(PHASES))
        phases = [p for _ in range(rounds) for p in self.rng.sample(PHASES, len(PHASES))]
        return [
            (phase, self.rng.randint(1, DEPTH[phase]))
            for phase in phases[: self.figures.kills_planned]
        ]

    def run(self) -> Figures:
        started = time.monotonic()
        self.write_home()
        for phase, count in self.plan():
            self.cycle(phase, count)
        self.finish()
        self.check()
        self.figures.seconds = round(time.monotonic() - started, 1)
        return self.figures

    def finish(self) -> None:
        """A daemon without crashpoints runs until everything is done, then stops cleanly."""
        for _round in range(3):
            proc = self.start_daemon()
            outcome = self.wait(proc, until_done=True, limit=900)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
            if proc.wait(timeout=60) != 0 or outcome != "done":
                self.figures.daemon_deaths.append(f"final run: {outcome}, exit {proc.returncode}")
            if not self.play_the_person():
                return

    def play_the_person(self) -> bool:
        """Resolve what only a person can (Medium/Telegram after a lost answer); True if any."""
        acted = False
        for row in self.rows():
            if row["state"] != "failed" or row["platform"] not in ASK_A_PERSON:
                continue
            marker = self.marker_of(row)
            made = self.harnesses[row["platform"]]
            found = [p for p in made.posts() if marker and marker in p["text"]]
            if len(found) == 1:
                url = made.server.base_url + "/found/" + str(found[0]["id"])
                result = crosspost(self.home, "confirm", str(row["id"]), url)
            else:
                result = crosspost(self.home, "retry", str(row["id"]))
            assert result.returncode == 0, result.stderr
            self.figures.asked_a_person += 1
            acted = True
        return acted

    # -- the checks --------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        with self.store() as db:
            db.row_factory = sqlite3.Row
            return [
                dict(r)
                for r in db.execute(
                    "SELECT p.*, e.title AS essay_title FROM publications p "
                    "JOIN essays e ON e.id = p.essay_id"
                )
            ]

    def marker_of(self, row: dict[str, Any]) -> str | None:
        return next((m for m in self.dropped if m in row["essay_title"]), None)

    def check(self) -> None:
        figures = self.figures
        rows = self.rows()
        figures.publications = len(rows)
        with self.store() as db:
            titles = [t for (t,) in db.execute("SELECT title FROM essays")]
            integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        figures.essays = len(titles)
        if integrity != "ok":
            figures.inconsistent.append(f"sqlite integrity_check: {integrity}")
        if sorted(titles) != sorted(f"Crash essay {m}" for m in self.dropped):
            figures.inconsistent.append(f"{len(titles)} essays stored, {len(self.dropped)} dropped")
        per_essay = Counter(r["essay_id"] for r in rows)
        if set(per_essay.values()) != {len(self.targets)}:
            spread = dict(Counter(per_essay.values()))
            figures.inconsistent.append(f"publications per essay: {spread}")
        for row in rows:
            where = f"{row['target']} of {row['essay_title']!r} (publication {row['id']})"
            if row["state"] != "published":
                figures.missing.append(f"{where}: {row['state']}: {row['last_error']}")
            elif not (row["remote_id"] and row["remote_url"]):
                figures.inconsistent.append(f"{where}: published without remote id/url")
            if row["lease_until"] or row["claimed_by"]:
                figures.inconsistent.append(f"{where}: still holds a claim")
        leftovers = [p.name for d in ("inbox", "failed") for p in (self.home / d).iterdir()]
        leftovers += self.claimed_files()
        if leftovers:
            figures.inconsistent.append(f"files left in inbox/failed: {leftovers}")
        self.check_platforms(rows)
        self.check_local(rows)
        written = everything_written(self.home, [self.console.read_text(errors="replace")])
        figures.secret_hits = secret_hits(written, self.secrets())

    def check_platforms(self, rows: list[dict[str, Any]]) -> None:
        """On every platform: each essay's title exactly as often as targets post it there."""
        markers = set(self.dropped)
        for module, made in self.harnesses.items():
            targets = [t for t, (m, _, _) in self.targets.items() if m == module]
            held = made.posts()  # one listing: on the real servers it is paged HTTP
            posts = [p for p in held if any(m in p["text"] for m in markers)]
            self.figures.posts_checked += len(posts)
            ids = {str(p["id"]) for p in held}
            for marker in self.dropped:
                titled = [p for p in posts if marker in p["text"]]
                if len(titled) > len(targets):
                    self.figures.duplicates.append(f"{module}: {marker} posted {len(titled)}x")
                elif len(titled) < len(targets):
                    self.figures.missing.append(f"{module}: {marker} posted {len(titled)}x")
            texts = Counter(p["text"] for p in held if p["text"])
            self.figures.duplicates += [
                f"{module}: same text {n}x: {text[:60]!r}"
                for text, n in texts.items()
                if n > 1 and any(m in text for m in markers)
            ]
            for row in rows:
                remote = str(row["remote_id"] or "").rsplit("/", 1)[-1]
                confirmed = row["platform"] in ASK_A_PERSON  # its id came from the person
                if row["target"] in targets and remote and not confirmed and remote not in ids:
                    self.figures.missing.append(
                        f"{row['target']}: remote {row['remote_id']} not on the platform"
                    )
            said_429 = [r for r in made.server.requests_seen if r.status == 429]
            if said_429:
                self.figures.rate_limit_answers[module] += len(said_429)
        if "mastodon" in self.harnesses:
            self.check_thread()

    def check_thread(self) -> None:
        """The thread target: no reply posted twice under one parent anywhere."""
        statuses = self.harnesses["mastodon"].server.published()  # type: ignore[attr-defined]
        pairs = Counter((s["text"], s["in_reply_to_id"]) for s in statuses)
        self.figures.duplicates += [
            f"mastodon thread: {text[:40]!r} under {parent} {n}x"
            for (text, parent), n in pairs.items()
            if n > 1
        ]

    def check_local(self, rows: list[dict[str, Any]]) -> None:
        manifest = json.loads((self.home / "site" / "posts.json").read_text())
        site = Counter(m for entry in manifest for m in self.dropped if m in json.dumps(entry))
        outbox = Counter(
            m
            for path in (self.home / "outbox" / "dry").glob("*.json")
            for m in self.dropped
            if m in path.read_text(encoding="utf-8")
        )
        for name, seen in (("site", site), ("dry", outbox)):
            for marker in self.dropped:
                if seen[marker] > 1:
                    self.figures.duplicates.append(f"{name}: {marker} {seen[marker]}x")
                elif seen[marker] == 0:
                    self.figures.missing.append(f"{name}: {marker} missing")


def _kill(proc: subprocess.Popen[str]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _epoch(stamp: str) -> float:
    parsed = datetime.fromisoformat(stamp)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def run_matrix(
    work: Path,
    seed: int,
    kills: int,
    backlog: int = 12,
    targets: dict[str, tuple[str | None, dict[str, Any], str | None]] | None = None,
) -> Figures:
    matrix = Matrix(work, seed, kills, backlog, targets)
    matrix.start_servers()
    try:
        return matrix.run()
    finally:
        matrix.close()
