"""Briefings from the database: draft one for any moment, publish it immutably, read it back."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

import pandas as pd
from sqlalchemy import insert, select

from restore import readplan
from restore.access import Action, Actor, require
from restore.audit import record
from restore.briefing import Briefing, Inputs, compose, to_markdown
from restore.directory import refuse_control
from restore.records import ValidationError
from restore.store import Store, briefings, now_utc

MAX_TITLE, MAX_NOTE = 200, 5000


def inputs_from(frames: dict) -> Inputs:
    """A briefing's inputs from readplan.moment()'s frames."""
    return Inputs(
        board=frames["board"],
        change_24h=frames["change_24h"],
        daily=frames["daily"],
        incidents=frames["incidents"],
        episodes=frames["episodes"],
    )


def inputs(store: Store, as_of: datetime) -> Inputs:
    """The frames a briefing as of `as_of` is composed from, read straight from the log."""
    plan = readplan.moment(as_of, as_of)
    keep = ("board", "change_24h", "daily", "incidents", "episodes")
    frames = readplan.load({k: plan[k] for k in keep}, readplan.direct(store))
    return with_clocks(inputs_from(frames), store, as_of)


def with_clocks(inputs: Inputs, store: Store, as_of: datetime) -> Inputs:
    """The inputs with the regulatory and contractual clocks as they stood at `as_of`."""
    from restore.recovery_views import briefing_clocks  # recovery imports this module

    return dataclasses.replace(inputs, clocks=briefing_clocks(store, as_of))


def previous(store: Store, as_of: datetime) -> dict | None:
    """The newest published briefing as of before `as_of`: its content plus title."""
    with store.read() as conn:
        row = conn.execute(
            select(briefings.c.title, briefings.c.figures)
            .where(briefings.c.as_of < as_of)
            .order_by(briefings.c.as_of.desc(), briefings.c.id.desc())
            .limit(1)
        ).first()
    return None if row is None else json.loads(row.figures) | {"title": row.title}


def draft(store: Store, as_of: datetime | None = None) -> Briefing:
    """The briefing for `as_of` (default now), compared with the last one published before it."""
    as_of = as_of or now_utc()
    return compose(inputs(store, as_of), as_of, previous(store, as_of))


def publish(
    store: Store,
    actor: Actor,
    *,
    title: str,
    note: str = "",
    as_of: datetime | None = None,
    images: tuple[bytes | None, bytes | None] | None = None,
    now: datetime | None = None,
) -> int:
    """Store a briefing, its text and figures (and chart pictures), for good; returns its id.

    HQ IT and leadership only, audited. Raises PermissionDenied or ValidationError, writing
    nothing.
    """
    require(actor, Action.PUBLISH_BRIEFING)
    title, note = (title or "").strip(), (note or "").strip()
    refuse_control(title=title, note=note)
    if not title or len(title) > MAX_TITLE:
        raise ValidationError(f"a briefing needs a title of 1-{MAX_TITLE} characters")
    if len(note) > MAX_NOTE:
        raise ValidationError(f"the covering note is longer than {MAX_NOTE} characters")
    now = now or now_utc()
    as_of = min(as_of or now, now)
    b = draft(store, as_of)
    text = to_markdown(
        b, title=title, note=note, author=actor.username, published_at=now.isoformat()
    )
    progress_png, grid_png = images or (None, None)
    with store.write() as conn:
        new_id = conn.execute(
            insert(briefings).values(
                title=title,
                note=note,
                author=actor.username,
                published_at=now,
                as_of=as_of,
                markdown=text,
                figures=json.dumps(b.to_json()),
                progress_png=progress_png,
                grid_png=grid_png,
            )
        ).inserted_primary_key[0]
        details = {"title": title, "as_of": as_of}
        record(
            conn,
            actor=actor.username,
            action="briefing.publish",
            subject=str(new_id),
            details=details,
            now=now,
        )
        return new_id


def published(store: Store) -> pd.DataFrame:
    """Every published briefing, newest first (without its content)."""
    q = select(
        briefings.c.id,
        briefings.c.title,
        briefings.c.author,
        briefings.c.published_at,
        briefings.c.as_of,
    ).order_by(briefings.c.published_at.desc(), briefings.c.id.desc())
    with store.read() as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=list(q.selected_columns.keys()))


def load(store: Store, briefing_id: int) -> dict:
    """One published briefing: title, note, author, times, markdown, figures, pictures."""
    with store.read() as conn:
        row = (
            conn.execute(select(briefings).where(briefings.c.id == briefing_id)).mappings().first()
        )
    if row is None:
        raise ValidationError(f"no published briefing {briefing_id}")
    return dict(row) | {"figures": json.loads(row["figures"])}
