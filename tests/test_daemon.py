"""The real program, run as a subprocess over a temporary home folder."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.daemon_helpers import (
    EXAMPLE,
    crosspost,
    make_home,
    start_daemon,
    status,
    stop_daemon,
    wait_for,
)

SITE_FILES = {"index.html", "404.html"}  # the site's own pages beside the essays'


def test_dropped_essay_is_published_to_every_configured_target(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    shutil.copy(EXAMPLE, home / "inbox")
    result = crosspost(home, "run", "--once")
    assert result.returncode == 0, result.stderr
    rows = status(home)
    assert {(r["target"], r["state"]) for r in rows} == {
        ("site", "published"),
        ("announce", "published"),
    }
    pages = list((home / "site").glob("*.html"))
    assert {p.name for p in pages} >= {"index.html", "404.html"} and len(pages) == 3
    announcement = json.loads(next((home / "outbox" / "announce").glob("*.json")).read_text())
    site_url = next(r["url"] for r in rows if r["target"] == "site")
    assert site_url in announcement["request"]["status"]
    assert (home / "processed" / EXAMPLE.name).read_bytes() == EXAMPLE.read_bytes()
    assert "Own Your Archive" in (home / "site" / "feed.atom").read_text()


def test_a_second_run_and_a_second_drop_publish_nothing_new(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    shutil.copy(EXAMPLE, home / "inbox")
    assert crosspost(home, "run", "--once").returncode == 0
    before = status(home)
    assert crosspost(home, "run", "--once").returncode == 0
    shutil.copy(EXAMPLE, home / "inbox" / "again.md")
    assert crosspost(home, "run", "--once").returncode == 0
    assert status(home) == before
    assert len(list((home / "outbox" / "announce").glob("*.json"))) == 1
    assert (home / "processed" / "again.md").exists()


def test_broken_file_goes_to_failed_with_its_reason_while_others_go_through(
    tmp_path: Path,
) -> None:
    home = make_home(tmp_path)
    broken = b"---\ntitle: [unclosed\n---\nbody\n"
    (home / "inbox" / "broken.md").write_bytes(broken)
    (home / "inbox" / "junk.docx").write_bytes(b"\x00\x01 not a zip")
    shutil.copy(EXAMPLE, home / "inbox")
    result = crosspost(home, "run", "--once")
    assert result.returncode == 3, result.stderr  # files were refused: the documented code
    assert (home / "failed" / "broken.md").read_bytes() == broken
    reason = (home / "failed" / "broken.md.error.txt").read_text()
    assert "broken.md" in reason and "Reason:" in reason
    assert "Word document" in (home / "failed" / "junk.docx.error.txt").read_text()
    assert {r["state"] for r in status(home)} == {"published"}


def test_daemon_publishes_a_file_dropped_while_it_runs(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    daemon = start_daemon(home)
    try:
        time.sleep(1.0)
        shutil.copy(EXAMPLE, home / "inbox")
        published = wait_for(
            lambda: len([r for r in status(home) if r["state"] == "published"]) == 2, timeout=30
        )
    finally:
        output = stop_daemon(daemon)
    assert published, output
    assert "daemon stopped" in output


def test_work_that_fell_due_while_down_runs_on_start_once(tmp_path: Path) -> None:
    config = """
    timezone = "UTC"
    inbox_poll_seconds = 0.2
    [targets.site]
    platform = "static_site"
    [targets.later]
    platform = "outbox"
    offset = "2s"
    """
    home = make_home(tmp_path, config)
    shutil.copy(EXAMPLE, home / "inbox")
    assert crosspost(home, "run", "--once").returncode == 0
    assert {r["target"]: r["state"] for r in status(home)} == {
        "site": "published",
        "later": "scheduled",
    }
    later_id = next(r["id"] for r in status(home) if r["target"] == "later")
    persist_old_style_job(home, later_id)  # as the version before in-memory timers did
    time.sleep(2.5)  # the daemon is down while `later` falls due
    daemon = start_daemon(home)
    try:
        done = wait_for(lambda: all(r["state"] == "published" for r in status(home)), 30)
        time.sleep(1.0)
    finally:
        output = stop_daemon(daemon)
    assert done, output
    assert len(list((home / "outbox" / "later").glob("*.json"))) == 1


def persist_old_style_job(home: Path, pub_id: int) -> None:
    """A date job in APScheduler's SQLAlchemy job store, naming the old textual entry point."""
    from apscheduler.job import Job
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.date import DateTrigger

    scheduler = BackgroundScheduler(timezone=UTC)  # never started: only the store is used
    store = SQLAlchemyJobStore(url=f"sqlite:///{home / 'crosspost.db'}")
    store.start(scheduler, "default")
    due = datetime.now(UTC)
    store.add_job(
        Job(
            scheduler,
            id=f"pub-{pub_id}",
            func="pipeline.daemon:fire_publication",
            trigger=DateTrigger(run_date=due, timezone=UTC),
            args=[pub_id],
            kwargs={},
            executor="default",
            name="fire_publication",
            misfire_grace_time=3600,
            coalesce=True,
            max_instances=1,
            next_run_time=due,
        )
    )
    store.shutdown()
    with sqlite3.connect(home / "crosspost.db") as db:
        assert db.execute("SELECT count(*) FROM apscheduler_jobs").fetchone() == (1,)


def test_edited_essay_updates_the_published_page_in_place(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    shutil.copy(EXAMPLE, home / "inbox")
    assert crosspost(home, "run", "--once").returncode == 0
    edited = EXAMPLE.read_text().replace("Rent is cheap", "Rent is cheap today")
    (home / "inbox" / "home-base-v2.md").write_text(edited)
    result = crosspost(home, "run", "--once")
    assert result.returncode == 0, result.stderr
    rows = status(home)
    assert len(rows) == 2 and {r["state"] for r in rows} == {"published"}
    page = next(p for p in (home / "site").glob("*.html") if p.name not in SITE_FILES)
    assert "Rent is cheap today" in page.read_text()
    assert len(list((home / "outbox" / "announce").glob("*.json"))) == 1
    logs = crosspost(home, "logs").stdout
    assert "updated in place" in logs


def test_operator_can_cancel_reschedule_and_retry(tmp_path: Path) -> None:
    config = """
    timezone = "UTC"
    [targets.site]
    platform = "static_site"
    [targets.later]
    platform = "outbox"
    offset = "1d"
    """
    home = make_home(tmp_path, config)
    shutil.copy(EXAMPLE, home / "inbox")
    assert crosspost(home, "run", "--once").returncode == 0
    later = next(r for r in status(home) if r["target"] == "later")
    cancelled = crosspost(home, "cancel", str(later["id"]))
    assert cancelled.returncode == 0 and "cancelled" in cancelled.stdout
    refused = crosspost(home, "cancel", "999")
    assert refused.returncode == 2 and "no publication 999" in refused.stderr
    moved = crosspost(home, "reschedule", str(later["id"]), "now")
    assert moved.returncode == 0, moved.stderr
    assert crosspost(home, "run", "--once").returncode == 0
    assert {r["state"] for r in status(home)} == {"published"}
    again = crosspost(home, "retry", str(later["id"]))
    assert again.returncode == 2 and "published" in again.stderr


def test_bad_setting_stops_at_start_naming_key_file_and_allowed(tmp_path: Path) -> None:
    home = make_home(
        tmp_path,
        """
    timezone = "Mars/Olympus"
    [targets.blog]
    platform = "wordpresss"
    """,
    )
    result = crosspost(home, "run", "--once")
    assert result.returncode == 2
    assert "crosspost.toml" in result.stderr
    assert "targets.blog.platform" in result.stderr and "wordpress" in result.stderr
    assert "timezone" in result.stderr and "IANA" in result.stderr


def test_plan_shows_targets_and_times_without_publishing(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    result = crosspost(home, "plan", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert "site" in result.stdout and "after site" in result.stdout
    assert not (home / "crosspost.db").exists() or status(home) == []
