"""`crosspost worker`: a publisher process that claims due publications from a shared store.

Run one daemon (the scheduler, inbox and feeds) and any number of workers against one
PostgreSQL database: each worker claims batches with `FOR UPDATE SKIP LOCKED`, so they
share the work without waiting on each other, and the per-row claim keeps every
publication to exactly one publisher. Stale claims of a dead worker expire with their lease.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from pipeline.logs import get_logger
from pipeline.publishing.pipeline import Pipeline

IDLE_WAIT = 0.2
BATCH = 10


def run_worker(engine: Pipeline, once: bool = False, stop: threading.Event | None = None) -> int:
    """Publish until stopped (or, with `once`, until nothing is due); returns how many ran."""
    stop = stop or threading.Event()
    log = get_logger(component="worker")
    if threading.current_thread() is threading.main_thread():

        def on_signal(signum: int, frame: Any) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    done = 0
    log.info("worker started")
    while not stop.is_set():
        engine.recover()
        claimed = engine.claim_batch(BATCH)
        for pub_id in claimed:
            engine.publish_claimed(pub_id)
            done += 1
        if not claimed:
            if once:
                break
            stop.wait(IDLE_WAIT)
    log.info("worker stopped", published=done)
    return done
