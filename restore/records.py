"""Validated status writes: one change (record_status) or a whole CSV (import_csv).

Every write checks permission, resolves names, takes a lock on the systems it
touches, validates against the newest event *under that lock*, and appends in
the same transaction. On any error nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from restore.access import Action, Actor, PermissionDenied, can, require
from restore.domain import (
    Band,
    RestoreError,
    RuleError,
    band_of,
    check_transition,
    needs_hq,
)
from restore.store import (
    SOURCES,
    Store,
    branch_systems,
    branches,
    bump_revision,
    events,
    incidents,
    now_utc,
    systems,
)
from restore.timefmt import london_date, show

MAX_NOTE = 2000
FUTURE_SLACK = timedelta(minutes=5)


class ValidationError(RestoreError):
    """Bad input: the message says what and how to fix it. Nothing was written."""


class NotFound(ValidationError):
    """An unknown branch, system, user or incident."""


class ConflictError(RestoreError):
    """Someone else recorded a newer event since the writer last looked."""


@dataclass(frozen=True)
class Change:
    """One requested status change, before validation."""

    state: str
    at: datetime
    note: str = ""
    eta: date | None = None
    reason: str | None = None
    source: str = "web"
    actor: str | None = None  # kept from an HQ IT import; else the acting user
    recorded_at: datetime | None = None
    incident: str | None = None
    imported: bool = False  # an HQ IT import keeps who, source and recorded time


@dataclass(frozen=True)
class Last:
    """What a validator needs to know of a branch system's newest event."""

    id: int = 0
    state: str | None = None
    at: datetime | None = None
    eta: date | None = None
    actor: str = ""


@dataclass
class Target:
    """A branch system, resolved from names."""

    id: int
    branch_id: int
    branch: str
    system: str
    since: datetime | None = None
    last: Last = field(default_factory=Last)


# --- resolving names --------------------------------------------------------


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
    row = conn.execute(
        select(
            events.c.id,
            events.c.state,
            events.c.effective_at,
            events.c.eta,
            events.c.actor,
            branch_systems.c.since,
        )
        .join(branch_systems, branch_systems.c.last_event_id == events.c.id)
        .where(branch_systems.c.id == target.id)
    ).first()
    if row is not None:
        target.last = Last(row.id, row.state, row.effective_at, row.eta, row.actor)
        target.since = row.since
    return target


def incident_id(conn: Connection, name: str | None, at: datetime) -> int | None:
    """The named incident, or else the latest one started by `at` (None if none)."""
    if name:
        found = conn.execute(select(incidents.c.id).where(incidents.c.name == name)).scalar()
        if found is None:
            raise NotFound(f"unknown incident {name!r}")
        return found
    return conn.execute(
        select(incidents.c.id)
        .where(incidents.c.started_at <= at)
        .order_by(incidents.c.started_at.desc())
        .limit(1)
    ).scalar()


# --- validation (pure) -------------------------------------------------------


def check_conflict(target: Target, seen_event_id: int | None) -> None:
    """Refuse if the system changed after the writer's `seen_event_id` (0: saw none)."""
    if seen_event_id is None or seen_event_id == target.last.id:
        return
    last = target.last
    raise ConflictError(
        f"{target.branch} {target.system} was changed by {last.actor} at {show(last.at)} "
        f"(now {last.state}) after you loaded it; reload and check before recording again"
    )


def validate(actor: Actor, target: Target, change: Change, now: datetime) -> dict:
    """Check one change against the rules; return the event row to append, or raise.

    Raises PermissionDenied, RuleError (illegal move, naming the legal ones) or
    ValidationError (listing every field problem at once).
    """
    require(actor, Action.RECORD_STATUS, branch_id=target.branch_id)
    if change.source not in SOURCES:
        raise ValidationError(
            f"unknown source {change.source!r}; sources are: {', '.join(SOURCES)}"
        )
    if change.source == "phone":
        require(actor, Action.RECORD_ON_BEHALF)
    _check_fields(target, change, now)
    _check_move(actor, target, change)
    return _event_row(actor, target, change, now)


def _check_fields(target: Target, change: Change, now: datetime) -> None:
    problems = []
    if change.at > now + FUTURE_SLACK:
        problems.append(f"effective time {show(change.at)} is in the future (now {show(now)})")
    if target.last.at is not None and change.at < target.last.at:
        problems.append(
            f"effective time {show(change.at)} is before this system's latest event "
            f"({show(target.last.at)})"
        )
    if len(change.note) > MAX_NOTE:
        problems.append(f"note is {len(change.note)} characters; the limit is {MAX_NOTE}")
    if change.reason is not None and len(change.reason) > MAX_NOTE:
        problems.append(f"override reason is longer than {MAX_NOTE} characters")
    if change.eta is not None and change.eta < london_date(change.at):
        problems.append(
            f"expected date {change.eta} is before the effective time {show(change.at)}"
        )
    if problems:
        raise ValidationError("; ".join(problems))


def _check_move(actor: Actor, target: Target, change: Change) -> None:
    current = target.last.state
    reason = (change.reason or "").strip()
    try:
        check_transition(current, change.state)
    except RuleError:
        if not (reason and can(actor, Action.OVERRIDE)):
            raise
        return  # an HQ IT override, recorded with its reason
    if needs_hq(current, change.state) and not can(actor, Action.OVERRIDE):
        raise PermissionDenied(
            f"only HQ IT may move {target.branch} {target.system} from {current!r} to "
            f"{change.state!r}: every restored system is verified by HQ"
        )


def _event_row(actor: Actor, target: Target, change: Change, now: datetime) -> dict:
    eta = change.eta
    # A status without a new expected date keeps the last one until back in service.
    if eta is None and band_of(change.state) is not Band.IN:
        eta = target.last.eta
    keep_history = change.imported and can(actor, Action.IMPORT)
    return {
        "branch_system_id": target.id,
        "state": change.state,
        "effective_at": change.at,
        "recorded_at": (change.recorded_at if keep_history and change.recorded_at else now),
        "actor": (change.actor if keep_history and change.actor else actor.username),
        "entered_by": actor.username,
        "source": change.source,
        "note": change.note,
        "eta": eta,
        "override_reason": (change.reason or "").strip() or None,
    }


# --- writing -----------------------------------------------------------------


def advance(target: Target, row: dict) -> None:
    """Move the in-memory target past a validated row, so the next row of a batch sees it."""
    if row["state"] != target.last.state:
        target.since = row["effective_at"]
    target.last = Last(0, row["state"], row["effective_at"], row["eta"], row["actor"])


def append(conn: Connection, rows: list[tuple[Target, dict]]) -> list[int]:
    """Append validated, advanced rows in order and move each system's pointers; returns ids."""
    ids = (
        conn.execute(
            insert(events).returning(events.c.id, sort_by_parameter_order=True),
            [row for _, row in rows],
        )
        .scalars()
        .all()
    )
    newest = {
        target.id: (target, event_id) for (target, _), event_id in zip(rows, ids, strict=True)
    }
    # Ids can commit out of order on PostgreSQL, so readers' cache key also needs the revision.
    bump_revision(conn)
    for target, event_id in newest.values():
        conn.execute(
            update(branch_systems)
            .where(branch_systems.c.id == target.id)
            .values(last_event_id=event_id, since=target.since)
        )
    return list(ids)


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
    now: datetime | None = None,
) -> int:
    """Record one status change and return its event id.

    `at` (aware; default now) is when the state took effect. `seen_event_id` is
    the newest event id the writer saw for this system (0 for none; None skips
    the conflict check, for the CLI). Raises NotFound, PermissionDenied,
    ConflictError, RuleError or ValidationError, and then writes nothing.
    """
    with store.write() as conn:
        target = find_target(conn, branch, system)
        require(actor, Action.RECORD_STATUS, branch_id=target.branch_id)
        store.lock_branch_systems(conn, [target.id])
        # The clock is read under the lock, so "now" is never before a rival's commit.
        now = now or now_utc()
        change = Change(state, at or now, note or "", eta, reason, source)
        load_last(conn, target)
        check_conflict(target, seen_event_id)
        row = validate(actor, target, change, now)
        row["incident_id"] = incident_id(conn, incident, change.at)
        advance(target, row)
        return append(conn, [(target, row)])[0]
