"""Regulatory and contractual clocks of an incident: the regulator's 72 hours after
awareness of a personal-data breach, the insurer's notification, the board's deadlines.

A clock starts at a recorded moment and is due `due_hours` later. Its state is derived,
never stored: `met` when a notification (an append-only event with a reference number and
who made it) came by the due time; `missed` when the due time passed first (a late
notification keeps its reference); otherwise `running`. A running clock due within
RISK_HOURS is a risk for the briefing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select

from restore.access import Action, Actor, require
from restore.audit import actor_name, record
from restore.directory import refuse_control
from restore.records import FUTURE_SLACK, NotFound, ValidationError
from restore.recovery.tables import clock_events, clocks
from restore.store import Store, bump_revision, incidents, now_utc
from restore.timefmt import show

RISK_HOURS = 12
MAX_DUE_HOURS = 24 * 366


@dataclass(frozen=True)
class Clock:
    id: int
    incident: str
    title: str
    started_at: datetime
    due_at: datetime
    owner: str
    state: str  # running | met | missed
    met_at: datetime | None = None
    met_by: str | None = None
    reference: str | None = None
    hours_left: float | None = None  # running clocks: hours until due (negative: never)

    def to_json(self) -> dict:
        d = asdict(self)
        for k in ("started_at", "due_at", "met_at"):
            d[k] = d[k].isoformat() if d[k] else None
        return d

    def countdown(self) -> str:
        """ "due in 5 h 20 min", "met 26 Nov 14:02 (ICO-123)", "missed (due 25 Nov 19:00)"."""
        if self.state == "met":
            return f"met {show(self.met_at)} by {self.met_by} (reference {self.reference})"
        if self.state == "missed":
            late = f"; notified late {show(self.met_at)}" if self.met_at else ""
            return f"missed (due {show(self.due_at)}){late}"
        minutes = int((self.hours_left or 0) * 60)
        days, rest = divmod(minutes, 24 * 60)
        hours, mins = divmod(rest, 60)
        left = f"{days} d {hours} h" if days else f"{hours} h {mins} min"
        return f"due in {left} ({show(self.due_at)})"


def state_of(due_at: datetime, met_at: datetime | None, now: datetime) -> str:
    if met_at is not None:
        return "met" if met_at <= due_at else "missed"
    return "missed" if now > due_at else "running"


def add(
    store: Store,
    actor: Actor,
    *,
    incident: str,
    title: str,
    start: datetime,
    due_hours: int,
    owner: str | None = None,
    now: datetime | None = None,
) -> int:
    """Start a clock on an incident (HQ IT or leadership); returns its id. `start` (aware)
    is the recorded moment it runs from; the owner defaults to the acting user."""
    require(actor, Action.RECORD_CLOCK)
    now = now or now_utc()
    title, owner = " ".join((title or "").split()), (owner or actor.username or "").strip()
    refuse_control(title=title, owner=owner)
    problems = []
    if not title or len(title) > 200:
        problems.append("a clock needs a title of 1-200 characters")
    if not owner or len(owner) > 200:
        problems.append("a clock needs an owner of 1-200 characters")
    if not isinstance(due_hours, int) or not 1 <= due_hours <= MAX_DUE_HOURS:
        problems.append(f"due hours must be a whole number from 1 to {MAX_DUE_HOURS}")
    if start.tzinfo is None or start > now + FUTURE_SLACK:
        problems.append(f"the start {show(start) if start.tzinfo else start} is in the future")
    if problems:
        raise ValidationError("; ".join(problems))
    with store.write() as conn:
        found = conn.execute(
            select(incidents.c.id).where(incidents.c.name == (incident or "").strip())
        ).scalar()
        if found is None:
            raise NotFound(f"unknown incident {incident!r}")
        new_id = conn.execute(
            insert(clocks).values(
                incident_id=found,
                title=title,
                started_at=start,
                due_hours=due_hours,
                owner=owner,
                created_by=actor.username,
                created_at=now,
            )
        ).inserted_primary_key[0]
        bump_revision(conn)
        details = {"incident": incident, "start": start, "due_hours": due_hours, "owner": owner}
        record(
            conn,
            actor=actor_name(actor),
            action="clock.add",
            subject=title,
            details=details | {"id": new_id},
            now=now,
        )
        return new_id


def met(
    store: Store,
    actor: Actor,
    *,
    clock_id: int,
    reference: str,
    at: datetime | None = None,
    note: str = "",
    now: datetime | None = None,
) -> None:
    """Record the notification that meets a clock, with its reference number (HQ IT or
    leadership). `at` (default now) is when it was made. Refused if already recorded."""
    require(actor, Action.RECORD_CLOCK)
    now = now or now_utc()
    at = at or now
    reference = (reference or "").strip()
    refuse_control(reference=reference, note=note)
    if not reference or len(reference) > 200:
        raise ValidationError("a notification needs its reference number (1-200 characters)")
    if at > now + FUTURE_SLACK:
        raise ValidationError("a notification cannot be made in the future")
    with store.write() as conn:
        row = conn.execute(select(clocks).where(clocks.c.id == clock_id)).first()
        if row is None:
            raise NotFound(f"no clock {clock_id}")
        if at < row.started_at:
            raise ValidationError(
                f"the notification is before the clock started ({show(row.started_at)})"
            )
        done = conn.execute(
            select(clock_events.c.reference).where(clock_events.c.clock_id == clock_id)
        ).first()
        if done is not None:
            raise ValidationError(f"clock {clock_id} was already met (reference {done.reference})")
        conn.execute(
            insert(clock_events).values(
                clock_id=clock_id, at=at, actor=actor.username, reference=reference, note=note or ""
            )
        )
        bump_revision(conn)
        record(
            conn,
            actor=actor_name(actor),
            action="clock.met",
            subject=row.title,
            details={"id": clock_id, "reference": reference, "at": at},
            now=now,
        )


def listing(
    store: Store, *, now: datetime | None = None, incident: str | None = None
) -> list[Clock]:
    """Every clock (of one incident, if named), soonest due first, with its state at `now`."""
    now = now or now_utc()
    first = select(
        clock_events.c.clock_id, clock_events.c.at, clock_events.c.actor, clock_events.c.reference
    ).order_by(clock_events.c.id)
    q = select(clocks, incidents.c.name.label("incident")).join(
        incidents, incidents.c.id == clocks.c.incident_id
    )
    if incident:
        q = q.where(incidents.c.name == incident)
    with store.read() as conn:
        notes: dict[int, tuple] = {}
        for r in conn.execute(first):
            notes.setdefault(r.clock_id, (r.at, r.actor, r.reference))
        rows = conn.execute(q).all()
    out = []
    for r in rows:
        due = r.started_at + timedelta(hours=r.due_hours)
        met_at, met_by, ref = notes.get(r.id, (None, None, None))
        state = state_of(due, met_at, now)
        left = (due - now).total_seconds() / 3600 if state == "running" else None
        out.append(
            Clock(
                r.id,
                r.incident,
                r.title,
                r.started_at,
                due,
                r.owner,
                state,
                met_at,
                met_by,
                ref,
                left,
            )
        )
    return sorted(out, key=lambda c: (c.due_at, c.id))


def risks(store: Store, *, now: datetime | None = None, hours: int = RISK_HOURS) -> list[str]:
    """A sentence per running clock due within `hours`, soonest first (for the briefing)."""
    now = now or now_utc()
    return [
        f"{c.title} ({c.incident}, owner {c.owner}) is {c.countdown()}"
        for c in listing(store, now=now)
        if c.state == "running" and c.hours_left is not None and c.hours_left <= hours
    ]
