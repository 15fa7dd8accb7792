"""Writes in one transaction, and concurrent writers' writes in one shared transaction
(restore.combine: a group commit), each still found, checked and refused on its own."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache

from sqlalchemy import Select, select
from sqlalchemy.engine import Connection

from restore import notify
from restore.access import Action, Actor, require
from restore.bindlists import one_of
from restore.bounds import backdate_floor
from restore.combine import Combiner
from restore.domain import RestoreError
from restore.records.append import append
from restore.records.base import DuplicateSubmission, Request, Target, ValidationError
from restore.records.checks import advance, check_conflict, check_repeat, event_row, validate
from restore.records.lookup import find_many, find_targets, incident_id, load_last_many
from restore.store import Store, events, now_utc


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


_LATER = object()  # a job that must wait for the next batch (see _find_jobs)


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
        batch, owners, opened = [], [], {}
        for i, targets in found:
            try:
                rows = _prepare_job(conn, jobs[i], targets, now, floor, opened)
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
    """Each job's targets, checked for permission, then all locked together (ascending ids,
    so writers never deadlock) and checked for a form already recorded. A job that fails
    gets its error in `outcomes`. A job waits for the next batch (_LATER) if it touches a
    system an earlier job touches, sends the same form again, or, like an earlier job,
    touches a system with dependencies: the recovery gates read the other systems' committed
    state, which the batch has not written yet."""
    found: list[tuple[int, list[Target]]] = []
    taken: set[int] = set()
    submitted: set[str] = set()
    alone = len(jobs) == 1 and len(jobs[0].requests) == 1
    known = {} if alone else find_many(conn, [r for job in jobs for r in job.requests])
    linked, gated = _linked(conn, known) if len(jobs) > 1 else set(), False
    for i, job in enumerate(jobs):
        try:
            targets = find_targets(conn, store, job.requests, lock=alone, known=known)
            for target in targets:
                require(job.actor, Action.RECORD_STATUS, branch_id=target.branch_id)
        except RestoreError as e:
            outcomes[i] = e
            continue
        ids, key = {t.id for t in targets}, (job.submission or "")[:64]
        depends = bool(ids & linked)
        if ids & taken or (key and key in submitted) or (depends and gated):
            outcomes[i] = _LATER
            continue
        taken |= ids
        submitted |= {key} if key else set()
        gated |= depends
        found.append((i, targets))
    if not alone:
        store.lock_branch_systems(conn, sorted(taken))
    return _not_yet_recorded(conn, jobs, found, outcomes)


def _linked(conn: Connection, known: dict) -> set[int]:
    """The batch's branch systems that depend on others or that others depend on."""
    ids = sorted({t.id for t in known.values()})
    if not ids:
        return set()
    rows = conn.execute(_depends(conn.dialect.name), {"ids": ids}).all()
    return {i for row in rows for i in row} & set(ids)


@cache  # built once per dialect: building costs more than running
def _depends(dialect: str) -> Select:
    from restore.recovery.tables import dependencies  # restore.recovery imports records

    d = dependencies.c
    return select(d.branch_system_id, d.on_id).where(
        one_of(d.branch_system_id, "ids", dialect) | one_of(d.on_id, "ids", dialect)
    )


def _not_yet_recorded(
    conn: Connection, jobs: Sequence[_Job], found: list, outcomes: list[object]
) -> list[tuple[int, list[Target]]]:
    """The found jobs less those whose form is already recorded (checked under the locks,
    so a rival's commit of the same form is seen)."""
    out = []
    for i, targets in found:
        try:
            _refuse_repeated_submission(conn, jobs[i].submission)
        except RestoreError as e:
            outcomes[i] = e
            continue
        out.append((i, targets))
    return out


def _prepare_job(
    conn: Connection, job: _Job, targets: list[Target], now, floor, opened: dict
) -> list:
    """Every request of one job checked and advanced: (target, row) pairs to append."""
    rows = []
    for request, target in zip(job.requests, targets, strict=True):
        row = _prepare(conn, job.actor, request, target, now, floor, opened)
        advance(target, row)
        rows.append((target, row))
    if job.submission:
        rows[0][1]["submission"] = job.submission[:64]
    return rows


def _prepare(
    conn: Connection, actor: Actor, request: Request, target: Target, now, floor, opened: dict
) -> dict:
    """Check one request against the system's newest event; return the row to append."""
    change = request.change if request.change.at else replace(request.change, at=now)
    if request.seen_event_id not in (None, target.last.id) and not change.imported:
        # A second tap that overtook the first one's page refresh is a repeat, not
        # someone else's change.
        check_repeat(target, event_row(actor, target, change, now), now)
    check_conflict(target, request.seen_event_id)
    if request.expect and target.last.state != request.expect:
        raise ValidationError(
            f"{target.branch} {target.system} is {target.last.state or 'not reported'}, "
            f"not {request.expect}: nothing was recorded"
        )
    row = validate(actor, target, change, now, floor=floor, conn=conn)
    row["incident_id"] = incident_id(conn, target, change, opened)
    return row


def _refuse_repeated_submission(conn: Connection, submission: str | None) -> None:
    if not submission:
        return
    done = conn.execute(select(events.c.id).where(events.c.submission == submission[:64]))
    if done.first() is not None:
        raise DuplicateSubmission("this form was already recorded; nothing new was written")
