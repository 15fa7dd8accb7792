"""Appending validated rows: events, each system's pointers, then the read models."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.engine import Connection

from restore import readmodels
from restore.readmodels.maintain import positions
from restore.readmodels.walk import Position
from restore.records.base import Target
from restore.store import branch_systems, events


def append(
    conn: Connection, rows: list[tuple[Target, dict]], before: dict[int, Position] | None = None
) -> list[int]:
    """Append validated, advanced rows in order and move each system's pointers; returns ids.

    `before` is where each system stood (load_last_many's answer; read here if None). The
    read models go last: their shared counter rows are what concurrent writers queue on
    (PostgreSQL row locks), so they are locked only for the last statements and the commit.
    """
    ids = _insert_events(conn, [row for _, row in rows])
    if before is None:
        before = positions(conn, [target.id for target, _ in rows])
    _move_pointers(conn, rows, ids)
    # Ids can commit out of order on PostgreSQL, so caches key on per-topic write counters
    # (bumped by readmodels.apply), never on the newest id alone.
    readmodels.apply(conn, [(row, i) for (_, row), i in zip(rows, ids, strict=True)], before)
    return list(ids)


_RETURNING = insert(events).returning(events.c.id, sort_by_parameter_order=True)
_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM generate_series(1, :n)"
)


def _insert_events(conn: Connection, rows: list[dict]) -> list[int]:
    """Insert the rows in order; their ids, ascending in that order.

    On PostgreSQL several rows' ids are drawn first and the rows sent as one pipelined
    executemany of a single prepared INSERT: a many-row INSERT ... RETURNING is a new
    statement text for every batch size, parsed afresh by psycopg and by the server (a
    third of a 32-write group commit's time). One row needs no second round trip."""
    if conn.dialect.name != "postgresql" or len(rows) == 1:
        return list(conn.execute(_RETURNING, rows).scalars().all())
    ids = sorted(conn.execute(_NEXT_IDS, {"n": len(rows)}).scalars())
    conn.execute(insert(events), [row | {"id": i} for row, i in zip(rows, ids, strict=True)])
    return ids


_MOVE = (
    update(branch_systems)
    .where(branch_systems.c.id == bindparam("b_id"))
    .values(
        last_event_id=bindparam("b_last"), since=bindparam("b_since"),
        last_state=bindparam("b_state"), last_at=bindparam("b_at"), last_eta=bindparam("b_eta"),
    )
)  # fmt: skip
_MOVE_NOTE = _MOVE.values(note_event_id=bindparam("b_note"))


def _move_pointers(conn: Connection, rows: list[tuple[Target, dict]], ids: list[int]) -> None:
    """Point each system at its newest event (with its state, time and expected date) and
    newest note, one statement per kind."""
    newest: dict[int, dict] = {}
    for (target, row), event_id in zip(rows, ids, strict=True):
        values = newest.setdefault(target.id, {"b_id": target.id})
        values |= {"b_last": event_id, "b_since": target.since, "b_state": row["state"],
                   "b_at": row["effective_at"], "b_eta": row["eta"]}  # fmt: skip
        if row["note"]:
            values["b_note"] = event_id
    for stmt, noted in ((_MOVE, False), (_MOVE_NOTE, True)):
        batch = [v for v in newest.values() if ("b_note" in v) is noted]
        if batch:
            conn.execute(stmt, batch)
