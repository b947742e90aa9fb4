"""The connector journal, persisted in the publication row after every step.

`begin(i)` is committed before post i's request goes out and `done(i, remote)` after the
platform answered, each extending the claim's lease: a crash between the two leaves a post
in doubt, which the next attempt looks up before sending anything (connectors/base.py).
"""

from __future__ import annotations

from connectors.base import Remote
from pipeline.crashpoints import crashpoint
from pipeline.publishing.wiring import LEASE, Wiring


class StoreJournal:
    """One claimed publication's journal: `begun` indexes and the `remotes` answered."""

    def __init__(self, wiring: Wiring, pub_id: int, progress: dict[str, object] | None) -> None:
        self.wiring = wiring
        self.pub_id = pub_id
        self.started: list[int] = list(_ints((progress or {}).get("begun")))
        self.remotes: dict[str, dict[str, object]] = dict(_remotes((progress or {}).get("remotes")))
        self.extra = {k: v for k, v in (progress or {}).items() if k not in ("begun", "remotes")}

    @property
    def data(self) -> dict[str, object]:
        return {**self.extra, "begun": list(self.started), "remotes": dict(self.remotes)}

    def remote(self, index: int) -> Remote | None:
        raw = self.remotes.get(str(index))
        return Remote.model_validate(raw) if raw else None

    def begun(self, index: int) -> bool:
        return index in self.started

    def begin(self, index: int) -> None:
        if index not in self.started:
            self.started = [*self.started, index]
        self._save()
        crashpoint("before-request")

    def done(self, index: int, remote: Remote) -> None:
        crashpoint("after-response")
        self.remotes = {**self.remotes, str(index): remote.model_dump()}
        self._save()

    def undo(self, index: int) -> None:
        self.started = [i for i in self.started if i != index]
        self._save()

    def _save(self) -> None:
        self.wiring.store.save_progress(self.pub_id, self.data, self.wiring.now(), LEASE)


def _ints(raw: object) -> list[int]:
    return [i for i in raw if isinstance(i, int)] if isinstance(raw, list) else []


def _remotes(raw: object) -> dict[str, dict[str, object]]:
    if not isinstance(raw, dict):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, dict)}
