"""The store: the only place that speaks SQL. See `publications.py` for the contract."""

from pipeline.publishing.states import OPEN_STATES, State
from pipeline.store.models import (
    Base,
    EssayRow,
    EventRow,
    FeedEntryRow,
    PublicationRow,
    UTCDateTime,
    utcnow,
)
from pipeline.store.publications import PublicationStore, Store
from pipeline.store.schema import HEAD_REVISION, Database, make_engine, migrate, schema_is_current

__all__ = [
    "HEAD_REVISION",
    "OPEN_STATES",
    "Base",
    "Database",
    "EssayRow",
    "EventRow",
    "FeedEntryRow",
    "PublicationRow",
    "PublicationStore",
    "State",
    "Store",
    "UTCDateTime",
    "make_engine",
    "migrate",
    "schema_is_current",
    "utcnow",
]
