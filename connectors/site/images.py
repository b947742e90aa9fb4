"""Images an essay points at, fetched once into `site/images/` and served from there.

Each file is named by a hash of its bytes, so the same image used twice is stored once and
a changed image gets a new name (no stale caches). `images/sources.json` remembers which
URL gave which file, so a republished essay fetches nothing again. An image that cannot be
fetched keeps its original URL, and the reason is logged. Every `<img>` gets its `width`
and `height` (read from the file's header) and `loading="lazy"`.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.local_files import locked, write_atomic
from connectors.site.imagesize import image_extension, image_size
from pipeline.fetch import FetchError, fetch_image, shown
from pipeline.logs import get_logger

FOLDER = "images"
SOURCES = "sources.json"
# an <img> tag as the sanitiser writes it: attribute values always double-quoted
IMG_TAG = re.compile(r'<img(?P<attrs>(?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*/?>')
ATTRIBUTE = re.compile(r'([^\s=>]+)(?:="([^"]*)")?')


@dataclass
class StoredImage:
    path: str  # relative to the site folder, e.g. images/3f2a….png
    width: int | None
    height: int | None


@dataclass
class LocalImages:
    """The body with its images localised, and the first image (for link cards)."""

    html: str
    first: dict[str, Any] | None


def localize_images(body: str, site: Path, max_bytes: int) -> LocalImages:
    """Fetch the body's http(s) images into the site and point the `<img>` tags at them."""
    first: dict[str, Any] | None = None

    def replace(match: re.Match[str]) -> str:
        nonlocal first
        attrs = {
            name: html.unescape(value or "") for name, value in ATTRIBUTE.findall(match["attrs"])
        }
        src = attrs.get("src", "")
        stored = (
            stored_image(src, site, max_bytes) if src.startswith(("http://", "https://")) else None
        )
        if stored is not None:
            attrs["src"] = stored.path
            if stored.width and stored.height:
                attrs["width"], attrs["height"] = str(stored.width), str(stored.height)
        attrs["loading"] = "lazy"
        attrs["decoding"] = "async"
        if first is None and attrs.get("src"):
            first = {k: attrs.get(k) for k in ("src", "alt", "width", "height")}
        return (
            "<img" + "".join(f' {k}="{html.escape(v, quote=True)}"' for k, v in attrs.items()) + ">"
        )

    return LocalImages(IMG_TAG.sub(replace, body), first)


def stored_image(url: str, site: Path, max_bytes: int) -> StoredImage | None:
    """The local copy of `url`, fetched now if this site never fetched it; None on failure."""
    folder = site / FOLDER
    known = _sources(folder).get(url)
    if known and (site / known["path"]).exists():
        return StoredImage(known["path"], known.get("width"), known.get("height"))
    try:
        got = fetch_image(url, max_bytes=max_bytes)
    except FetchError as exc:
        get_logger().warning("image kept at its original address", url=shown(url), why=str(exc))
        return None
    extension = image_extension(got.content)
    if extension is None:
        get_logger().warning(
            "image kept at its original address",
            url=shown(url),
            why=f"not a PNG, GIF, JPEG or WebP file ({got.content_type})",
        )
        return None
    name = f"{hashlib.sha256(got.content).hexdigest()[:32]}.{extension}"
    target = folder / name
    if not target.exists():
        _write_bytes(target, got.content)
    width, height = image_size(got.content) or (None, None)
    stored = StoredImage(f"{FOLDER}/{name}", width, height)
    with locked(folder):
        sources = _sources(folder)
        sources[url] = {"path": stored.path, "width": width, "height": height}
        write_atomic(folder / SOURCES, json.dumps(sources, indent=1, sort_keys=True))
    return stored


def _sources(folder: Path) -> dict[str, Any]:
    path = folder / SOURCES
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _write_bytes(path: Path, data: bytes) -> None:
    """Write beside, then rename: a reader never sees half an image."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(partial, path)
