"""The rules a change must pass against its system's newest event (pure but for the
recovery gates, which read the writer's transaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from restore.access import Action, Actor, PermissionDenied, can, require
from restore.bounds import backdate_margin
from restore.domain import Band, RuleError, band_of, check_transition, needs_hq, text_problem
from restore.records.base import (
    FUTURE_SLACK,
    MAX_NOTE,
    REPEAT_WINDOW,
    Change,
    ConflictError,
    DuplicateSubmission,
    Last,
    Target,
    ValidationError,
)  # fmt: skip
from restore.store import SOURCES
from restore.timefmt import london_date, show


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
    row = event_row(actor, target, change, now)
    if not change.imported:
        check_repeat(target, row, now)
    return row


def check_repeat(target: Target, row: dict, now: datetime) -> None:
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


def event_row(actor: Actor, target: Target, change: Change, now: datetime) -> dict:
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


def advance(target: Target, row: dict) -> None:
    """Move the in-memory target past a validated row, so the next row of a batch sees it."""
    if row["state"] != target.last.state:
        target.since = row["effective_at"]
    target.last = Last(
        0, row["state"], row["effective_at"], row["eta"], row["actor"], row["note"],
        row["recorded_at"], row.get("incident_id"),
    )  # fmt: skip
