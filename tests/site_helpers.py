"""Sample essays and images for the static site's tests, and a site to publish them to."""

from __future__ import annotations

import struct
import zlib
from datetime import date
from pathlib import Path
from typing import Any

from connectors.base import Account, MemoryJournal, Remote, RenderContext
from connectors.static_site import StaticSite
from pipeline.document import (
    Code,
    Essay,
    Heading,
    Image,
    Paragraph,
    Quote,
    Run,
    Table,
    TableCell,
)

OPTIONS = {
    "title": "Field Notes",
    "author": "Ada Walker",
    "description": "Essays on trains, archives and walking home the long way.",
    "base_url": "https://notes.example.org",
}


def png(width: int, height: int) -> bytes:
    """A real PNG (a soft two-colour gradient) of the given size, written by hand."""
    rows = []
    for y in range(height):
        shade = 90 + (120 * y) // max(1, height - 1)
        row = bytearray([0])
        for x in range(width):
            row += bytes((shade, 110 + (100 * x) // max(1, width - 1), 160))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def words(text: str) -> list[Run]:
    return [Run(text=text)]


def cell(text: str) -> TableCell:
    return TableCell(content=words(text))


def night_trains(image_url: str) -> Essay:
    """An essay with an image, a table, a quote and code: every styled block."""
    return Essay(
        title="Night Trains Are Back, and They Are Better Than You Remember",
        subtitle="Why the sleeper returned to Europe, and what it is like to take one",
        author="Ada Walker",
        published=date(2026, 11, 3),
        tags=["trains", "Europe"],
        blocks=[
            Paragraph(
                content=[
                    Run(text="The 22:10 to Hamburg leaves Vienna "),
                    Run(text="exactly on time", marks=("em",)),
                    Run(text=", which is the first surprise. The second is the "),
                    Run(text="couchette", marks=("strong",)),
                    Run(text=": clean sheets, a reading light, a window that opens."),
                ]
            ),
            Image(src=image_url, alt="A night train at a platform", caption="The 22:10"),
            Heading(level=2, content=words("What it costs")),
            Table(
                header=[cell("Route"), cell("Hours"), cell("From")],
                rows=[
                    [cell("Vienna – Hamburg"), cell("11"), cell("€ 59")],
                    [cell("Zurich – Amsterdam"), cell("12"), cell("€ 79")],
                    [cell("Brussels – Berlin"), cell("11"), cell("€ 49")],
                ],
                align=["left", "right", "right"],
            ),
            Quote(
                blocks=[
                    Paragraph(content=words("A train is a hotel that moves while you sleep.")),
                ]
            ),
            Paragraph(content=words("The booking systems are still from another century:")),
            Code(language="python", text="seats = [s for s in coach if s.free]\nprint(len(seats))"),
            Paragraph(content=words("But the trains themselves are a joy. Take one.")),
        ],
    )


def short_essay(index: int, **changes: Any) -> Essay:
    essay = Essay(
        title=f"Notes from the archive, part {index}",
        published=date(2026, 1, 1 + index % 28),
        tags=["archives"] if index % 2 else ["archives", "walking"],
        blocks=[
            Paragraph(
                content=words(f"Part {index}: what the boxes in the basement held this week.")
            )
        ],
    )
    return essay.model_copy(update=changes)


def site_at(home: Path, **options: Any) -> StaticSite:
    return StaticSite(
        Account(name="site", platform="static_site", home=str(home), options={**OPTIONS, **options})
    )


def publish(
    site: StaticSite, essay: Essay, key: str, syndication: list[dict[str, str]] | None = None
) -> Remote:
    ctx = RenderContext(
        target="site", options={**site.account.options, "syndication": syndication or []}
    )
    return site.publish(StaticSite.render(essay, ctx), key, MemoryJournal())


def update(site: StaticSite, remote: Remote, essay: Essay) -> Remote:
    ctx = RenderContext(target="site", options=dict(site.account.options))
    return site.update(remote, StaticSite.render(essay, ctx))


def every_page(site_folder: Path) -> list[Path]:
    return sorted(site_folder.rglob("*.html"))
