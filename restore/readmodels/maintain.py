"""Keep the read models in the transaction of each append (restore.records.append)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from restore.readmodels.tables import NO_INCIDENT
from restore.readmodels.walk import Changes, Event, Position, step
from restore.readmodels.writes import bump, write_days, write_rows
from restore.store import branch_systems, branches, events
from restore.timefmt import london_date

CHUNK = 500  # ids per IN (...) list


def positions(conn: Connection, bs_ids: list[int]) -> dict[int, Position]:
    """Where each branch system stands now (read before its pointers move)."""
    out: dict[int, Position] = {}
    ids = sorted(set(bs_ids))
    for start in range(0, len(ids), CHUNK):
        q = (
            select(
                branch_systems.c.id, branch_systems.c.system_id, branches.c.region,
                events.c.state, events.c.incident_id, events.c.eta, branch_systems.c.since,
                branch_systems.c.note_event_id,
            )
            .join(branches, branches.c.id == branch_systems.c.branch_id)
            .outerjoin(events, events.c.id == branch_systems.c.last_event_id)
            .where(branch_systems.c.id.in_(ids[start : start + CHUNK]))
        )  # fmt: skip
        for r in conn.execute(q):
            out[r.id] = Position(
                r.system_id,
                r.region,
                r.state,
                r.incident_id or NO_INCIDENT,
                r.eta,
                r.since,
                r.note_event_id,
            )
    return out


def apply(
    conn: Connection, appended: list[tuple[dict, int]], pos: dict[int, Position] | None = None
) -> None:
    """Account for freshly inserted events (row, id), in order, in every read model.

    `pos` is where each system stood before them (see positions; read here if None). The
    rows only this system's writers touch go first; the day counts and write counters, which
    every writer in a region shares, go last, so their row locks are held only until commit.
    """
    if not appended:
        return
    if pos is None:
        pos = positions(conn, [row["branch_system_id"] for row, _ in appended])
    known = _listed(pos)
    ch = Changes()
    for row, event_id in appended:
        at = row["effective_at"]
        e = Event(
            event_id,
            row["branch_system_id"],
            row["state"],
            at,
            london_date(at),
            row["eta"],
            row.get("incident_id"),
            bool(row["note"]),
        )
        step(pos[e.bs_id], e, ch)
    ch.touched -= known
    write_rows(conn, ch)
    write_days(conn, ch)
    bump(conn, ch.topics)


def _listed(pos: dict[int, Position]) -> set[tuple[int, int]]:
    """(incident, system) pairs already in rm_incident_systems: each system's newest event
    put its own there, so a check-in under the same incident need not upsert it again."""
    return {
        (p.incident_id, bs_id)
        for bs_id, p in pos.items()
        if p.state is not None and p.incident_id != NO_INCIDENT
    }
