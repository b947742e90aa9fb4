"""`crosspost status`'s quick path (stamped settings + DB-API reader) prints exactly what the
full path (pydantic settings + SQLAlchemy) prints, on SQLite and PostgreSQL.

Both paths run as processes over the same home and rows. Which path ran is read from
`python -X importtime`: the full path imports SQLAlchemy, the quick one must not.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.runlock import hold_run_lock
from pipeline.settings_stamp import CACHE_NAME
from pipeline.store import EssayRow, PublicationRow, Store
from tests.daemon_helpers import ROOT, env_for, make_home

CONFIG = """
timezone = "Europe/Berlin"
{database}
[targets.site]
platform = "static_site"
[targets.toot]
platform = "outbox"
after = "site"
[targets.later]
platform = "outbox"
"""
VARIANTS = [
    ["status"],
    ["status", "--json"],
    ["status", "--all"],
    ["status", "--full"],
    ["status", "--essay", "2"],
    ["status", "--daemon"],
    ["status", "--daemon", "--json"],
]


def home_with_rows(tmp_path: Path, db_url: str, count: int) -> Path:
    """A home whose store holds `count` publications in every state, with URLs and errors."""
    sqlite = db_url.startswith("sqlite")
    database = "" if sqlite else f'database_url = "{db_url}"'
    home = make_home(tmp_path, CONFIG.format(database=database))
    url = f"sqlite:///{home / 'crosspost.db'}" if sqlite else db_url
    store = Store(url)
    now = datetime.now(UTC).replace(microsecond=123456)
    states = ["scheduled", "published", "failed", "planned", "publishing"]
    states += ["cancelled", "awaiting-manual"]
    with store.session() as session, session.begin():
        essays = [
            EssayRow(
                slug=f"essay-{i}",
                title=f"Ünïcode essay {i}: a title long enough to be cut in the table view",
                content_hash=uuid.uuid4().hex,
                source_name=f"essay-{i}.md",
                essay_json="{}",
            )
            for i in range(count // 3 + 1)
        ]
        session.add_all(essays)
        session.flush()
        first: int | None = None
        for n in range(count):
            state = states[n % len(states)]
            row = PublicationRow(
                essay_id=essays[n // 3].id,
                target=("site", "toot", "later")[n % 3],
                platform="outbox",
                state=state,
                due_at=None if n % 11 == 0 else now + timedelta(minutes=n - count / 2),
                depends_on=first if state == "planned" else None,
                idempotency_key=uuid.uuid4().hex,
                attempts=n % 4,
                remote_url=f"https://example.org/p/{n}?q=ä" if state == "published" else None,
                last_error=f"HTTP 503 from the platform, try {n} — «later»"
                if state in {"failed", "awaiting-manual"}
                else None,
            )
            session.add(row)
            session.flush()
            first = first or row.id
    started, beat = (now - timedelta(days=1)).isoformat(), (now - timedelta(hours=20)).isoformat()
    with store.engine.begin() as connection:  # a daemon that stopped yesterday
        connection.exec_driver_sql(
            "INSERT INTO daemon_heartbeat (name, state, reason, pid, host, started_at, beat_at) "
            "VALUES ('daemon', 'stopped', NULL, 4242, 'elsewhere', "
            f"'{started}', '{beat}')"
        )
    store.close()
    (home / "failed" / "broken.md.error.txt").write_text(
        "Reason: no title found\n\nThe original file is beside this note.\n", encoding="utf-8"
    )
    return home


def run(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], bool]:
    """The command's result, and whether it imported SQLAlchemy (the full path)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pipeline.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env_for(env),
        cwd=ROOT,
    )
    full = bool(re.search(r"\|\s+sqlalchemy$", result.stderr, re.M))
    return result, full


def steady(text: str) -> str:
    """The output without the one part that moves with the clock: "(N s ago)"."""
    return re.sub(r"\(\d+ s ago\)", "(N s ago)", text)


def test_quick_status_prints_byte_for_byte_what_the_full_path_prints(
    tmp_path: Path, db_url: str
) -> None:
    home = home_with_rows(tmp_path, db_url, 150)  # over 100: the summary view too
    url = db_url if "postgresql" in db_url else f"sqlite:///{home / 'crosspost.db'}"
    for held in (False, True):  # no `run`, then a `run` holding the store's run lock
        lock = hold_run_lock(url) if held else None
        try:
            for variant in VARIANTS:
                (home / CACHE_NAME).unlink(missing_ok=True)
                full, took_full = run(home, *variant)
                assert took_full, variant
                assert (home / CACHE_NAME).stat().st_mode & 0o777 == 0o600
                quick, took_full = run(home, *variant)
                assert not took_full, (variant, quick.stderr[-3000:])
                assert quick.returncode == full.returncode, (variant, quick.stdout, full.stdout)
                assert steady(quick.stdout) == steady(full.stdout), variant
                assert ("daemon: running, pid" in full.stdout) == (held and "--json" not in variant)
        finally:
            if lock:
                lock.release()
    listed = json.loads(run(home, "status", "--json")[0].stdout)
    assert {row["state"] for row in listed} >= {"published", "failed", "refused", "planned"}


def test_any_doubt_takes_the_full_path(tmp_path: Path) -> None:
    home = home_with_rows(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", 12)
    first, took_full = run(home, "status")
    assert took_full and first.returncode == 0
    assert not run(home, "status")[1]

    config = home / "crosspost.toml"  # the settings changed: the stamp no longer matches
    config.write_text(config.read_text().replace("Europe/Berlin", "Asia/Tokyo"))
    changed, took_full = run(home, "status")
    assert took_full and "+0900" in changed.stdout
    assert not run(home, "status")[1]  # stamped again by the full path

    (home / CACHE_NAME).write_text("{not json")
    assert run(home, "status")[1]

    variable = {"CROSSPOST_TIMEZONE": "UTC"}  # a CROSSPOST_* variable is a source too
    later, took_full = run(home, "status", env=variable)
    assert took_full and "+0000" in later.stdout
    assert not run(home, "status", env=variable)[1]
    assert run(home, "status")[1]  # and so is its absence

    store = Store(f"sqlite:///{home / 'crosspost.db'}")  # a schema older than this program
    with store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0001x'")
    store.close()
    assert run(home, "status")[1]


def test_a_database_password_is_never_cached(tmp_path: Path) -> None:
    home = make_home(
        tmp_path,
        CONFIG.format(database='database_url = "postgresql://crosspost:s3cret-pw@127.0.0.1:1/x"'),
    )
    run(home, "status")
    assert not (home / CACHE_NAME).exists()
