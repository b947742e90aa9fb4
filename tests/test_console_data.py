"""The console's data door: keyset paging visits every matching publication exactly once,
forwards and back, newest first or by due time; a refused file goes back into the inbox;
upload names are made safe."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from pipeline.console.data import ConsoleData, QueueFilter, StepRefused, safe_name
from pipeline.publishing.pipeline import Pipeline
from pipeline.settings import load_settings
from pipeline.store import EssayRow, PublicationRow
from tests.daemon_helpers import make_home

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def data(tmp_path: Path) -> ConsoleData:
    home = make_home(tmp_path)
    engine = Pipeline(home, load_settings(home))
    with engine.store.engine.begin() as conn:
        conn.execute(
            insert(EssayRow),
            [
                {
                    "slug": f"e{i}",
                    "title": f"Essay {i}",
                    "content_hash": uuid.uuid4().hex,
                    "source_name": f"e{i}.md",
                    "essay_json": "{}",
                }
                for i in range(1, 31)
            ],
        )
        conn.execute(
            insert(PublicationRow),
            [
                {
                    "essay_id": 1 + n // 4,
                    "target": f"t{n % 4}",
                    "platform": "outbox",
                    "state": "failed" if n % 3 == 0 else "scheduled",
                    # due times out of id order, some equal: the keyset needs the id too
                    "due_at": NOW + timedelta(hours=(n * 7) % 40),
                    "idempotency_key": uuid.uuid4().hex,
                }
                for n in range(118)
            ],
        )
    yield ConsoleData(engine)
    engine.close()


def walk(data: ConsoleData, filters: QueueFilter, size: int) -> tuple[list[int], list[int]]:
    """Every page forwards to the end, then every page back to the start."""
    forwards: list[int] = []
    page = data.queue(filters, size=size)
    pages = [page]
    while True:
        forwards += [r.id for r in page.rows]
        if page.following is None:
            break
        page = data.queue(filters, after=page.following, size=size)
        pages.append(page)
    backwards: list[int] = [r.id for r in page.rows]
    while page.previous is not None:
        page = data.queue(filters, before=page.previous, size=size)
        backwards = [r.id for r in page.rows] + backwards
    return forwards, backwards


@pytest.mark.parametrize(
    "filters",
    [
        QueueFilter(),
        QueueFilter(state="failed"),
        QueueFilter(target="t2"),
        QueueFilter(since=NOW + timedelta(hours=5), until=NOW + timedelta(hours=30)),
        QueueFilter(state="scheduled", since=NOW),
    ],
)
def test_paging_visits_every_matching_row_once_both_ways(
    data: ConsoleData, filters: QueueFilter
) -> None:
    every = data.queue(filters, size=1000)
    assert every.following is None and every.previous is None
    expected = [r.id for r in every.rows]
    assert len(expected) == every.matching > 0
    forwards, backwards = walk(data, filters, size=7)
    assert forwards == expected and backwards == expected
    if filters.since is None:
        assert expected == sorted(expected, reverse=True)  # newest first
    else:
        dues = [(r.due_at, r.id) for r in every.rows]
        assert dues == sorted(dues)  # by due time


def test_a_broken_cursor_starts_from_the_first_page(data: ConsoleData) -> None:
    first = data.queue(QueueFilter(), size=5)
    again = data.queue(QueueFilter(), after="not-a-cursor", size=5)
    assert [r.id for r in again.rows] == [r.id for r in first.rows]


def test_a_refused_file_goes_back_into_the_inbox_and_loses_its_note(data: ConsoleData) -> None:
    failed = data.home / "failed"
    (failed / "draft.md").write_text("# Draft\n", encoding="utf-8")
    (failed / "draft.md.error.txt").write_text(
        "draft.md could not be published.\n\nReason: it has no title\n\nThe original file...",
        encoding="utf-8",
    )
    assert data.failed_files() == {"draft.md": "it has no title"}
    said = data.retry_file("draft.md")
    assert "moved back into inbox/ as draft.md" in said
    assert (data.home / "inbox" / "draft.md").read_text(encoding="utf-8") == "# Draft\n"
    assert data.failed_files() == {}
    with pytest.raises(StepRefused, match="no refused file named"):
        data.retry_file("../crosspost.toml")


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("essay.md", "essay.md"),
        ("../../etc/.my essay?.MD", "my-essay.md"),
        ("C:\\Users\\ada\\Notes from the archive.docx", "Notes-from-the-archive.docx"),
        ("....md", "essay.md"),
        ("ünïcode näme.txt", "n-code-n-me.txt"),
    ],
)
def test_an_upload_name_is_made_safe(given: str, kept: str) -> None:
    assert safe_name(given) == kept


def test_an_upload_of_a_type_the_inbox_does_not_read_is_refused() -> None:
    with pytest.raises(StepRefused, match="not a file type the inbox reads"):
        safe_name("run.sh")


def test_the_logs_page_reads_the_newest_lines_across_a_rotation(tmp_path: Path) -> None:
    from pipeline.console.data import recent_log_lines

    folder = tmp_path / "logs"
    folder.mkdir()
    old = "".join(f'{{"event": "old {n}", "level": "info"}}\n' for n in range(50))
    new = "".join(f'{{"event": "new {n}", "level": "info"}}\n' for n in range(20))
    (folder / "crosspost.jsonl.1").write_text(old, encoding="utf-8")
    (folder / "crosspost.jsonl").write_text(new, encoding="utf-8")
    every = [line["event"] for line in recent_log_lines(folder, 1_000_000)]
    assert every == [f"old {n}" for n in range(50)] + [f"new {n}" for n in range(20)]
    budget = len(new.encode()) + 100  # the newest file and a part of the older one
    some = [line["event"] for line in recent_log_lines(folder, budget)]
    assert some[-20:] == [f"new {n}" for n in range(20)]
    assert 0 < len(some) - 20 < 5 and some[0].startswith("old ")  # whole lines only


def test_the_console_password_is_a_secret_that_logs_redact(tmp_path: Path) -> None:
    home = make_home(
        tmp_path, '[console]\nbind = "0.0.0.0"\npassword = "a-console-password-1234"\n'
    )
    settings = load_settings(home)
    assert "a-console-password-1234" in settings.secret_values()
    assert "a-console-password-1234" not in repr(settings)
    assert not settings.console.is_loopback()
    assert load_settings(make_home(tmp_path / "other")).console.is_loopback()
