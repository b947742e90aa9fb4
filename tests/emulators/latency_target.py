"""The Mastodon emulator with a fixed delay on every answer: a platform far away.

Scale-out is about waiting on the network in parallel; on loopback an answer takes well
under a millisecond, so N publishers would only show CPU contention. `latency` seconds are
slept before each request is handled (concurrent requests wait concurrently, as a real
server's would). The rate limit is lifted unless given, so throughput is the publishers'.
"""

from __future__ import annotations

import time
from typing import Any

from tests.emulators.base import Request, Response
from tests.emulators.mastodon import MastodonEmulator


class SlowMastodon(MastodonEmulator):
    """`MastodonEmulator` whose every answer takes `latency` seconds."""

    name = "slow-mastodon"

    def __init__(self, latency: float = 0.02, **kw: Any) -> None:
        kw.setdefault("rate_limit", 1_000_000)
        super().__init__(**kw)
        self.latency = latency

    def handle(self, req: Request) -> Response:
        time.sleep(self.latency)
        return super().handle(req)
