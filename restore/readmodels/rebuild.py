"""Rebuild every read model from the event log (`python -m restore rebuild-read-models`)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection

from restore.readmodels.tables import MODEL_TABLES
from restore.readmodels.walk import Changes, Event, Position, step
from restore.readmodels.writes import bump, write_days, write_rows
from restore.store import Store, branch_systems, branches, events
from restore.timefmt import LONDON

CHUNK = 50_000  # events per read from the log: memory stays bounded however long it is


def rebuild(store: Store) -> dict[str, int]:
    """Empty the read models and replay the whole log into them, in one transaction.

    Returns how many events were replayed and the rows each table now holds.
    """
    with store.write() as conn:
        counts = rebuild_in(conn)
    store.analyze()  # every read-model table was rewritten
    return counts


def rebuild_in(conn: Connection) -> dict[str, int]:
    """rebuild() inside a caller's transaction (a migration, a restore from backup)."""
    for table in MODEL_TABLES:
        conn.execute(delete(table))
    pos = {
        r.id: Position(r.system_id, r.region)
        for r in conn.execute(
            select(branch_systems.c.id, branch_systems.c.system_id, branches.c.region).join(
                branches, branches.c.id == branch_systems.c.branch_id
            )
        )
    }
    ch, replayed = Changes(), 0
    for chunk in _log(conn):
        for e in chunk:
            step(pos[e.bs_id], e, ch)
        replayed += len(chunk)
        write_rows(conn, ch)
        ch.flushed()
    write_days(conn, ch)
    regions = {p.region for p in pos.values()}
    bump(conn, {(t, r) for t in ("event", "state", "eta") for r in regions} | ch.topics)
    counts = {"events": replayed}
    for table in MODEL_TABLES:
        counts[table.name] = conn.execute(select(func.count()).select_from(table)).scalar()
    return counts


def _log(conn: Connection):
    """The log in (branch system, id) order, a chunk of Events at a time."""
    q = select(
        events.c.id, events.c.branch_system_id, events.c.state, events.c.effective_at,
        events.c.eta, events.c.incident_id, events.c.note != "",
    ).order_by(events.c.branch_system_id, events.c.id)  # fmt: skip
    result = conn.execute(q.execution_options(yield_per=CHUNK))
    for part in result.partitions(CHUNK):
        at = pd.to_datetime([r[3] for r in part], utc=True)
        days = at.tz_convert(LONDON).date
        yield [
            Event(r[0], r[1], r[2], r[3], d, r[4], r[5], bool(r[6]))
            for r, d in zip(part, days, strict=True)
        ]
