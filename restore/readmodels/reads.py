"""Reads over the read-model tables, answering what restore.queries and restore.timelines
promise without scanning the log: each returns the frame its log-replaying ancestor did."""

from __future__ import annotations

from datetime import date, datetime, time

import pandas as pd
from sqlalchemy import case, func, select, tuple_
from sqlalchemy.sql import Select

from restore.domain import STATE_IDS, Band, band_of
from restore.filters import Filters, scope
from restore.frames import raw_time, rows_frame, times
from restore.readmodels.tables import eta_moves, outages, state_days, state_spans
from restore.store import Store, branch_systems, branches, incidents, systems
from restore.timefmt import LONDON, london_date

Pairs = tuple[tuple[str, str], ...]  # (branch name, system key)
IN_STATES = [s for s in STATE_IDS if band_of(s) is Band.IN]


def day_start(day: date) -> datetime:
    """London midnight at the start of `day`, as an aware time."""
    return datetime.combine(day, time(0), LONDON)


# --- state counts per day ---------------------------------------------------------


def _day_filters(q: Select, filters: Filters) -> Select:
    if filters.regions:
        q = q.where(state_days.c.region.in_(filters.regions))
    if filters.systems:
        q = q.where(systems.c.key.in_(filters.systems))
    if filters.incident:
        q = q.where(state_days.c.incident_id.in_(_incident_id(filters.incident)))
    return q


def _incident_id(name: str):
    return select(incidents.c.id).where(incidents.c.name == name)


def day_deltas(store: Store, filters: Filters, until: datetime) -> pd.DataFrame:
    """Net change per London day, system key and state, up to `until`: whole days before
    its day from rm_state_days, its own day from that day's state spans up to `until`."""
    day = london_date(until)
    q = _day_filters(
        select(state_days.c.day, systems.c.key, state_days.c.state, func.sum(state_days.c.n))
        .join(systems, systems.c.id == state_days.c.system_id)
        .where(state_days.c.day < day),
        filters,
    ).group_by(state_days.c.day, systems.c.key, state_days.c.state)  # over regions, incidents
    with store.read() as conn:
        whole = rows_frame(conn.execute(q), ["day", "system", "state", "n"], raw=True)
        part = _partial_day(conn, filters, day_start(day), until)
    whole["day"] = pd.to_datetime(whole["day"])  # the driver's (SQLite: text), at once
    part["day"] = pd.Timestamp(day)
    return pd.concat([whole, part], ignore_index=True) if len(part) else whole


def in_service_change(
    store: Store, filters: Filters, since: datetime, until: datetime | None
) -> int:
    """How many more systems are in service at `until` (None: now) than at `since`: each
    state stretch that began in between moved one system into or out of service (or
    neither). Reads the stretches of one day, not two boards."""
    s = state_spans
    into = case((s.c.state.in_(IN_STATES), 1), else_=0)
    out_of = case((s.c.prev_state.in_(IN_STATES), 1), else_=0)
    q = filters.apply(
        scope(
            select(func.coalesce(func.sum(into - out_of), 0))
            .select_from(s)
            .join(branch_systems, branch_systems.c.id == s.c.bs_id)
            .where(s.c.started_at > since)
        )
    )
    if until is not None:
        q = q.where(s.c.started_at <= until)
    with store.read() as conn:
        return int(conn.execute(q).scalar_one())


def _partial_day(conn, filters: Filters, start: datetime, until: datetime) -> pd.DataFrame:
    """Deltas from the state spans that began between `start` and `until`."""
    s = state_spans
    q = filters.apply(
        scope(
            select(systems.c.key, s.c.state, s.c.incident_id, s.c.prev_state,
                   s.c.prev_incident_id)
            .select_from(s)
            .join(branch_systems, branch_systems.c.id == s.c.bs_id)
            .where(s.c.started_at >= start, s.c.started_at <= until)
        ),
        touched=False,
    )  # fmt: skip
    rows = rows_frame(conn.execute(q), ["system", "state", "inc", "prev", "prev_inc"])
    wanted = None
    if filters.incident:
        wanted = conn.execute(_incident_id(filters.incident)).scalar()
    plus = rows if wanted is None else rows[rows["inc"] == wanted]
    minus = rows.dropna(subset=["prev"])
    if wanted is not None:
        minus = minus[minus["prev_inc"] == wanted]
    return pd.concat(
        [
            plus.assign(n=1)[["system", "state", "n"]],
            minus.assign(state=minus["prev"], n=-1)[["system", "state", "n"]],
        ],
        ignore_index=True,
    )


# --- episodes, spans, date moves ----------------------------------------------------


def _named(filters: Filters, q: Select) -> Select:
    """`q` narrowed by `filters`, plus each row's branch and system ids (see _names). With
    nothing to narrow, no join to branches and systems (234,000 lookups for the episodes)."""
    q = q.add_columns(branch_systems.c.branch_id, branch_systems.c.system_id)
    return filters.apply(scope(q)) if filters.narrows else q


def _names(conn, df: pd.DataFrame) -> pd.DataFrame:
    """The branch name and system key of each row, looked up by id a column at a time:
    234,000 episodes at L repeat 100,000 names, which cost more to build row by row."""
    for q, key, name in ((select(branches.c.id, branches.c.name), "branch_id", "branch"),
                         (select(systems.c.id, systems.c.key), "system_id", "system")):  # fmt: skip
        found = rows_frame(conn.execute(q), ["id", name], raw=True).set_index("id")[name]
        df[name] = found.reindex(df.pop(key)).to_numpy()
    return df


def outage_rows(store: Store, filters: Filters, until: datetime) -> pd.DataFrame:
    """Episodes that began by `until`; one still running at `until` has no end."""
    q = _named(
        filters,
        select(raw_time(outages.c.down_at), raw_time(outages.c.restored_at))
        .select_from(outages)
        .join(branch_systems, branch_systems.c.id == outages.c.bs_id)
        .where(outages.c.down_at <= until)
        .order_by(outages.c.bs_id, outages.c.down_at),
    )
    with store.read() as conn:
        cols = ["down_at", "restored_at", "branch_id", "system_id"]
        df = _names(conn, rows_frame(conn.execute(q), cols, raw=True))
    df["down_at"] = times(df["down_at"])
    df["restored_at"] = times(df["restored_at"])
    df.loc[df["restored_at"] > pd.Timestamp(until), "restored_at"] = pd.NaT
    return df[["branch", "system", "down_at", "restored_at"]]


def span_rows(
    store: Store, filters: Filters, until: datetime, only: Pairs | None = None
) -> pd.DataFrame:
    """State changes by `until` (a change of incident alone is not one), per system in order;
    `only` narrows them to some (branch name, system key) pairs."""
    s = state_spans
    q = _named(
        filters,
        select(s.c.bs_id.label("bs"), s.c.state, raw_time(s.c.started_at))
        .select_from(s)
        .join(branch_systems, branch_systems.c.id == s.c.bs_id)
        .where(s.c.started_at <= until)
        .where(s.c.prev_state.is_(None) | (s.c.prev_state != s.c.state))
        .order_by(s.c.bs_id, s.c.event_id),
    )
    with store.read() as conn:
        if only is not None:
            q = q.where(s.c.bs_id.in_(_ids(conn, only)))
        cols = ["bs", "state", "start", "branch_id", "system_id"]
        df = _names(conn, rows_frame(conn.execute(q), cols, raw=True))
    df["start"] = times(df["start"])
    return df[["branch", "system", "bs", "state", "start"]]


def _ids(conn, pairs: Pairs) -> list[int]:
    """The branch system ids of (branch name, system key) pairs: looked up first, so that
    the spans are read through their bs_id index."""
    if not pairs:
        return []
    q = (
        select(branch_systems.c.id)
        .join(branches, branches.c.id == branch_systems.c.branch_id)
        .join(systems, systems.c.id == branch_systems.c.system_id)
        .where(tuple_(branches.c.name, systems.c.key).in_(list(pairs)))
    )
    return list(conn.execute(q).scalars())


def eta_rows(store: Store, filters: Filters, until: datetime) -> pd.DataFrame:
    q = _named(
        filters,
        select(raw_time(eta_moves.c.at), eta_moves.c.from_eta, eta_moves.c.to_eta)
        .select_from(eta_moves)
        .join(branch_systems, branch_systems.c.id == eta_moves.c.bs_id)
        .where(eta_moves.c.at <= until)
        .order_by(eta_moves.c.event_id),
    )
    with store.read() as conn:
        cols = ["at", "from", "to", "branch_id", "system_id"]
        df = _names(conn, rows_frame(conn.execute(q), cols, raw=True))
    return df[["branch", "system", "at", "from", "to"]]


__all__ = ["day_deltas", "eta_rows", "in_service_change", "outage_rows", "span_rows"]
