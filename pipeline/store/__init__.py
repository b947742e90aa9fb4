"""The store: the only place that speaks SQL. See `publications.py` for the contract."""

from pipeline.publishing.states import OPEN_STATES, State
from pipeline.store.models import (
    Base,
    EssayRow,
    EventRow,
    FeedEntryRow,
    HeartbeatRow,
    PublicationRow,
    UTCDateTime,
    utcnow,
)
from pipeline.store.publications import PublicationStore, Store
from pipeline.store.schema import (
    HEAD_REVISION,
    Database,
    create_private_file,
    make_engine,
    migrate,
    schema_is_current,
)
from pipeline.store.views import (
    DueTime,
    KnownEssay,
    PublicCopy,
    StatusLimits,
    StatusPage,
    StatusRow,
)

__all__ = [
    "HEAD_REVISION",
    "OPEN_STATES",
    "Base",
    "Database",
    "DueTime",
    "EssayRow",
    "EventRow",
    "FeedEntryRow",
    "HeartbeatRow",
    "KnownEssay",
    "PublicCopy",
    "PublicationRow",
    "PublicationStore",
    "State",
    "StatusLimits",
    "StatusPage",
    "StatusRow",
    "Store",
    "UTCDateTime",
    "create_private_file",
    "make_engine",
    "migrate",
    "schema_is_current",
    "utcnow",
]
