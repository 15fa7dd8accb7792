"""Validated status writes: one change (record_status) or a whole CSV (import_csv).

Every write checks permission, resolves names, takes a lock on the systems it
touches, validates against the newest event *under that lock*, and appends in
the same transaction. On any error nothing is written.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from restore import notify, readmodels
from restore.access import Action, Actor, PermissionDenied, can, require
from restore.bounds import backdate_floor, backdate_margin
from restore.combine import Combiner
from restore.domain import (
    Band,
    RestoreError,
    RuleError,
    band_of,
    check_transition,
    needs_hq,
    text_problem,
)
from restore.readmodels.maintain import positions
from restore.readmodels.tables import NO_INCIDENT
from restore.readmodels.walk import Position
from restore.store import (
    CLOSINGS,
    SOURCES,
    Store,
    branch_systems,
    branches,
    events,
    incidents,
    now_utc,
    systems,
)
from restore.timefmt import london_date, show

MAX_NOTE = 2000
FUTURE_SLACK = timedelta(minutes=5)
# A second identical event from the same user this soon is a double tap, not news.
REPEAT_WINDOW = timedelta(minutes=1)


class ValidationError(RestoreError):
    """Bad input: the message says what and how to fix it. Nothing was written."""


class NotFound(ValidationError):
    """An unknown branch, system, user or incident."""


class ConflictError(RestoreError):
    """Someone else recorded a newer event since the writer last looked."""


class DuplicateSubmission(RestoreError):
    """The same form was sent twice, or the same user said the same thing a moment ago."""


@dataclass(frozen=True)
class Change:
    """One requested status change, before validation."""

    state: str
    at: datetime | None  # None: now, read under the writer's lock
    note: str = ""
    eta: date | None = None
    reason: str | None = None
    source: str = "web"
    actor: str | None = None  # kept from an HQ IT import; else the acting user
    recorded_at: datetime | None = None
    incident: str | None = None
    imported: bool = False  # an HQ IT import keeps who, source and recorded time
    submission: str | None = None  # the form submission's idempotency key


@dataclass(frozen=True)
class Last:
    """What a validator needs to know of a branch system's newest event."""

    id: int = 0
    state: str | None = None
    at: datetime | None = None
    eta: date | None = None
    actor: str = ""
    note: str = ""
    recorded_at: datetime | None = None
    incident_id: int | None = None


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
    load_last_many(conn, [target])
    return target


# Statements of every write, built once: building one costs more than running it.
_LAST = (
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
    .where(branch_systems.c.id.in_(bindparam("ids", expanding=True)))
)


def load_last_many(conn: Connection, targets: list[Target]) -> dict[int, Position]:
    """load_last for many targets in one query (under their locks); returns where each
    stands in the read models, so appending them need not read it again (see append)."""
    by_id: dict[int, list[Target]] = {}
    for t in targets:
        by_id.setdefault(t.id, []).append(t)
    out: dict[int, Position] = {}
    for row in conn.execute(_LAST, {"ids": list(by_id)}):
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


def incident_id(conn: Connection, target: Target, change: Change) -> int | None:
    """The incident an event belongs to: the one named, else the system's current episode's.

    A system in service that stays in service belongs to no new incident (it keeps its
    last one). A new outage needs a choice when more than one incident is open; with one
    open it belongs to that one. Raises NotFound or ValidationError, writing nothing.
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
    candidates = open_incidents(conn, change.at)
    if len(candidates) > 1:
        names = "; ".join(name for _, name in candidates)
        raise ValidationError(
            f"more than one incident is open ({names}): say which one this outage of "
            f"{target.branch} {target.system} belongs to"
        )
    return candidates[0][0] if candidates else None


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


def validate(
    actor: Actor,
    target: Target,
    change: Change,
    now: datetime,
    *,
    floor: datetime | None = None,
    conn: Connection | None = None,
) -> dict:
    """Check one change against the rules; return the event row to append, or raise.

    `floor` is the earliest effective time accepted (see backdate_floor). With `conn` (the
    writer's transaction) the recovery gates apply too (restore.recovery.gates). Raises
    PermissionDenied, RuleError (illegal move, naming the legal ones; GateError for a
    missing checklist item or dependency) or ValidationError (every field problem at once).
    """
    require(actor, Action.RECORD_STATUS, branch_id=target.branch_id)
    if change.source not in SOURCES:
        raise ValidationError(
            f"unknown source {change.source!r}; sources are: {', '.join(SOURCES)}"
        )
    if change.source == "phone":
        require(actor, Action.RECORD_ON_BEHALF)
    _check_fields(target, change, now, floor)
    _check_move(actor, target, change, conn)
    row = _event_row(actor, target, change, now)
    if not change.imported:
        _check_repeat(target, row, now)
    return row


def _check_repeat(target: Target, row: dict, now: datetime) -> None:
    """Refuse the same user's identical event within a minute (recorded, and taking effect,
    less than a minute after the last): a double tap, not news."""
    last = target.last
    same = (last.actor, last.state, last.note, last.eta) == (
        row["actor"], row["state"], row["note"], row["eta"],
    )  # fmt: skip
    close = (
        last.recorded_at is not None
        and now - last.recorded_at < REPEAT_WINDOW
        and abs(row["effective_at"] - last.at) < REPEAT_WINDOW
    )
    if same and close:
        raise DuplicateSubmission(
            f"{target.branch} {target.system}: you recorded exactly this at "
            f"{show(last.recorded_at)}; it is not recorded twice"
        )


def _check_fields(target: Target, change: Change, now: datetime, floor: datetime | None) -> None:
    problems = [
        p for p in (text_problem("note", change.note), text_problem("reason", change.reason)) if p
    ]
    if change.at > now + FUTURE_SLACK:
        problems.append(f"effective time {show(change.at)} is in the future (now {show(now)})")
    if floor is not None and change.at < floor:
        problems.append(
            f"effective time {show(change.at)} is before {show(floor)}, the earliest Restore "
            f"accepts ({backdate_margin().days} days before the first incident began)"
        )
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


def _check_move(
    actor: Actor, target: Target, change: Change, conn: Connection | None = None
) -> None:
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
    if conn is not None:
        from restore.recovery import gates  # restore.recovery imports this module

        gates.check(conn, actor, target, change)


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
        "submission": None,
    }


# --- writing -----------------------------------------------------------------


def advance(target: Target, row: dict) -> None:
    """Move the in-memory target past a validated row, so the next row of a batch sees it."""
    if row["state"] != target.last.state:
        target.since = row["effective_at"]
    target.last = Last(
        0, row["state"], row["effective_at"], row["eta"], row["actor"], row["note"],
        row["recorded_at"], row.get("incident_id"),
    )  # fmt: skip


def append(
    conn: Connection, rows: list[tuple[Target, dict]], before: dict[int, Position] | None = None
) -> list[int]:
    """Append validated, advanced rows in order and move each system's pointers; returns ids.

    `before` is where each system stood (load_last_many's answer; read here if None). The
    read models go last: their shared counter rows are what concurrent writers queue on
    (PostgreSQL row locks), so they are locked only for the last statements and the commit.
    """
    ids = (
        conn.execute(
            insert(events).returning(events.c.id, sort_by_parameter_order=True),
            [row for _, row in rows],
        )
        .scalars()
        .all()
    )
    if before is None:
        before = positions(conn, [target.id for target, _ in rows])
    _move_pointers(conn, rows, ids)
    # Ids can commit out of order on PostgreSQL, so caches key on per-topic write counters
    # (bumped by readmodels.apply), never on the newest id alone.
    readmodels.apply(conn, [(row, i) for (_, row), i in zip(rows, ids, strict=True)], before)
    return list(ids)


_MOVE = (
    update(branch_systems)
    .where(branch_systems.c.id == bindparam("b_id"))
    .values(last_event_id=bindparam("b_last"), since=bindparam("b_since"))
)
_MOVE_NOTE = _MOVE.values(note_event_id=bindparam("b_note"))


def _move_pointers(conn: Connection, rows: list[tuple[Target, dict]], ids: list[int]) -> None:
    """Point each system at its newest event (and newest note), one statement per kind."""
    newest: dict[int, dict] = {}
    for (target, row), event_id in zip(rows, ids, strict=True):
        values = newest.setdefault(target.id, {"b_id": target.id})
        values |= {"b_last": event_id, "b_since": target.since}
        if row["note"]:
            values["b_note"] = event_id
    for stmt, noted in ((_MOVE, False), (_MOVE_NOTE, True)):
        batch = [v for v in newest.values() if ("b_note" in v) is noted]
        if batch:
            conn.execute(stmt, batch)


@dataclass(frozen=True)
class Request:
    """One system's change as a page or the CLI asks for it."""

    branch: str
    system: str
    change: Change
    seen_event_id: int | None = None  # newest event the writer saw (0: none; None: no check)
    expect: str | None = None  # the state the system must be in now, if any


def write(
    store: Store,
    actor: Actor,
    requests: list[Request],
    *,
    submission: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Validate every request, then append them all in one transaction; returns event ids.

    `submission` is the form's idempotency key: a second write with the same key is
    refused. Raises NotFound, PermissionDenied, ConflictError, RuleError,
    DuplicateSubmission or ValidationError, and then writes nothing.

    Writes that arrive together in this process share one transaction (see write_combiner);
    each is still validated on its own, and one refused changes nothing for the others.
    """  # fmt: skip
    if not requests:
        raise ValidationError("nothing to record")
    job = _Job(store, actor, tuple(requests), submission)
    if now is None:
        return write_combiner(store).submit(job)  # alerts queued by _notify
    # A caller's own clock (tests, replays): alone, at that moment.
    ids = _outcome(_write_together(store, [job], now)[0])
    notify.after_commit(store, ids)  # alerts go out after the commit; never raises
    return ids


@dataclass(frozen=True)
class _Job:
    """One caller's write: all of its requests are recorded, or none."""

    store: Store
    actor: Actor
    requests: tuple[Request, ...]
    submission: str | None


_COMBINERS: dict[str, Combiner[_Job]] = {}
_COMBINERS_LOCK = threading.Lock()


def write_combiner(store: Store) -> Combiner[_Job]:
    """This process's combiner for the store's database: a group commit. Thirty-two
    writers at once each paid a whole transaction (a dozen round trips, row locks on the
    shared counters, a commit); together they pay about one each, plus their own rows."""
    key = store.engine.url.render_as_string(hide_password=False)
    with _COMBINERS_LOCK:
        if key not in _COMBINERS:
            _COMBINERS[key] = Combiner(_write_batch, after=_notify)
        return _COMBINERS[key]


def _write_batch(jobs: Sequence[_Job]) -> list[object]:
    """The combiner's run: one transaction for all, or, if that fails for a reason no
    validation caught (a database error), each job in a transaction of its own. Jobs that
    touch a system an earlier job of the batch touches follow in a batch of their own."""
    try:
        outcomes = _write_together(jobs[0].store, jobs, None)
    except Exception:
        if len(jobs) == 1:
            raise
        return [
            _capture(lambda job=job: _write_together(job.store, [job], None)[0]) for job in jobs
        ]
    later = [i for i, o in enumerate(outcomes) if o is _LATER]
    if later:
        rest = _capture(lambda: _write_batch([jobs[i] for i in later]))
        for k, i in enumerate(later):
            outcomes[i] = rest if isinstance(rest, BaseException) else rest[k]
    return outcomes


def _notify(jobs: Sequence[_Job], outcomes: list[object]) -> None:
    """Queue a batch's alerts after its commit, once for all of it; never raises."""
    ids = [i for o in outcomes if isinstance(o, list) for i in o]
    if ids:
        notify.after_commit(jobs[0].store, ids)


def _capture(run) -> object:
    try:
        return run()
    except Exception as e:
        return e


def _outcome(outcome: object) -> list[int]:
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome  # type: ignore[return-value]


_LATER = object()  # a job sharing a system with an earlier one in the batch: next batch


def _write_together(store: Store, jobs: Sequence[_Job], now: datetime | None) -> list[object]:
    """Find, lock, validate and append every job in one transaction; per job, its event ids,
    the RestoreError that refused it (and wrote nothing of it), or _LATER."""
    outcomes: list[object] = [None] * len(jobs)
    with store.write() as conn:
        found = _find_jobs(conn, store, jobs, outcomes)
        # The clock is read under the lock, so "now" is never before a rival's commit.
        now = now or now_utc()
        floor = backdate_floor(conn, now)
        before = load_last_many(conn, [t for _, targets in found for t in targets])
        batch, owners = [], []
        for i, targets in found:
            try:
                rows = _prepare_job(conn, jobs[i], targets, now, floor)
            except RestoreError as e:
                outcomes[i] = e
                continue
            batch.extend(rows)
            owners.append((i, len(rows)))
        ids = append(conn, batch, before) if batch else []
    for i, n in owners:
        outcomes[i], ids = ids[:n], ids[n:]
    return outcomes


def _find_jobs(
    conn: Connection, store: Store, jobs: Sequence[_Job], outcomes: list[object]
) -> list[tuple[int, list[Target]]]:
    """Each job's targets, checked for permission and a repeated submission, then all
    locked together (ascending ids, so writers never deadlock). A job that fails gets its
    error in `outcomes`; one touching a system an earlier job touches waits (_LATER)."""
    found: list[tuple[int, list[Target]]] = []
    taken: set[int] = set()
    submitted: set[str] = set()
    alone = len(jobs) == 1 and len(jobs[0].requests) == 1
    known = {} if alone else _find_many(conn, [r for job in jobs for r in job.requests])
    for i, job in enumerate(jobs):
        try:
            targets = _find_targets(conn, store, job.requests, lock=alone, known=known)
            for target in targets:
                require(job.actor, Action.RECORD_STATUS, branch_id=target.branch_id)
            key = (job.submission or "")[:64]
            if key in submitted:
                raise DuplicateSubmission("this form was already recorded; nothing new was written")
            _refuse_repeated_submission(conn, job.submission)
        except RestoreError as e:
            outcomes[i] = e
            continue
        ids = {t.id for t in targets}
        if ids & taken:
            outcomes[i] = _LATER
            continue
        taken |= ids
        submitted |= {key} if key else set()
        found.append((i, targets))
    if not alone:
        store.lock_branch_systems(conn, sorted(taken))
    return found


def _find_targets(
    conn: Connection, store: Store, requests: Sequence[Request], *, lock: bool, known: dict
) -> list[Target]:
    """find_target for each request, from `known` (_find_many) where it is there. A single
    change, the usual write, is found (and with `lock`, locked) by one query instead of
    three: each statement saved is a round trip."""
    out = []
    for r in requests:
        key = _names(r)
        if key in known:
            found = replace(known[key])  # each job advances its own copy
        else:
            found = _find_one(conn, store, r.branch, r.system, lock=lock and len(requests) == 1)
        out.append(found or find_target(conn, r.branch, r.system))  # find_target says why not
    return out


def _names(r: Request) -> tuple[str, str]:
    return (r.branch or "").strip().lower(), (r.system or "").strip().lower()


def _find_many(conn: Connection, requests: Sequence[Request]) -> dict[tuple[str, str], Target]:
    """Every request's branch system in one query, by its (branch, system) names as given;
    names not found are left out (find_target then says why)."""
    names = {_names(r) for r in requests}
    if not names:
        return {}
    b_keys, s_keys = sorted({b for b, _ in names}), sorted({s for _, s in names})
    rows = conn.execute(
        _FIND.where(
            func.lower(branches.c.name).in_(b_keys) | func.lower(branches.c.slug).in_(b_keys),
            func.lower(systems.c.key).in_(s_keys),
        ).order_by(branch_systems.c.id)
    )
    out: dict[tuple[str, str], Target] = {}
    for row in rows:
        for b in {row.name.lower(), row.slug.lower()}:
            if (b, row.key.lower()) in names:
                out.setdefault((b, row.key.lower()), Target(
                    row.id, row.branch_id, row.name, row.key, row.since
                ))  # fmt: skip
    return out


def _prepare_job(conn: Connection, job: _Job, targets: list[Target], now, floor) -> list:
    """Every request of one job checked and advanced: (target, row) pairs to append."""
    rows = []
    for request, target in zip(job.requests, targets, strict=True):
        row = _prepare(conn, job.actor, request, target, now, floor)
        advance(target, row)
        rows.append((target, row))
    if job.submission:
        rows[0][1]["submission"] = job.submission[:64]
    return rows


_BRANCH, _SYSTEM = bindparam("b_branch"), bindparam("b_system")
_FIND = (
    select(branch_systems.c.id, branch_systems.c.since, systems.c.key,
           branches.c.id.label("branch_id"), branches.c.name, branches.c.slug)
    .join(branches, branches.c.id == branch_systems.c.branch_id)
    .join(systems, systems.c.id == branch_systems.c.system_id)
)  # fmt: skip
_FIND_ONE = (
    _FIND.where((func.lower(branches.c.name) == _BRANCH) | (func.lower(branches.c.slug) == _BRANCH))
    .where(func.lower(systems.c.key) == _SYSTEM)
    .order_by(branch_systems.c.id)
    .limit(1)
)  # fmt: skip
_FIND_ONE_LOCKED = _FIND_ONE.with_for_update(of=branch_systems)


def _find_one(
    conn: Connection, store: Store, branch: str, system: str, *, lock: bool
) -> Target | None:
    """find_target (and with `lock`, lock_branch_systems) in one query; None if not found
    (find_target then says why)."""
    # SQLite's BEGIN IMMEDIATE already locks all.
    q = _FIND_ONE_LOCKED if lock and store.dialect != "sqlite" else _FIND_ONE
    key = {"b_branch": (branch or "").strip().lower(), "b_system": (system or "").strip().lower()}
    row = conn.execute(q, key).first()
    return None if row is None else Target(row.id, row.branch_id, row.name, row.key, row.since)


def _prepare(conn: Connection, actor: Actor, request: Request, target: Target, now, floor) -> dict:
    """Check one request against the system's newest event; return the row to append."""
    change = request.change if request.change.at else replace(request.change, at=now)
    if request.seen_event_id not in (None, target.last.id) and not change.imported:
        # A second tap that overtook the first one's page refresh is a repeat, not
        # someone else's change.
        _check_repeat(target, _event_row(actor, target, change, now), now)
    check_conflict(target, request.seen_event_id)
    if request.expect and target.last.state != request.expect:
        raise ValidationError(
            f"{target.branch} {target.system} is {target.last.state or 'not reported'}, "
            f"not {request.expect}: nothing was recorded"
        )
    row = validate(actor, target, change, now, floor=floor, conn=conn)
    row["incident_id"] = incident_id(conn, target, change)
    return row


def _refuse_repeated_submission(conn: Connection, submission: str | None) -> None:
    if not submission:
        return
    done = conn.execute(select(events.c.id).where(events.c.submission == submission[:64]))
    if done.first() is not None:
        raise DuplicateSubmission("this form was already recorded; nothing new was written")


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
