"""Read models over time: outage episodes, state segments (for the Gantt), date slippage.

Each reads a read model kept in every write's transaction (restore.readmodels:
outage episodes, state spans, date moves), never the log, so Python handles a few
rows per system however long the log is. Every query takes `until`, so time travel
replays them as they stood.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from restore.bounds import backdate_floor
from restore.filters import NO_FILTER, Filters
from restore.frames import times
from restore.queries import BAND_VALUES
from restore.readmodels.reads import Pairs, eta_rows, outage_rows, span_rows
from restore.store import Store, now_utc


def _floor(store: Store, until: datetime | None) -> pd.Timestamp:
    """Where every series starts at the earliest (restore.bounds), whatever the log holds."""
    with store.read() as conn:
        return pd.Timestamp(backdate_floor(conn, until or now_utc()))


def durations(
    store: Store, filters: Filters = NO_FILTER, *, until: datetime | None = None
) -> pd.DataFrame:
    """Each outage episode: went down, came back (NaT if not by `until`), days it took.

    An episode starts when a system leaves service (or is first reported out of
    it) and ends at its next return to service (restored or degraded).
    """
    episodes = outage_rows(store, filters, until or now_utc())
    down = episodes["down_at"].clip(lower=_floor(store, until))
    episodes["days"] = (episodes["restored_at"] - down).dt.total_seconds() / 86400
    return episodes.assign(down_at=down)


def segments(
    store: Store,
    filters: Filters = NO_FILTER,
    *,
    until: datetime | None = None,
    only: Pairs | None = None,
) -> pd.DataFrame:
    """Each stretch a branch system spent in one state: branch, system, state, start, end.

    The last stretch of each system ends at `until`, or is open (NaT) when `until` is
    None (live: the caller ends it at the moment it draws). For the outage timeline, which
    at scale asks `only` for the (branch name, system key) pairs it draws.
    """
    df = span_rows(store, filters, until or now_utc(), only)
    df["start"] = df["start"].clip(lower=_floor(store, until))
    df["end"] = df.groupby("bs")["start"].shift(-1)
    if until is not None:
        df["end"] = df["end"].fillna(pd.Timestamp(until))
    df["band"] = df["state"].map(BAND_VALUES)
    return df.drop(columns="bs")


def slippage(
    store: Store, filters: Filters = NO_FILTER, *, until: datetime | None = None
) -> pd.DataFrame:
    """Every time a system's expected restoration date moved: from, to, and by how many days."""
    df = eta_rows(store, filters, until or now_utc())
    df["at"] = times(df["at"])
    # The driver's dates (SQLite: text), converted a column at a time: 50,000 rows at L.
    was, now = pd.to_datetime(df["from"]), pd.to_datetime(df["to"])
    df["days"] = (now - was).dt.days.astype(int)
    df["from"], df["to"] = was.dt.date, now.dt.date
    return df
