"""How far back an event may take effect: a year-one effective time once stretched every
series to two thousand years and every page to minutes, so writes refuse it and reads clip to it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from restore.store import incidents

BACKDATE_DAYS_VAR = "RESTORE_BACKDATE_DAYS"
NO_INCIDENT_WINDOW = timedelta(days=365)


def backdate_margin() -> timedelta:
    """Days before the first incident an event may take effect (RESTORE_BACKDATE_DAYS, 30)."""
    return timedelta(days=int(os.environ.get(BACKDATE_DAYS_VAR) or 30))


def backdate_floor(conn: Connection, now: datetime) -> datetime:
    """The earliest effective time accepted and charted: the first incident's start less the
    margin, or, with no incident recorded, a year before `now`."""
    first = conn.execute(select(func.min(incidents.c.started_at))).scalar()
    if first is None:
        return now - NO_INCIDENT_WINDOW
    if isinstance(first, str):  # SQLite's aggregate skips the column's type
        first = datetime.fromisoformat(first)
    if first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    return first - backdate_margin()
