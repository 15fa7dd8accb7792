"""Write a run's Changes to the read-model tables (upserts work on SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import Table, and_, bindparam, delete, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from restore.readmodels.tables import (
    board_days,
    eta_moves,
    incident_systems,
    outages,
    read_versions,
    state_days,
    state_spans,
)
from restore.readmodels.walk import Changes

DAY_KEY = ("day", "system_id", "region", "incident_id", "state")


_STATEMENTS: dict[tuple, object] = {}


def _upsert(conn: Connection, table: Table, rows: list[dict], keys: list[str], set_: dict | None):
    """INSERT ... ON CONFLICT: `set_` maps columns to new values (None: do nothing).

    Built once per dialect and table: building `excluded` costs more than the write."""
    if not rows:
        return
    cache_key = (conn.dialect.name, table.name)
    stmt = _STATEMENTS.get(cache_key)
    if stmt is None:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(table)
        if set_ is None:
            stmt = stmt.on_conflict_do_nothing(index_elements=keys)
        else:
            values = {c: (v(stmt.excluded) if callable(v) else v) for c, v in set_.items()}
            stmt = stmt.on_conflict_do_update(index_elements=keys, set_=values)
        _STATEMENTS[cache_key] = stmt
    conn.execute(stmt, rows)


_DROP_ZEROS = delete(state_days).where(
    *(state_days.c[c] == bindparam(f"k_{c}") for c in ("day", "system_id", "region",
                                                       "incident_id", "state")),
    state_days.c.n == 0,
)  # fmt: skip


def write_rows(conn: Connection, ch: Changes) -> None:
    """Everything but the day counts and versions (see write_days, bump)."""
    if ch.spans:
        conn.execute(insert(state_spans), ch.spans)
    if ch.opens:
        conn.execute(insert(outages), ch.opens)
    if ch.closes:
        conn.execute(
            update(outages)
            .where(and_(outages.c.bs_id == bindparam("b_bs"), outages.c.restored_at.is_(None)))
            .values(restored_at=bindparam("b_at")),
            ch.closes,
        )
    if ch.etas:
        conn.execute(insert(eta_moves), ch.etas)
    rows = [ch.board[k] for k in sorted(ch.board)]
    _upsert(conn, board_days, rows, ["bs_id", "day"], {
        "event_id": lambda x: x.event_id, "since": lambda x: x.since,
        "note_event_id": lambda x: x.note_event_id,
    })  # fmt: skip
    touched = [{"incident_id": i, "bs_id": b} for i, b in sorted(ch.touched)]
    _upsert(conn, incident_systems, touched, ["incident_id", "bs_id"], None)


def write_days(conn: Connection, ch: Changes) -> None:
    """Add the day deltas (in key order, so concurrent writers never deadlock) and drop
    any count that came back to zero, so rebuilt and incremental tables are equal."""
    rows = [dict(zip(DAY_KEY, k, strict=True)) | {"n": n} for k, n in sorted(ch.days.items()) if n]
    _upsert(conn, state_days, rows, list(DAY_KEY), {"n": lambda x: state_days.c.n + x.n})
    if rows:
        conn.execute(_DROP_ZEROS, [{f"k_{c}": r[c] for c in DAY_KEY} for r in rows])


def bump(conn: Connection, topics: set[tuple[str, str]]) -> None:
    """Count one more write for each (topic, region), so caches keyed on them re-read."""
    rows = [{"topic": t, "region": r, "n": 1} for t, r in sorted(topics)]
    _upsert(conn, read_versions, rows, ["topic", "region"], {"n": read_versions.c.n + 1})
