"""Validated status writes: one change (record_status) or a whole CSV (import_csv).

Every write checks permission, resolves names, takes a lock on the systems it
touches, validates against the newest event *under that lock*, and appends in
the same transaction. On any error nothing is written.

The package: base (requests, changes, targets, errors), lookup (names to branch systems),
checks (the rules), append (events, pointers, read models), batch (one transaction, shared
by concurrent writers). This module holds the public writes and re-exports the rest.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from restore.access import Action, Actor, PermissionDenied, require
from restore.domain import Band, RuleError, band_of
from restore.records.append import append
from restore.records.base import (
    FUTURE_SLACK,
    MAX_NOTE,
    REPEAT_WINDOW,
    Change,
    ConflictError,
    DuplicateSubmission,
    Last,
    NotFound,
    Request,
    Target,
    ValidationError,
)  # fmt: skip
from restore.records.batch import write, write_combiner
from restore.records.checks import advance, check_conflict, validate
from restore.records.lookup import (
    find_branch,
    find_target,
    incident_id,
    load_last,
    load_last_many,
    open_incidents,
)  # fmt: skip
from restore.store import Store, branch_systems, events, systems

__all__ = [
    "FUTURE_SLACK", "MAX_NOTE", "REPEAT_WINDOW", "Change", "ConflictError", "DuplicateSubmission",
    "Last", "NotFound", "PermissionDenied", "Request", "RuleError", "Target", "ValidationError",
    "advance", "append", "check_conflict", "check_in_branch", "find_branch", "find_target",
    "incident_id", "load_last", "load_last_many", "open_incidents", "record_status", "validate",
    "verify_waiting", "write", "write_combiner",
]  # fmt: skip


def record_status(
    store: Store,
    actor: Actor,
    *,
    branch: str,
    system: str,
    state: str,
    note: str = "",
    eta: date | None = None,
    at: datetime | None = None,
    reason: str | None = None,
    source: str = "web",
    seen_event_id: int | None = None,
    incident: str | None = None,
    submission: str | None = None,
    now: datetime | None = None,
) -> int:
    """Record one status change and return its event id.

    `at` (aware; default now) is when the state took effect. `seen_event_id` is
    the newest event id the writer saw for this system (0 for none; None skips
    the conflict check, for the CLI). `incident` names the incident, needed only
    when a new outage could belong to more than one. Raises NotFound,
    PermissionDenied, ConflictError, RuleError, DuplicateSubmission or
    ValidationError, and then writes nothing.
    """
    note = (note or "").replace("\r\n", "\n")  # Windows line ends; a lone CR is refused
    change = Change(state, at, note, eta, reason, source, incident=incident)
    request = Request(branch, system, change, seen_event_id)
    return write(store, actor, [request], submission=submission, now=now)[0]


def check_in_branch(
    store: Store,
    actor: Actor,
    *,
    branch: str,
    source: str = "web",
    seen: dict[str, int] | None = None,
    submission: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Nothing has changed: one check-in per system of the branch not in service.

    One transaction, one event per system, each in its current state with its
    expected date and incident kept and no note (the last note stays in view).
    `seen` maps system keys to the newest event id the user saw: a system changed
    since raises ConflictError. Raises ValidationError when every reported system
    is in service.
    """
    with store.read() as conn:
        b = find_branch(conn, branch)
        rows = conn.execute(
            select(systems.c.key, events.c.state, events.c.id)
            .select_from(branch_systems)
            .join(systems, systems.c.id == branch_systems.c.system_id)
            .join(events, events.c.id == branch_systems.c.last_event_id)
            .where(branch_systems.c.branch_id == b["id"])
            .order_by(systems.c.id)
        ).all()
    require(actor, Action.RECORD_STATUS, branch_id=b["id"])
    out = [r for r in rows if band_of(r.state) is not Band.IN]
    if not out:
        raise ValidationError(f"every reported system of {b['name']} is in service: no check-in")
    seen = seen or {}
    requests = [
        Request(b["slug"], r.key, Change(r.state, None, source=source), seen.get(r.key, r.id))
        for r in out
    ]
    return write(store, actor, requests, submission=submission, now=now)


def verify_waiting(
    store: Store,
    actor: Actor,
    *,
    systems_seen: list[tuple[str, str, int]],
    note: str = "",
    now: datetime | None = None,
) -> list[int]:
    """HQ IT's checks passed for several systems at once: each gets its own `restored` event.

    `systems_seen` lists (branch, system, newest event id the writer saw). All or none:
    one system changed since, or not waiting for checks, refuses the lot.
    """
    require(actor, Action.OVERRIDE)
    requests = [
        Request(b, s, Change("restored", None, note, source="web"), seen, expect="verifying")
        for b, s, seen in systems_seen
    ]
    return write(store, actor, requests, now=now)
