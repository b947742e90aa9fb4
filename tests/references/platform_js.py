"""The platforms' own JavaScript libraries, run by node, as references for our output.

Why: our X counter and Bluesky facets re-implement rules that live in JavaScript
(`twitter-text`'s parseTweet, `@atproto/api`'s RichText.detectFacets and lexicon checks).
Comparing with the real libraries catches every drift our own examples would miss.

How: both packages (pinned; @atproto/api at the version @atproto/dev-env brings for the
test PDS) are installed from npm into the shared test cache under a file lock (cold ≈ 10 s,
warm: nothing to do), then `platform_references.mjs` runs as one long-lived node process that
answers one JSON request per line, so a property test can ask thousands of questions.
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import regex

from pipeline.render.facets import LINK, TAG
from tests.servers.cache import CACHE

PACKAGES = ("@atproto/api@0.20.44", "twitter-text@3.1.0")
INSTALL_DIR = CACHE / "platform-js"
SCRIPT = Path(__file__).with_name("platform_references.mjs")
INSTALL_TIMEOUT = 600.0


def install() -> Path:
    """Install the pinned packages into the cache unless already there; return the folder."""
    stamp = INSTALL_DIR / (".installed-" + "-".join(PACKAGES).replace("/", "_"))
    INSTALL_DIR.mkdir(parents=True, exist_ok=True)
    with open(INSTALL_DIR.parent / "platform-js.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two pytest processes must not npm-install at once
        if not stamp.exists():
            npm = shutil.which("npm")
            if npm is None:
                raise RuntimeError("npm is not installed; the JavaScript references need it")
            if not (INSTALL_DIR / "package.json").exists():
                subprocess.run(
                    [npm, "init", "-y"], cwd=INSTALL_DIR, check=True, capture_output=True
                )
            done = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", *PACKAGES],
                cwd=INSTALL_DIR,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
            )
            if done.returncode != 0:
                raise RuntimeError(
                    f"npm install {' '.join(PACKAGES)} failed:\n{done.stderr[-4000:]}"
                )
            stamp.write_text("\n".join(PACKAGES))
        # ESM resolves imports next to the script, so it runs from the install folder.
        script = INSTALL_DIR / SCRIPT.name
        if not script.exists() or script.read_bytes() != SCRIPT.read_bytes():
            staged = script.with_suffix(".tmp")
            shutil.copyfile(SCRIPT, staged)
            staged.replace(script)
    return script


class PlatformReferences:
    """One node process answering questions about X and Bluesky text."""

    def __init__(self) -> None:
        script = install()
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not installed; the JavaScript references need it")
        self.process = subprocess.Popen(
            [node, str(script)],
            cwd=script.parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the reference process ended (exit {self.process.poll()})")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    def x_weighted_length(self, text: str) -> int:
        """twitter-text 3.1's parseTweet weightedLength (config v3, twemoji-parser 11)."""
        return int(self.ask({"op": "x", "text": text})["weightedLength"])

    def bluesky_facets(self, text: str) -> list[dict[str, Any]]:
        """RichText.detectFacets' link and tag facets, ordered by byte offset."""
        return list(self.ask({"op": "bluesky", "text": text})["facets"])

    def bluesky_problems(self, create_record_input: dict[str, Any]) -> dict[str, str | None]:
        """Lexicon errors for the post record and the createRecord input (None: valid)."""
        return dict(self.ask({"op": "validate", "input": create_record_input}))

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def as_we_mean_to_differ(text: str, facets: list[dict]) -> list[dict]:
    """The app's facets less the ones we leave out on purpose (pipeline/render/facets.py):
    a tag starting with a combining mark, a tag inside a link, a tag over 640 bytes."""
    links = [f["index"] for f in facets if f["features"][0]["$type"] == LINK]
    kept = []
    for facet in facets:
        feature = facet["features"][0]
        if feature["$type"] == TAG:
            index = facet["index"]
            if (
                regex.match(r"\p{M}", feature["tag"])
                or len(feature["tag"].encode()) > 640
                or any(
                    link["byteStart"] < index["byteEnd"] and index["byteStart"] < link["byteEnd"]
                    for link in links
                )
            ):
                continue
        kept.append(facet)
    return kept


@functools.cache
def platform_references() -> PlatformReferences:
    """The session's one reference process, started on first use and ended at exit."""
    references = PlatformReferences()
    atexit.register(references.close)
    return references
