"""Closing an incident: criteria, HQ IT's proposal, leadership's confirmation (a second
key: the proposer cannot confirm), and the frozen final report.

The criteria: every affected system in service and verified (restored, or degraded after
HQ IT's checks), every checklist of an affected system complete, no affected system
waiting on a system out of service, and no affected system out of service again within the
incident's re-infection window (N days, 14 unless set). A closed incident keeps its report
(Markdown and PDF) and figures (JSON) as they were at confirmation, and leaves the live
overview (open_incidents()).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from restore.access import Action, Actor, require
from restore.audit import actor_name, record
from restore.directory import refuse_control
from restore.domain import STATES, Band, label_of
from restore.records import MAX_NOTE, NotFound, ValidationError
from restore.recovery import report
from restore.recovery.checklists import missing
from restore.recovery.depends import waiting_on
from restore.recovery.tables import closings
from restore.store import (
    Store,
    branch_systems,
    branches,
    bump_revision,
    events,
    incidents,
    now_utc,
    systems,
)
from restore.timefmt import show

DEFAULT_REINFECTION_DAYS = 14
NAMED = 8  # systems named per unmet criterion before "and N more"
_ATTACK = ("outage", "contained")
_OUT = tuple(s for s, st in STATES.items() if st.band is not Band.IN)


class ClosingRefused(ValidationError):
    """The incident cannot be closed (yet): the message names each unmet criterion."""


@dataclass(frozen=True)
class IncidentStatus:
    name: str
    started_at: datetime
    state: str  # open | proposed | closed
    reinfection_days: int
    proposed_by: str | None = None
    proposed_at: datetime | None = None
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None


def _incident(conn: Connection, name: str):
    row = conn.execute(select(incidents).where(incidents.c.name == (name or "").strip())).first()
    if row is None:
        raise NotFound(f"unknown incident {name!r}")
    return row


def _closing(conn: Connection, incident_id: int):
    return conn.execute(select(closings).where(closings.c.incident_id == incident_id)).first()


def _names(items: list[str]) -> str:
    more = len(items) - NAMED
    return ", ".join(items[:NAMED]) + (f" and {more} more" if more > 0 else "")


def unmet(conn: Connection, incident_id: int, now: datetime) -> list[str]:
    """Each unmet criterion in words, naming the systems (empty: the incident may close)."""
    row = _closing(conn, incident_id)
    days = row.reinfection_days if row else DEFAULT_REINFECTION_DAYS
    ids = report.affected(conn, incident_id)
    rows = conn.execute(
        select(
            branch_systems.c.id,
            branches.c.slug,
            systems.c.key,
            events.c.state,
            branch_systems.c.since,
        )
        .join(branches, branches.c.id == branch_systems.c.branch_id)
        .join(systems, systems.c.id == branch_systems.c.system_id)
        .join(events, events.c.id == branch_systems.c.last_event_id)
        .where(branch_systems.c.id.in_(ids or [-1]))
        .order_by(branches.c.slug, systems.c.id)
    ).all()
    out_now = [
        f"{r.slug}:{r.key} ({label_of(r.state)})"
        for r in rows
        if r.state not in ("restored", "degraded")
    ]
    open_lists, waiting = [], []
    for r in rows:
        left = missing(conn, r.id, r.key, "restored")
        if left:
            open_lists.append(f"{r.slug}:{r.key} ({', '.join(i.key for i in left)})")
        if blockers := waiting_on(conn, r.id):
            waiting.append(f"{r.slug}:{r.key} on {', '.join(blockers)}")
    since = now - timedelta(days=days)
    again = conn.execute(
        select(branches.c.slug, systems.c.key, func.max(events.c.effective_at).label("at"))
        .select_from(events)
        .join(branch_systems, branch_systems.c.id == events.c.branch_system_id)
        .join(branches, branches.c.id == branch_systems.c.branch_id)
        .join(systems, systems.c.id == branch_systems.c.system_id)
        .where(
            events.c.branch_system_id.in_(ids or [-1]),
            events.c.state.in_(_ATTACK),
            events.c.effective_at > since,
            events.c.effective_at <= now,
        )
        .group_by(branches.c.slug, systems.c.key)
        .order_by(branches.c.slug, systems.c.key)
    ).all()
    problems = []
    if out_now:
        problems.append(f"not every affected system is in service and verified: {_names(out_now)}")
    if open_lists:
        problems.append(f"checklists not complete: {_names(open_lists)}")
    if waiting:
        problems.append(f"open dependencies: {_names(waiting)}")
    if again:
        lost = [f"{r.slug}:{r.key} on {show(r.at)}" for r in again]
        problems.append(
            f"systems went out of service within the last {days} days (the re-infection "
            f"window): {_names(lost)}"
        )
    return problems


def criteria(store: Store, *, incident: str, now: datetime | None = None) -> list[str]:
    """The unmet criteria of an incident now (empty: HQ IT may propose closing it)."""
    with store.read() as conn:
        return unmet(conn, _incident(conn, incident).id, now or now_utc())


def set_reinfection_days(
    store: Store, actor: Actor, *, incident: str, days: int, now: datetime | None = None
) -> None:
    """Set N, the days without re-infection an incident needs before it may close (HQ IT)."""
    require(actor, Action.PROPOSE_CLOSE)
    if not isinstance(days, int) or not 0 <= days <= 365:
        raise ValidationError("re-infection days must be a whole number from 0 to 365")
    with store.write() as conn:
        inc = _incident(conn, incident)
        row = _closing(conn, inc.id)
        if row is not None and row.confirmed_at is not None:
            raise ValidationError(f"{inc.name} is closed: its figures are frozen")
        if row is None:
            conn.execute(insert(closings).values(incident_id=inc.id, reinfection_days=days))
        else:
            conn.execute(
                update(closings)
                .where(closings.c.incident_id == inc.id)
                .values(reinfection_days=days)
            )
        bump_revision(conn)
        old = row.reinfection_days if row else DEFAULT_REINFECTION_DAYS
        record(
            conn,
            actor=actor_name(actor),
            action="incident.reinfection_days",
            subject=inc.name,
            details={"old": old, "new": days},
            now=now,
        )


def _check_lessons(lessons: str, actions: list[tuple[str, str]], problems: list[str]) -> list[dict]:
    """The actions as {"action", "owner"}; each problem is added to `problems`."""
    refuse_control(lessons=lessons)
    if not (lessons or "").strip():
        problems.append("write the lessons learned before proposing the closing")
    if len(lessons or "") > 20 * MAX_NOTE:
        problems.append(f"lessons learned are longer than {20 * MAX_NOTE} characters")
    out = []
    for n, (action, owner) in enumerate(actions, start=1):
        action, owner = " ".join((action or "").split()), " ".join((owner or "").split())
        refuse_control(action=action, owner=owner)
        if not action or not owner:
            problems.append(f"action {n} needs both what is to be done and an owner")
        out.append({"action": action[:500], "owner": owner[:200]})
    return out


def propose(
    store: Store,
    actor: Actor,
    *,
    incident: str,
    lessons: str,
    actions: list[tuple[str, str]] = (),
    now: datetime | None = None,
) -> None:
    """HQ IT proposes "recovery complete", with the lessons learned and the actions (what,
    owner). Refused with ClosingRefused naming each unmet criterion (and any problem with
    the lessons); a closed incident cannot be proposed again. A new proposal replaces an
    unconfirmed one. Nothing is written on a refusal."""
    require(actor, Action.PROPOSE_CLOSE)
    lesson_problems: list[str] = []
    listed = _check_lessons(lessons, list(actions), lesson_problems)
    now = now or now_utc()
    with store.write() as conn:
        inc = _incident(conn, incident)
        row = _closing(conn, inc.id)
        if row is not None and row.confirmed_at is not None:
            raise ValidationError(f"{inc.name} was closed on {show(row.confirmed_at)}")
        if problems := unmet(conn, inc.id, now) + lesson_problems:
            raise ClosingRefused(f"{inc.name} cannot close yet: " + "; ".join(problems))
        values = {
            "proposed_by": actor.username,
            "proposed_at": now,
            "lessons": lessons.strip(),
            "actions": json.dumps(listed),
        }
        if row is None:
            conn.execute(insert(closings).values(incident_id=inc.id, **values))
        else:
            conn.execute(update(closings).where(closings.c.incident_id == inc.id).values(values))
        bump_revision(conn)
        record(
            conn,
            actor=actor_name(actor),
            action="incident.propose_close",
            subject=inc.name,
            details={"lessons": lessons.strip(), "actions": listed},
            now=now,
        )


def confirm(store: Store, actor: Actor, *, incident: str, now: datetime | None = None) -> None:
    """Leadership confirms the proposed closing (the second key: not the proposer). The
    criteria are checked again; the final report (Markdown, PDF) and its figures (JSON)
    are stored and frozen. Raises PermissionDenied, ClosingRefused or ValidationError,
    writing nothing."""
    require(actor, Action.CONFIRM_CLOSE)
    now = now or now_utc()
    with store.read() as conn:
        inc = _incident(conn, incident)
        row = _closing(conn, inc.id)
    _check_confirmable(inc, row, actor)
    closing = {
        "proposed_by": row.proposed_by,
        "proposed_at": row.proposed_at.isoformat(),
        "confirmed_by": actor.username,
        "confirmed_at": now.isoformat(),
        "lessons": row.lessons,
        "actions": json.loads(row.actions),
        "reinfection_days": row.reinfection_days,
    }
    figures = report.figures(store, inc.name, closing=closing, now=now)
    markdown, pdf = report.to_markdown(figures), report.to_pdf(figures)
    with store.write() as conn:
        row = _closing(conn, inc.id)
        _check_confirmable(inc, row, actor)
        if problems := unmet(conn, inc.id, now):
            raise ClosingRefused(f"{inc.name} cannot close yet: " + "; ".join(problems))
        conn.execute(
            update(closings)
            .where(closings.c.incident_id == inc.id, closings.c.confirmed_at.is_(None))
            .values(
                confirmed_by=actor.username,
                confirmed_at=now,
                report_md=markdown,
                report_pdf=pdf,
                figures=json.dumps(figures, ensure_ascii=False),
            )
        )
        bump_revision(conn)
        record(
            conn,
            actor=actor_name(actor),
            action="incident.close",
            subject=inc.name,
            details={"proposed_by": row.proposed_by},
            now=now,
        )


def _check_confirmable(inc, row, actor: Actor) -> None:
    if row is None or row.proposed_at is None:
        raise ValidationError(f"{inc.name}: HQ IT has not proposed closing it")
    if row.confirmed_at is not None:
        raise ValidationError(f"{inc.name} was closed on {show(row.confirmed_at)}")
    if row.proposed_by == actor.username:
        raise ValidationError(
            f"{actor.username} proposed closing {inc.name}: someone else must confirm it"
        )


def statuses(store: Store) -> list[IncidentStatus]:
    """Every incident, oldest first, with its closing state (open, proposed, closed)."""
    with store.read() as conn:
        rows = conn.execute(
            select(incidents.c.name, incidents.c.started_at, closings)
            .outerjoin(closings, closings.c.incident_id == incidents.c.id)
            .order_by(incidents.c.started_at, incidents.c.id)
        ).all()
    out = []
    for r in rows:
        state = "closed" if r.confirmed_at else "proposed" if r.proposed_at else "open"
        days = r.reinfection_days if r.reinfection_days is not None else DEFAULT_REINFECTION_DAYS
        out.append(
            IncidentStatus(
                r.name,
                r.started_at,
                state,
                days,
                r.proposed_by,
                r.proposed_at,
                r.confirmed_by,
                r.confirmed_at,
            )
        )
    return out


def open_incidents(store: Store) -> list[str]:
    """Names of the incidents not closed, oldest first: the live overview shows these."""
    return [s.name for s in statuses(store) if s.state != "closed"]


def closed_incidents(store: Store) -> list[str]:
    return [s.name for s in statuses(store) if s.state == "closed"]


def final_report(store: Store, *, incident: str, fmt: str = "md") -> bytes:
    """The stored final report of a closed incident, as Markdown (UTF-8) or PDF."""
    if fmt not in ("md", "pdf"):
        raise ValidationError("format must be md or pdf")
    with store.read() as conn:
        inc = _incident(conn, incident)
        row = _closing(conn, inc.id)
    if row is None or row.confirmed_at is None:
        raise ValidationError(f"{inc.name} is not closed: it has no final report yet")
    return row.report_md.encode() if fmt == "md" else bytes(row.report_pdf)


def frozen_figures(store: Store, *, incident: str) -> dict:
    """The figures of a closed incident as they were at its closing."""
    with store.read() as conn:
        inc = _incident(conn, incident)
        row = _closing(conn, inc.id)
    if row is None or row.confirmed_at is None:
        raise ValidationError(f"{inc.name} is not closed")
    return json.loads(row.figures)
