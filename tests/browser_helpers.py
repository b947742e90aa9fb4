"""Debian's Chromium driven by Playwright, for every browser test: launch it, open a page
that records what the page itself reports (errors, failed requests, dialogs), and take
screenshots (copied to docs/img/ with `UPDATE_SCREENSHOTS=1`, to be looked at first)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
DOCS_IMG = Path(__file__).resolve().parent.parent / "docs" / "img"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def open_page(
    browser: Browser, url: str, width: str, dark: bool = False, **context: object
) -> tuple[Page, list]:
    """A new page at `url`; the list collects page errors, console errors, failed requests
    and any dialog (which is dismissed)."""
    w, h = WIDTHS[width]
    page = browser.new_page(
        viewport={"width": w, "height": h}, color_scheme="dark" if dark else "light", **context
    )
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    page.on("requestfailed", lambda req: problems.append(f"failed: {req.url}"))

    def dialog(d: object) -> None:
        problems.append(f"dialog: {d.message}")  # type: ignore[attr-defined]
        d.dismiss()  # type: ignore[attr-defined]

    page.on("dialog", dialog)
    page.goto(url, wait_until="load")
    return page, problems


def shoot(page: Page, name: str, tmp_path: Path, full_page: bool) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMG / path.name)
    return path
