"""A zipped web page → Essay: Google Docs' "Download → Web page (.html, zipped)".

The download is one `.html` file beside an `images/` folder. The page is read like any
HTML file (the Google Docs profile recognises it); its pictures, which have no address
outside the archive, travel in the essay as `data:` URIs within the same limits as a Word
document's. The archive gets the same checks as a Word document before anything is read.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from pathlib import Path

from pipeline.document import Essay
from pipeline.errors import ReadError
from pipeline.readers import html
from pipeline.readers.docx import checked_copy
from pipeline.readers.docx_media import MAX_IMAGE_BYTES, EmbeddedPictures

KIND = "zipped web page"


def read(path: Path, data: bytes) -> Essay:
    """Read the page in the archive, its pictures carried with it."""
    archive = zipfile.ZipFile(io.BytesIO(checked_copy(path, data, kind=KIND, required=None)))
    names = [info.filename for info in archive.infolist() if not info.is_dir()]
    pages = [n for n in names if "/" not in n and n.lower().endswith((".html", ".htm"))]
    if len(pages) != 1:
        raise ReadError(
            path,
            "a zip archive that is neither a Word document nor a zipped web page "
            "(one .html file and its images)",
        )
    page = pages[0]
    essay = html.read(Path(page), archive.read(page))
    pictures = EmbeddedPictures()
    for image in essay.images():
        name = posixpath.normpath(image.src)
        info = archive.getinfo(name) if name in names else None
        if info is not None and info.file_size <= MAX_IMAGE_BYTES:
            pictures.add(image.src, archive.read(info))
    carried = pictures.embed(essay)
    # a picture that could not be carried has no address anywhere: leave it out
    return carried.model_copy(update={"blocks": [b for b in carried.blocks if not _left_behind(b)]})


def _left_behind(block: object) -> bool:
    src = getattr(block, "src", None)
    return (
        getattr(block, "type", None) == "image"
        and isinstance(src, str)
        and not src.startswith(("data:", "http://", "https://"))
    )
