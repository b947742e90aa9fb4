"""The store: the only place that speaks SQL. See `publications.py` for the contract.

The names below are loaded on first use (PEP 562): `crosspost status`'s quick reader
(`quick.py`) lives in this package and must not pay for SQLAlchemy and the ORM models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.publishing.states import (
        OPEN_STATES,
        State,
    )
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
    from pipeline.store.publications import (
        PublicationStore,
        Store,
    )
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

_WHERE = {
    "OPEN_STATES": "pipeline.publishing.states",
    "State": "pipeline.publishing.states",
    "Base": "pipeline.store.models",
    "EssayRow": "pipeline.store.models",
    "EventRow": "pipeline.store.models",
    "FeedEntryRow": "pipeline.store.models",
    "HeartbeatRow": "pipeline.store.models",
    "PublicationRow": "pipeline.store.models",
    "UTCDateTime": "pipeline.store.models",
    "utcnow": "pipeline.store.models",
    "PublicationStore": "pipeline.store.publications",
    "Store": "pipeline.store.publications",
    "HEAD_REVISION": "pipeline.store.schema",
    "Database": "pipeline.store.schema",
    "create_private_file": "pipeline.store.schema",
    "make_engine": "pipeline.store.schema",
    "migrate": "pipeline.store.schema",
    "schema_is_current": "pipeline.store.schema",
    "DueTime": "pipeline.store.views",
    "KnownEssay": "pipeline.store.views",
    "PublicCopy": "pipeline.store.views",
    "StatusLimits": "pipeline.store.views",
    "StatusPage": "pipeline.store.views",
    "StatusRow": "pipeline.store.views",
}

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


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'pipeline.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
