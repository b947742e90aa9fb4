"""The inbox takes a dropped file once it is complete, and moves every file it takes:
planned ones to processed/, unreadable ones to failed/ beside a note saying why."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.errors import ReadError
from pipeline.inbox import Inbox
from pipeline.publishing.pipeline import Pipeline
from pipeline.settings import Settings, TargetSettings

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "home-base.md"


def essay(title: str, body: str = "A paragraph about owning what you write.") -> bytes:
    return f"---\ntitle: {title}\n---\n\n{body}\n".encode()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def engine(home: Path) -> Iterator[Pipeline]:
    settings = Settings(
        database_url=f"sqlite:///{home.parent / 'crosspost.db'}",
        targets={"site": TargetSettings(platform="static_site")},
    )
    engine = Pipeline(home, settings)
    yield engine
    engine.close()


@pytest.fixture
def inbox(engine: Pipeline, home: Path) -> Inbox:
    return Inbox(engine, home, settle_seconds=0)


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_file_still_being_written_is_taken_only_once_its_size_is_stable(
    engine: Pipeline, home: Path
) -> None:
    inbox = Inbox(engine, home, settle_seconds=0.5)
    data = EXAMPLE.read_bytes()
    path = home / "inbox" / "essay.md"
    chunks = [data[:300], data[300:900], data[900:]]
    with path.open("wb") as handle:
        handle.write(chunks[0])
        handle.flush()
        assert inbox.ready_files(now=10.0) == []  # first sight
        assert inbox.ready_files(now=10.4) == []  # not yet settled
        handle.write(chunks[1])
        handle.flush()
        assert inbox.ready_files(now=10.6) == []  # grew: the wait starts again
        assert inbox.ready_files(now=11.0) == []
        handle.write(chunks[2])
        handle.flush()
        assert inbox.ready_files(now=11.2) == []
    assert inbox.ready_files(now=11.5) == []
    assert inbox.ready_files(now=11.7) == [path]  # unchanged for 0.5 s
    intake = inbox.take(path)
    assert intake.outcome == "new"
    stored = engine.store.essay(intake.essay_id)
    assert "Emoji and other scripts survive too" in stored.essay_json  # the last chunk's text
    assert (home / "processed" / "essay.md").read_bytes() == data


def test_hidden_temporary_and_swap_files_are_left_alone(inbox: Inbox, home: Path) -> None:
    ignored = [
        ".essay.md.swp",
        ".hidden.md",
        "essay.md~",
        "#essay.md#",
        "essay.md.tmp",
        "download.part",
        "big.crdownload",
        "~$draft.docx",
        ".~lock.essay.docx#",
    ]
    for name in ignored:
        (home / "inbox" / name).write_bytes(essay(name))
    assert inbox.scan() == []
    assert names(home / "inbox") == set(ignored)
    assert names(home / "processed") == set() and names(home / "failed") == set()
    assert inbox.engine.store.essays() == []


def test_symlink_pointing_outside_goes_to_failed_and_is_never_followed(
    inbox: Inbox, home: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "private.md"
    outside.write_bytes(essay("Private Notes"))
    (home / "inbox" / "link.md").symlink_to(outside)
    (home / "inbox" / "a folder").mkdir()
    results = inbox.scan()
    assert len(results) == 2 and all(isinstance(r, ReadError) for r in results)
    moved = home / "failed" / "link.md"
    assert moved.is_symlink() and os.readlink(moved) == str(outside)
    note = (home / "failed" / "link.md.error.txt").read_text(encoding="utf-8")
    assert "link.md" in note and "not a regular file" in note
    assert (home / "failed" / "a folder").is_dir()
    assert outside.read_bytes() == essay("Private Notes")  # untouched, still in place
    assert inbox.engine.store.essays() == []  # its content was never read
    assert names(home / "inbox") == set() and names(home / "processed") == set()


def test_names_with_spaces_unicode_and_dots_are_taken_and_kept_inside_processed(
    inbox: Inbox, home: Path
) -> None:
    dropped = {"my essay.md": "Spaces", "Ünïcode – 東京 🚆.md": "Unicode", "a..b.md": "Dots"}
    for name, title in dropped.items():
        (home / "inbox" / name).write_bytes(essay(title))
    results = inbox.scan()
    assert [r.outcome for r in results] == ["new"] * 3
    assert names(home / "processed") == {"my essay.md", "Ünïcode – 東京 🚆.md", "a__b.md"}
    assert (home / "processed" / "a__b.md").read_bytes() == essay("Dots")
    assert (home / "processed" / "Ünïcode – 東京 🚆.md").read_bytes() == essay("Unicode")
    assert sorted(e.source_name for e in inbox.engine.store.essays()) == sorted(dropped)
    assert names(home) >= {"inbox", "processed", "failed"}
    assert not list(home.parent.glob("*.md"))  # nothing escaped the home folder


def test_same_name_dropped_again_gets_a_numbered_name(inbox: Inbox, home: Path) -> None:
    for index, title in enumerate(["First", "Second", "Third"]):
        (home / "inbox" / "essay.md").write_bytes(essay(title))
        (home / "inbox" / "bad.md").write_bytes(b"")
        inbox.scan()
        assert names(home / "inbox") == set(), index
    processed = home / "processed"
    assert names(processed) == {"essay.md", "essay.1.md", "essay.2.md"}
    assert (processed / "essay.md").read_bytes() == essay("First")
    assert (processed / "essay.2.md").read_bytes() == essay("Third")
    assert names(home / "failed") == {
        "bad.md",
        "bad.md.error.txt",
        "bad.1.md",
        "bad.1.md.error.txt",
        "bad.2.md",
        "bad.2.md.error.txt",
    }
    assert [e.title for e in inbox.engine.store.essays()] == ["First", "Second", "Third"]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.md", b"", "the file is empty"),
        ("blank.txt", b"  \n\n \t\n", "the file is empty"),
        ("image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\xfd", "not valid UTF-8"),
        ("nulls.txt", b"Title\x00\x00\x00\x01\x02", "binary data"),
        ("fake.docx", b"\x00\x01 not a zip", "not a Word document"),
        ("archive.zip", b"PK\x03\x04" + bytes(range(256)), "zip archive"),
    ],
)
def test_empty_or_junk_file_goes_to_failed_with_its_bytes_and_a_readable_reason(
    inbox: Inbox, home: Path, name: str, data: bytes, reason: str
) -> None:
    (home / "inbox" / name).write_bytes(data)
    (home / "inbox" / "good.md").write_bytes(essay("Good One"))
    results = inbox.scan()
    assert sorted(type(r).__name__ for r in results) == ["Intake", "ReadError"]
    assert (home / "failed" / name).read_bytes() == data
    note = (home / "failed" / f"{name}.error.txt").read_text(encoding="utf-8")
    assert note.startswith(f"{name} could not be published.")
    assert reason in note
    assert (home / "processed" / "good.md").exists()  # one bad file never stops the others
