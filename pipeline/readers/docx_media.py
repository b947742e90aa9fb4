"""What a Word document (or a zipped page) carries besides text: pictures, foot/endnotes.

Pictures: while mammoth converts, each picture gets a placeholder address (a relative
`docx-picture-N`, which the converter keeps like any relative image); once the essay is
built, each placeholder becomes a `data:` URI, the only way an essay can carry a picture
that has no address of its own. Formats a browser shows everywhere only, within limits.

Notes: mammoth writes a reference as `<sup><a href="#footnote-1" id="footnote-ref-1">[1]
</a></sup>` (`endnote-…` for endnotes) and the notes as `<li id="footnote-1">` items
with a "↑" back-link; both are rewritten in `footnote_html`'s convention.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from bs4 import BeautifulSoup, Tag

from pipeline.document import Essay
from pipeline.readers.footnote_html import NoteSection, label_of, note_ref

MAX_IMAGE_BYTES = 1024 * 1024
MAX_IMAGES_BYTES = 4 * 1024 * 1024
# What the bytes are, not what the file claims: the signatures of the formats kept.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
PLACEHOLDER = "docx-picture-"
_NOTE_ID = re.compile(r"^(?:footnote|endnote)-\d+$")
_BACK_LINK = re.compile(r"^(?:footnote|endnote)-ref-\d+$")


def picture_type(data: bytes) -> str | None:
    """The picture's media type read from its first bytes; None for anything else."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)


@dataclass
class EmbeddedPictures:
    """Pictures read from the document, by placeholder, within the size limits."""

    uris: dict[str, str] = field(default_factory=dict)
    total: int = 0

    def add(self, name: str, data: bytes) -> bool:
        """Carry `data` for image address `name`, if it is a picture within the limits."""
        content_type = picture_type(data)
        if content_type is None or len(data) > MAX_IMAGE_BYTES:
            return False
        if self.total + len(data) > MAX_IMAGES_BYTES:
            return False
        self.total += len(data)
        encoded = base64.b64encode(data).decode("ascii")
        self.uris[name] = f"data:{content_type};base64,{encoded}"
        return True

    def placeholder(self, image: Any) -> dict[str, str]:
        """mammoth's image callback: the `<img>` attributes for one picture."""
        with image.open() as stream:
            data = stream.read(MAX_IMAGE_BYTES + 1)
        name = f"{PLACEHOLDER}{len(self.uris) + 1}"
        return {"src": name} if self.add(name, data) else {}

    def embed(self, essay: Essay) -> Essay:
        """The essay with each placeholder address replaced by its picture."""
        if not self.uris:
            return essay
        return Essay.model_validate(self._replace(essay.model_dump()))

    def _replace(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: self.uris.get(item, item) if key == "src" else self._replace(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self._replace(item) for item in value]
        return value


def rewrite_notes(soup: BeautifulSoup, root: Tag) -> None:
    """mammoth's footnote and endnote markup → the convention, notes in reference order."""
    items = {str(li["id"]): li for li in root.find_all("li", id=_NOTE_ID)}
    if not items:
        return
    section = NoteSection(soup)
    lists = {id(li.parent): li.parent for li in items.values() if li.parent is not None}
    for anchor in root.find_all("a", id=re.compile(r"^(?:footnote|endnote)-ref-\d+$")):
        target = str(anchor.get("href") or "").lstrip("#")
        number = anchor.get_text().strip().strip("[]")
        label = label_of(number)
        holder = (
            anchor.parent if anchor.parent is not None and anchor.parent.name == "sup" else anchor
        )
        holder.replace_with(note_ref(soup, label, number))
        item = items.pop(target, None)
        if item is None:
            continue
        for back in item.find_all("a", href=True):
            if _BACK_LINK.match(str(back["href"]).lstrip("#")):
                back.decompose()
        section.add(label, [child.extract() for child in list(item.children)])
        item.decompose()
    for item in items.values():  # a note without a reference
        item.decompose()
    for listing in lists.values():
        if isinstance(listing, Tag) and not listing.find("li"):
            listing.decompose()
    section.append_to(root)


def attach_captions(soup: BeautifulSoup, root: Tag) -> None:
    """A Caption-style paragraph right after a picture becomes that picture's caption."""
    for caption in root.select("p.docx-caption"):
        previous = caption.find_previous_sibling(True)
        picture = previous.find("img") if isinstance(previous, Tag) else None
        if (
            not isinstance(previous, Tag)
            or not isinstance(picture, Tag)
            or previous.get_text(strip=True)
        ):
            del caption["class"]  # a caption with no picture above it stays a paragraph
            continue
        figure = soup.new_tag("figure")
        figure.append(picture.extract())
        label = soup.new_tag("figcaption")
        for child in list(caption.children):
            label.append(child.extract())
        figure.append(label)
        previous.replace_with(figure)
        caption.decompose()
