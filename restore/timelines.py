"""Read models over time: outage episodes, state segments (for the Gantt), date slippage.

Each query asks SQL for state *changes* only (LAG over each system's events),
so Python handles a few rows per system however long the log is. Every query
takes `until`, so time travel replays them as they stood.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import and_, case, func, select

from restore.bounds import backdate_floor
from restore.domain import STATE_IDS, Band, band_of
from restore.queries import NO_FILTER, Filters, scope
from restore.store import Store, branch_systems, branches, events, now_utc, systems


def _in_service(col):
    return case((col.in_([s for s in STATE_IDS if band_of(s) is Band.IN]), 1), else_=0)


def _events_until(columns: list, until: datetime, filters: Filters):
    """Events up to `until` with branch and system names, as a subquery."""
    return filters.apply(
        scope(
            select(
                branches.c.name.label("branch"),
                systems.c.key.label("system"),
                events.c.branch_system_id.label("bs"),
                events.c.id.label("id"),
                events.c.effective_at.label("at"),
                *columns,
            )
            .select_from(events)
            .join(branch_systems, branch_systems.c.id == events.c.branch_system_id)
            .where(events.c.effective_at <= until)
        )
    ).subquery()


def _floor(store: Store, until: datetime | None) -> pd.Timestamp:
    """Where every series starts at the earliest (restore.bounds), whatever the log holds."""
    with store.read() as conn:
        return pd.Timestamp(backdate_floor(conn, until or now_utc()))


def _over_system(expr, fn=func.lag):
    return fn(expr).over(partition_by=events.c.branch_system_id, order_by=events.c.id)


def durations(
    store: Store, filters: Filters = NO_FILTER, *, until: datetime | None = None
) -> pd.DataFrame:
    """Each outage episode: went down, came back (NaT if not by `until`), days it took.

    An episode starts when a system leaves service (or is first reported out of
    it) and ends at its next return to service (restored or degraded).
    """
    flag = _in_service(events.c.state)
    inner = _events_until(
        [flag.label("up"), _over_system(flag).label("was_up")], until or now_utc(), filters
    )
    q = (
        select(inner)
        .where(and_(inner.c.was_up.is_(None), inner.c.up == 0) | (inner.c.up != inner.c.was_up))
        .order_by(inner.c.bs, inner.c.id)
    )
    with store.read() as conn:
        flips = pd.DataFrame(conn.execute(q).mappings().all(), columns=list(inner.c.keys()))
    episodes = _pair_episodes(flips)
    down = episodes["down_at"].clip(lower=_floor(store, until))
    episodes["days"] = (episodes["restored_at"] - down).dt.total_seconds() / 86400
    return episodes.assign(down_at=down)


def _pair_episodes(flips: pd.DataFrame) -> pd.DataFrame:
    """Flips alternate down, up, down... per system (the query keeps only changes of the
    in-service flag, starting with a down), so each down pairs with the row after it."""
    flips = flips.assign(next_at=flips.groupby("bs")["at"].shift(-1))
    downs = flips[flips["up"] == 0]
    df = pd.DataFrame(
        {
            "branch": downs["branch"].to_numpy(),
            "system": downs["system"].to_numpy(),
            "down_at": pd.to_datetime(downs["at"], utc=True).to_numpy(),
            "restored_at": pd.to_datetime(downs["next_at"], utc=True).to_numpy(),
        }
    )
    df["down_at"] = pd.to_datetime(df["down_at"], utc=True)
    df["restored_at"] = pd.to_datetime(df["restored_at"], utc=True)
    df["days"] = (df["restored_at"] - df["down_at"]).dt.total_seconds() / 86400
    return df


def segments(
    store: Store, filters: Filters = NO_FILTER, *, until: datetime | None = None
) -> pd.DataFrame:
    """Each stretch a branch system spent in one state: branch, system, state, start, end.

    The last stretch of each system ends at `until`, or is open (NaT) when `until` is
    None (live: the caller ends it at the moment it draws). For the outage timeline.
    """
    inner = _events_until(
        [events.c.state, _over_system(events.c.state).label("prev")], until or now_utc(), filters
    )
    q = (
        select(inner.c.branch, inner.c.system, inner.c.bs, inner.c.state, inner.c.at)
        .where(inner.c.prev.is_(None) | (inner.c.prev != inner.c.state))
        .order_by(inner.c.bs, inner.c.id)
    )
    with store.read() as conn:
        df = pd.DataFrame(
            conn.execute(q).all(), columns=["branch", "system", "bs", "state", "start"]
        )
    df["start"] = pd.to_datetime(df["start"], utc=True).clip(lower=_floor(store, until))
    df["end"] = df.groupby("bs")["start"].shift(-1)
    if until is not None:
        df["end"] = df["end"].fillna(pd.Timestamp(until))
    df["band"] = df["state"].map(lambda s: band_of(s).value)
    return df.drop(columns="bs")


def slippage(
    store: Store, filters: Filters = NO_FILTER, *, until: datetime | None = None
) -> pd.DataFrame:
    """Every time a system's expected restoration date moved: from, to, and by how many days."""
    inner = _events_until(
        [events.c.eta, _over_system(events.c.eta).label("prev_eta")], until or now_utc(), filters
    )
    q = (
        select(inner.c.branch, inner.c.system, inner.c.at, inner.c.prev_eta, inner.c.eta)
        .where(inner.c.eta.is_not(None), inner.c.prev_eta.is_not(None))
        .where(inner.c.eta != inner.c.prev_eta)
        .order_by(inner.c.id)
    )
    with store.read() as conn:
        df = pd.DataFrame(conn.execute(q).all(), columns=["branch", "system", "at", "from", "to"])
    df["at"] = pd.to_datetime(df["at"], utc=True)
    for col in ("from", "to"):  # SQLite returns window-function dates as text
        df[col] = pd.to_datetime(df[col]).dt.date
    df["days"] = [(b - a).days for a, b in zip(df["from"], df["to"], strict=True)]
    return df
