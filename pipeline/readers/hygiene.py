"""Text and link hygiene: the one pass every essay takes on its way out of a reader.

Whatever the source (a pasted Medium page, a Word file, a feed), some characters must
never reach a platform: C0/C1 control characters make the Atom feed ill-formed XML (every
feed reader then refuses it), U+FFFC is the object placeholder macOS pastes where an image
was, a stray U+FEFF is an invisible byte-order mark in mid-text. Links are normalised
here too, so no renderer has to: unsafe schemes refused, characters that break an HTML
attribute or a Markdown link percent-encoded, tracking parameters and share links gone.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel

from pipeline.document import Essay, Run
from pipeline.readers.urls import encode_url, safe_href, safe_src

# C0 controls but tab and newline; DEL and the C1 range; surrogates; the object
# replacement character; a BOM anywhere; the two non-characters XML forbids.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffc\ufffe\uffff]")
_CARRIAGE_RETURN = re.compile(r"\r\n?")

# Images a reader embedded itself (a Word document's pictures): raster only, never SVG.
INLINE_IMAGE = re.compile(r"^data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$")

_SHARE_HOSTS = re.compile(
    r"^(?:www\.)?(?:twitter\.com/intent|x\.com/intent|facebook\.com/sharer"
    r"|linkedin\.com/(?:shareArticle|sharing)|reddit\.com/submit|substack\.com/share"
    r"|api\.whatsapp\.com/send|t\.me/share)",
    re.IGNORECASE,
)
_URL_KEYS = frozenset({"href", "canonical_url", "url"})


def clean_text(text: str) -> str:
    """`text` without forbidden characters; a CR or CRLF becomes a newline."""
    if "\r" in text:
        text = _CARRIAGE_RETURN.sub("\n", text)
    return FORBIDDEN.sub("", text)


def is_tracking_parameter(key: str, value: str, host: str = "") -> bool:
    """`utm_*` and click ids anywhere, Medium's `source=rss…`, Substack's `r=` referrer."""
    lowered = key.lower()
    return (
        lowered.startswith("utm_")
        or lowered in {"fbclid", "gclid", "mc_eid"}
        or (lowered == "source" and value.startswith("rss"))
        or (lowered == "r" and host.endswith("substack.com"))
    )


def strip_tracking(url: str) -> str:
    """The URL without tracking parameters; untouched (encoding kept) when it has none."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    host = parts.netloc.lower()
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not is_tracking_parameter(k, v, host)]
    if len(kept) == len(pairs):
        return url
    return urlunsplit(parts._replace(query=urlencode(kept)))


def is_share_link(url: str) -> bool:
    """A "share this on …" link: a button, never part of what the author wrote."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"}:
        return False
    host_and_path = parts.netloc.lower() + parts.path
    return bool(_SHARE_HOSTS.match(host_and_path)) or any(
        key == "action" and value == "share" for key, value in parse_qsl(parts.query)
    )


def clean_href(href: str | None) -> str | None:
    """A link target fit to publish, or None: http(s), mailto or relative, percent-encoded,
    without tracking parameters; never a share link or a `javascript:`-like scheme."""
    if href is None:
        return None
    href = safe_href(clean_text(href).strip())
    if not href:
        return None
    href = encode_url(href)
    if is_share_link(href):
        return None
    return strip_tracking(href)


def clean_src(src: str | None) -> str | None:
    """An image source fit to publish: http(s) or relative, or a raster data: URI."""
    if src is None:
        return None
    src = clean_text(src).strip()
    if INLINE_IMAGE.match(src):
        return src
    src = safe_src(src)
    return encode_url(src) if src else None


def _is_empty_run(value: Any) -> bool:
    return isinstance(value, dict) and "marks" in value and not value.get("text")


def _clean_value(value: Any, key: str | None) -> Any:
    if isinstance(value, str):
        if key in _URL_KEYS:
            return clean_href(value)
        if key == "src":
            return clean_src(value)
        return clean_text(value)
    if isinstance(value, dict):
        return {k: _clean_value(v, k) for k, v in value.items()}
    if isinstance(value, tuple):  # marks
        return tuple(_clean_value(item, None) for item in value)
    if isinstance(value, list):
        cleaned = [_clean_value(item, None) for item in value]
        return [item for item in cleaned if not _is_empty_run(item)]
    return value


def _drop_unsourced_images(value: Any) -> Any:
    """Images whose source was refused are left out (an `Image` needs a `src`)."""
    if isinstance(value, dict):
        return {k: _drop_unsourced_images(v) for k, v in value.items()}
    if isinstance(value, list):
        return [
            _drop_unsourced_images(item)
            for item in value
            if not (isinstance(item, dict) and "src" in item and item["src"] is None)
        ]
    return value


def _collect(value: Any, texts: list[str], urls: set[tuple[str, str]], key: str) -> None:
    """Every string under `value`, texts apart from URLs (by field name), without copying."""
    if isinstance(value, str):
        if key in _URL_KEYS or key == "src":
            urls.add((key, value))
        else:
            texts.append(value)
    elif isinstance(value, Run):  # most nodes: read directly, no generic walk
        texts.append(value.text)
        if value.href is not None:
            urls.add(("href", value.href))
    elif isinstance(value, BaseModel):
        for name, item in value.__dict__.items():
            if type(item) is str:  # a field's own text: no call for it
                if name in _URL_KEYS or name == "src":
                    urls.add((name, item))
                else:
                    texts.append(item)
            elif item is not None and type(item) is not int and type(item) is not bool:
                _collect(item, texts, urls, name)
    elif isinstance(value, list | tuple):
        for item in value:
            if type(item) is Run:  # a paragraph's runs: no call for each
                texts.append(item.text)
                if item.href is not None:
                    urls.add(("href", item.href))
            else:
                _collect(item, texts, urls, key)
    elif isinstance(value, dict):
        for name, item in value.items():
            _collect(item, texts, urls, str(name))


def _needs_cleaning(essay: Essay) -> bool:
    """Whether any text or URL would change: one look at every string, no rebuild."""
    texts: list[str] = []
    urls: set[tuple[str, str]] = set()
    _collect(essay, texts, urls, "")
    if FORBIDDEN.search("\n".join(texts)) or any("\r" in text for text in texts):
        return True
    return any((clean_src(url) if key == "src" else clean_href(url)) != url for key, url in urls)


def clean_essay(essay: Essay) -> Essay:
    """The essay with every text cleaned and every URL normalised (itself when already so)."""
    if not _needs_cleaning(essay):
        return essay
    raw = essay.model_dump()
    cleaned = _drop_unsourced_images(_clean_value(raw, None))
    if cleaned == raw:
        return essay
    return Essay.model_validate(cleaned)
