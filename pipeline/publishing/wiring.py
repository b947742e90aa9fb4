"""What every part of the lifecycle is handed: the store, the clock, settings and the rest.

`Pipeline` (the composition root) is a `Wiring` and passes itself to its parts, so edited
settings swapped in once (`Pipeline.use_settings`) are what every part sees next.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta
from pathlib import Path

from pipeline.accounts import AccountBook
from pipeline.notify import Notifier
from pipeline.publishing.seams import Arm, Clock, Log
from pipeline.ratelimit import RateLimits
from pipeline.settings import Settings
from pipeline.store.publications import PublicationStore

LEASE = timedelta(minutes=10)  # a claim not renewed for this long is reaped as abandoned
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Wiring:
    """The shared parts; `on_scheduled` is told (after commit) which publications got a new
    due time, so a timer can arm them."""

    home: Path
    settings: Settings
    store: PublicationStore
    now: Clock
    log: Log
    notifier: Notifier
    accounts: AccountBook
    rate_limits: RateLimits
    on_scheduled: Arm | None

    def arm(self, pub_ids: list[int]) -> None:
        """Re-arm the timer for publications with a new due time (none armed: a no-op)."""
        if pub_ids and self.on_scheduled is not None:
            self.on_scheduled(pub_ids)
