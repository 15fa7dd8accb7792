"""Resolving names to branch systems and reading where each stands, under the writer's
lock: by name or slug and system key, case-insensitively (migration 0011 indexes them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import cache

from sqlalchemy import Select, String, bindparam, func, select, union_all
from sqlalchemy.engine import Connection

from restore.bindlists import one_of
from restore.domain import Band, band_of
from restore.readmodels.tables import NO_INCIDENT
from restore.readmodels.walk import Position
from restore.records.base import Change, Last, NotFound, Request, Target, ValidationError
from restore.store import CLOSINGS, Store, branch_systems, branches, events, incidents, systems


def find_branch(conn: Connection, name: str) -> dict:
    """Branch by name or slug, case-insensitively; NotFound otherwise."""
    key = (name or "").strip().lower()
    row = (
        conn.execute(
            select(branches).where(
                (func.lower(branches.c.name) == key) | (func.lower(branches.c.slug) == key)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"unknown branch {name!r}: give its name or slug, e.g. 'West Midlands'")
    return dict(row)


def find_target(conn: Connection, branch: str, system: str) -> Target:
    b = find_branch(conn, branch)
    key = (system or "").strip().lower()
    row = conn.execute(
        select(branch_systems.c.id, branch_systems.c.since, systems.c.key)
        .join(systems, systems.c.id == branch_systems.c.system_id)
        .where(branch_systems.c.branch_id == b["id"], func.lower(systems.c.key) == key)
    ).first()
    if row is None:
        keys = conn.execute(
            select(systems.c.key)
            .join(branch_systems, branch_systems.c.system_id == systems.c.id)
            .where(branch_systems.c.branch_id == b["id"])
            .order_by(systems.c.key)
        ).scalars()
        raise NotFound(f"{b['name']} has no system {system!r}; its systems are: {', '.join(keys)}")
    return Target(row.id, b["id"], b["name"], row.key, row.since)


def load_last(conn: Connection, target: Target) -> Target:
    """Read the newest event and `since` afresh (call it under the lock)."""
    load_last_many(conn, [target])
    return target


# Statements of every write, built once per dialect: building one costs more than running it.
@cache  # built once per dialect: building costs more than running
def _last(dialect: str) -> Select:
    return (
        select(
            branch_systems.c.id.label("target_id"),
            events.c.id,
            events.c.state,
            events.c.effective_at,
            events.c.eta,
            events.c.actor,
            events.c.note,
            events.c.recorded_at,
            events.c.incident_id,
            branch_systems.c.since,
            branch_systems.c.system_id,
            branch_systems.c.note_event_id,
            branches.c.region,
        )
        .select_from(branch_systems)
        .join(branches, branches.c.id == branch_systems.c.branch_id)
        .outerjoin(events, events.c.id == branch_systems.c.last_event_id)
        .where(one_of(branch_systems.c.id, "ids", dialect))
    )


def load_last_many(conn: Connection, targets: list[Target]) -> dict[int, Position]:
    """load_last for many targets in one query (under their locks); returns where each
    stands in the read models, so appending them need not read it again (see append)."""
    by_id: dict[int, list[Target]] = {}
    for t in targets:
        by_id.setdefault(t.id, []).append(t)
    out: dict[int, Position] = {}
    for row in conn.execute(_last(conn.dialect.name), {"ids": list(by_id)}):
        last = Last(
            row.id, row.state, row.effective_at, row.eta, row.actor, row.note,
            row.recorded_at, row.incident_id,
        ) if row.id is not None else None  # fmt: skip
        for target in by_id[row.target_id]:
            target.last = last or target.last
            target.since = row.since
        out[row.target_id] = Position(
            row.system_id, row.region, row.state, row.incident_id or NO_INCIDENT, row.eta,
            row.since, row.note_event_id,
        )  # fmt: skip
    return out


def open_incidents(conn: Connection, at: datetime) -> list[tuple[int, str]]:
    """Incidents started by `at` and not closed by then, oldest first, as (id, name)."""
    closed = select(CLOSINGS.c.incident_id).where(
        CLOSINGS.c.confirmed_at.is_not(None), CLOSINGS.c.confirmed_at <= at
    )
    q = select(incidents.c.id, incidents.c.name).where(
        incidents.c.started_at <= at, incidents.c.id.not_in(closed)
    )
    return [tuple(r) for r in conn.execute(q.order_by(incidents.c.started_at, incidents.c.id))]


def incident_id(
    conn: Connection, target: Target, change: Change, opened: dict | None = None
) -> int | None:
    """The incident an event belongs to: the one named, else the system's current episode's.

    A system in service that stays in service belongs to no new incident (it keeps its
    last one). A new outage needs a choice when more than one incident is open; with one
    open it belongs to that one. Raises NotFound or ValidationError, writing nothing.
    `opened` keeps the open incidents by moment across one transaction's writes (a group
    commit's new outages all happen at its moment: one query, not one per write).
    """
    if change.incident:
        found = conn.execute(
            select(incidents.c.id).where(incidents.c.name == change.incident.strip())
        ).scalar()
        if found is None:
            raise NotFound(f"unknown incident {change.incident!r}")
        return found
    last = target.last
    if last.state is not None and band_of(last.state) is not Band.IN:
        return last.incident_id  # still in the episode that incident started
    if band_of(change.state) is Band.IN:
        return last.incident_id
    opened = {} if opened is None else opened
    if change.at not in opened:
        opened[change.at] = open_incidents(conn, change.at)
    candidates = opened[change.at]
    if len(candidates) > 1:
        names = "; ".join(name for _, name in candidates)
        raise ValidationError(
            f"more than one incident is open ({names}): say which one this outage of "
            f"{target.branch} {target.system} belongs to"
        )
    return candidates[0][0] if candidates else None


def find_targets(
    conn: Connection, store: Store, requests: Sequence[Request], *, lock: bool, known: dict
) -> list[Target]:
    """find_target for each request, from `known` (find_many) where it is there. A single
    change, the usual write, is found (and with `lock`, locked) by one query instead of
    three: each statement saved is a round trip."""
    out = []
    for r in requests:
        key = _names(r)
        if key in known:
            found = replace(known[key])  # each job advances its own copy
        else:
            found = find_one(conn, store, r.branch, r.system, lock=lock and len(requests) == 1)
        out.append(found or find_target(conn, r.branch, r.system))  # find_target says why not
    return out


def _names(r: Request) -> tuple[str, str]:
    return (r.branch or "").strip().lower(), (r.system or "").strip().lower()


def find_many(conn: Connection, requests: Sequence[Request]) -> dict[tuple[str, str], Target]:
    """Every request's branch system in one query, by its (branch, system) names as given;
    names not found are left out (find_target then says why)."""
    names = {_names(r) for r in requests}
    if not names:
        return {}
    keys = {"b_keys": sorted({b for b, _ in names}), "s_keys": sorted({s for _, s in names})}
    rows = conn.execute(_find_many(conn.dialect.name), keys)
    out: dict[tuple[str, str], Target] = {}
    for row in rows:
        for b in {row.name.lower(), row.slug.lower()}:
            if (b, row.key.lower()) in names:
                out.setdefault((b, row.key.lower()), Target(
                    row.id, row.branch_id, row.name, row.key, row.since
                ))  # fmt: skip
    return out


_BRANCH, _SYSTEM = bindparam("b_branch"), bindparam("b_system")
_FIND = (
    select(branch_systems.c.id, branch_systems.c.since, systems.c.key,
           branches.c.id.label("branch_id"), branches.c.name, branches.c.slug)
    .join(branches, branches.c.id == branch_systems.c.branch_id)
    .join(systems, systems.c.id == branch_systems.c.system_id)
)  # fmt: skip


@cache  # built once per dialect: building costs more than running
def _find_many(dialect: str) -> Select:
    """The branches named (by name or by slug: a union, not an OR, so PostgreSQL looks up
    their branch systems by index instead of hash-joining every branch system)."""
    named = union_all(*(
        select(branches.c.id).where(one_of(func.lower(col), "b_keys", dialect, String()))
        for col in (branches.c.name, branches.c.slug)
    ))  # fmt: skip
    return _FIND.where(
        branches.c.id.in_(named),
        one_of(func.lower(systems.c.key), "s_keys", dialect, String()),
    ).order_by(branch_systems.c.id)


_FIND_ONE = (
    _FIND.where((func.lower(branches.c.name) == _BRANCH) | (func.lower(branches.c.slug) == _BRANCH))
    .where(func.lower(systems.c.key) == _SYSTEM)
    .order_by(branch_systems.c.id)
    .limit(1)
)  # fmt: skip
_FIND_ONE_LOCKED = _FIND_ONE.with_for_update(of=branch_systems)


def find_one(
    conn: Connection, store: Store, branch: str, system: str, *, lock: bool
) -> Target | None:
    """find_target (and with `lock`, lock_branch_systems) in one query; None if not found
    (find_target then says why)."""
    # SQLite's BEGIN IMMEDIATE already locks all.
    q = _FIND_ONE_LOCKED if lock and store.dialect != "sqlite" else _FIND_ONE
    key = {"b_branch": (branch or "").strip().lower(), "b_system": (system or "").strip().lower()}
    row = conn.execute(q, key).first()
    return None if row is None else Target(row.id, row.branch_id, row.name, row.key, row.since)
