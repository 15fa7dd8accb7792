"""The two peers each read is measured against, and the answers all three must agree on.

*Floor*: the simplest hand-written SQL over the tables as they stand (the log and each
system's pointers) that gives the same answer, with no more Python than it takes to
shape it. *Naive*: `pd.read_sql` of the whole event log joined to names, then pandas.
`signature` reduces each answer to what the three are compared on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import case, func, literal_column, select

from restore.domain import STATE_IDS, Band, band_of
from restore.store import Store, branch_systems, branches, events, incidents, systems
from restore.timefmt import LONDON, london_date

IN_STATES = [s for s in STATE_IDS if band_of(s) is Band.IN]


@dataclass(frozen=True)
class Moments:
    """The moments the reads are asked about (aware, UTC)."""

    now: datetime
    past: datetime  # the board as of a past moment
    day_before: datetime  # the live plan's board 24 hours ago (to the hour)
    until: datetime  # the live daily series' end (end of today, London)


# --- signatures: what read, floor and naive must agree on ------------------------


def board_signature(rows) -> list[tuple]:
    """(branch, system, state, newest note) for every branch system, sorted; '' for none."""
    return sorted((b, s, _text(st), _text(n)) for b, s, st, n in rows)


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def status_signature(rows) -> list[tuple]:
    """(branch, system, state, expected date as ISO text) for every branch system, sorted."""
    return sorted((b, s, _text(st), _day(eta)) for b, s, st, eta in rows)


def _day(value) -> str:
    return value.isoformat() if isinstance(value, date) else _text(value)


def series_signature(frame: pd.DataFrame) -> pd.DataFrame:
    """A daily series' state columns, dates as index, integers, from the first day that
    counts any system (a leading day of zeros says nothing the peers leave out)."""
    out = frame.reindex(columns=list(STATE_IDS)).fillna(0).astype("int64")
    out.index = [pd.Timestamp(d).date() for d in out.index]
    counted = out.sum(axis=1).to_numpy() > 0
    return out.iloc[counted.argmax() :] if counted.any() else out.iloc[:0]


def signature(name: str, answer) -> object:
    """The comparable core of a READERS answer (what the app's read returned)."""
    if name in ("board", "board_as_of", "board_day_before"):
        cols = ["branch", "system", "state", "note"]
        return board_signature(answer[cols].itertuples(index=False))
    if name == "status":
        cols = ["branch", "system", "state", "eta"]
        return status_signature(answer[cols].itertuples(index=False))
    if name == "change_24h":
        return int(answer)
    if name == "progress":
        return series_signature(answer)
    if name == "progress_by_system":
        return {k: series_signature(v) for k, v in sorted(answer.items())}
    if name == "durations":
        return {"episodes": len(answer), "open": int(answer["restored_at"].isna().sum())}
    if name == "segments":
        return {"segments": len(answer), "per_state": _counts(answer["state"])}
    if name == "slippage":
        return {"moves": len(answer), "days": int(answer["days"].sum())}
    raise KeyError(name)


def same(a, b) -> bool:
    if isinstance(a, pd.DataFrame):
        return isinstance(b, pd.DataFrame) and a.shape == b.shape and a.equals(b)
    if isinstance(a, dict) and a and isinstance(next(iter(a.values())), pd.DataFrame):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def _counts(states: pd.Series) -> dict[str, int]:
    return {k: int(v) for k, v in states.value_counts().sort_index().items()}


def daily(changes: pd.DataFrame, until: datetime) -> pd.DataFrame:
    """Systems per state at the end of each London day, from state changes
    (columns day, state, prev, n): +n into `state`, -n out of `prev`."""
    if changes.empty:
        return pd.DataFrame(columns=list(STATE_IDS), dtype="int64")
    plus = changes.groupby(["day", "state"])["n"].sum()
    minus = changes.dropna(subset=["prev"]).groupby(["day", "prev"])["n"].sum()
    delta = plus.unstack(fill_value=0).sub(minus.unstack(fill_value=0), fill_value=0)
    days = pd.date_range(min(delta.index), london_date(until), freq="D").date
    return series_signature(delta.reindex(days, fill_value=0).cumsum())


def _london_day(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values), utc=True).dt.tz_convert(LONDON).dt.date


# --- floors ----------------------------------------------------------------------


def _names():
    return (
        select(branches.c.name, systems.c.key)
        .select_from(branch_systems)
        .join(branches, branches.c.id == branch_systems.c.branch_id)
        .join(systems, systems.c.id == branch_systems.c.system_id)
    )


def floor_board(store: Store, m: Moments):
    """What the board shows of each system, through its pointers to its newest event and
    newest note: one join, rows as the driver gives them."""
    noted = events.alias("noted")
    q = (
        _names()
        .add_columns(events.c.state, noted.c.note, *_shown(events), noted.c.effective_at,
                     branch_systems.c.since, branch_systems.c.workaround)
        .outerjoin(events, events.c.id == branch_systems.c.last_event_id)
        .outerjoin(noted, noted.c.id == branch_systems.c.note_event_id)
        .outerjoin(incidents, incidents.c.id == events.c.incident_id)
    )
    with store.read() as conn:
        return board_signature(r[:4] for r in conn.execute(q).all())


def floor_status(store: Store, m: Moments):
    """Each system's state, last report and expected date, from its copy of its newest
    event beside the pointer (migration 0013): one join to names."""
    bs = branch_systems.c
    q = _names().add_columns(bs.last_state, bs.last_eta, bs.last_at)
    with store.read() as conn:
        return status_signature(r[:4] for r in conn.execute(q).all())


def _shown(e) -> list:
    """The rest of what the board shows of an event (the floor fetches it, as the read does)."""
    return [e.c.effective_at, e.c.eta, e.c.actor, e.c.source, e.c.id, incidents.c.name]


def _newest_id(at: datetime, noted: bool = False):
    """The id of each system's newest event by `at` (with a note, if `noted`)."""
    q = select(events.c.id).where(
        events.c.branch_system_id == branch_systems.c.id, events.c.effective_at <= at
    )
    if noted:
        q = q.where(events.c.note.is_not(None), events.c.note != "")
    return q.order_by(events.c.effective_at.desc(), events.c.id.desc()).limit(1).scalar_subquery()


def floor_as_of(at_name: str) -> Callable:
    """The board as of a moment from the log alone: per system, its newest event and its
    newest note by then (correlated, through the (system, time) index)."""

    def run(store: Store, m: Moments):
        at = getattr(m, at_name)
        last, noted = events.alias("last"), events.alias("noted")
        q = (
            _names()
            .add_columns(last.c.state, noted.c.note, *_shown(last), noted.c.effective_at,
                         branch_systems.c.workaround)
            .outerjoin(last, last.c.id == _newest_id(at))
            .outerjoin(noted, noted.c.id == _newest_id(at, noted=True))
            .outerjoin(incidents, incidents.c.id == last.c.incident_id)
        )
        with store.read() as conn:
            return board_signature(r[:4] for r in conn.execute(q).all())

    return run


def floor_change(store: Store, m: Moments) -> int:
    """In service now (through the pointers) minus in service a day before (each system's
    newest event by then, correlated)."""
    up = lambda state: func.sum(case((state.in_(IN_STATES), 1), else_=0))  # noqa: E731
    now, then = events.alias("now"), events.alias("then")
    q = select(up(now.c.state), up(then.c.state)).select_from(
        branch_systems.outerjoin(now, now.c.id == branch_systems.c.last_event_id)
        .outerjoin(then, then.c.id == _newest_id(m.day_before))
    )  # fmt: skip
    with store.read() as conn:
        now, before = conn.execute(q).one()
    return int(now or 0) - int(before or 0)


def _hour(store: Store, col):
    if store.dialect == "sqlite":
        return func.strftime("%Y-%m-%d %H:00:00", col)
    return func.date_trunc("hour", col.op("AT TIME ZONE")(literal_column("'UTC'")))


def _lag(col):
    return func.lag(col).over(partition_by=events.c.branch_system_id, order_by=events.c.id)


def _change_counts(store: Store, until: datetime, by_system: bool) -> pd.DataFrame:
    """State changes per UTC hour (and system key): GROUP BY over the LAG of each system's
    events."""
    cols = [_hour(store, events.c.effective_at).label("hour"), events.c.state,
            _lag(events.c.state).label("prev")]  # fmt: skip
    inner = select(*cols).where(events.c.effective_at <= until)
    if by_system:
        inner = (
            inner.add_columns(systems.c.key.label("system"))
            .join(branch_systems, branch_systems.c.id == events.c.branch_system_id)
            .join(systems, systems.c.id == branch_systems.c.system_id)
        )
    inner = inner.subquery()
    keys = [inner.c.hour, inner.c.state, inner.c.prev] + ([inner.c.system] if by_system else [])
    q = (
        select(*keys, func.count().label("n"))
        .where(inner.c.prev.is_(None) | (inner.c.prev != inner.c.state))
        .group_by(*keys)
    )
    with store.read() as conn:
        df = pd.DataFrame(conn.execute(q).all(), columns=[k.name for k in keys] + ["n"])
    df["day"] = _london_day(df["hour"]).to_numpy()
    return df


def floor_progress(store: Store, m: Moments):
    return daily(_change_counts(store, m.until, False), m.until)


def floor_progress_by_system(store: Store, m: Moments):
    df = _change_counts(store, m.until, True)
    return {k: daily(part, m.until) for k, part in sorted(df.groupby("system"))}


def _flag_changes(store: Store, m: Moments, flag, label: str) -> pd.DataFrame:
    inner = (
        select(
            events.c.branch_system_id.label("bs"),
            events.c.id,
            events.c.effective_at.label("at"),
            flag.label(label),
            _lag(flag).label("prev"),
        )
        .where(events.c.effective_at <= m.now)
        .subquery()
    )
    q = select(inner).order_by(inner.c.bs, inner.c.id)
    if label == "up":  # the in-service flag's flips, starting with a down
        q = q.where((inner.c.prev.is_(None) & (inner.c.up == 0)) | (inner.c.prev != inner.c.up))
    elif label == "state":
        q = q.where(inner.c.prev.is_(None) | (inner.c.prev != inner.c.state))
    else:
        q = q.where(
            inner.c.eta.is_not(None), inner.c.prev.is_not(None), inner.c.eta != inner.c.prev
        )
    with store.read() as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=["bs", "id", "at", label, "prev"])


def floor_durations(store: Store, m: Moments):
    flips = _flag_changes(store, m, case((events.c.state.in_(IN_STATES), 1), else_=0), "up")
    return _episodes(flips)


def _episodes(flips: pd.DataFrame) -> dict:
    last = flips.groupby("bs")["up"].last()
    return {"episodes": int((flips["up"] == 0).sum()), "open": int((last == 0).sum())}


def floor_segments(store: Store, m: Moments):
    df = _flag_changes(store, m, events.c.state, "state")
    return {"segments": len(df), "per_state": _counts(df["state"])}


def floor_slippage(store: Store, m: Moments):
    df = _flag_changes(store, m, events.c.eta, "eta")
    days = [
        (pd.Timestamp(b) - pd.Timestamp(a)).days for a, b in zip(df["prev"], df["eta"], strict=True)
    ]
    return {"moves": len(df), "days": int(sum(days))}


FLOORS: dict[str, Callable[[Store, Moments], object]] = {
    "board": floor_board,
    "status": floor_status,
    "board_as_of": floor_as_of("past"),
    "board_day_before": floor_as_of("day_before"),
    "change_24h": floor_change,
    "progress": floor_progress,
    "progress_by_system": floor_progress_by_system,
    "durations": floor_durations,
    "segments": floor_segments,
    "slippage": floor_slippage,
}


# --- naive -----------------------------------------------------------------------


def naive_log(store: Store) -> pd.DataFrame:
    """The whole event log joined to names, read with pd.read_sql."""
    q = (
        select(
            events.c.id, events.c.branch_system_id.label("bs"), events.c.state,
            events.c.effective_at.label("at"), events.c.eta, events.c.note,
            branches.c.name.label("branch"),
            systems.c.key.label("system"),
        )
        .join(branch_systems, branch_systems.c.id == events.c.branch_system_id)
        .join(branches, branches.c.id == branch_systems.c.branch_id)
        .join(systems, systems.c.id == branch_systems.c.system_id)
    )  # fmt: skip
    with store.read() as conn:
        df = pd.read_sql(q, conn)
    df["at"] = pd.to_datetime(df["at"], utc=True)
    return df.sort_values("id", ignore_index=True)


def _newest(df: pd.DataFrame, at: datetime | None = None):
    if at is not None:
        df = df[df["at"] <= pd.Timestamp(at)].sort_values(["at", "id"])
    last = df.groupby("bs").tail(1)
    noted = df[df["note"].fillna("") != ""].groupby("bs")["note"].last()
    last = last.assign(note=last["bs"].map(noted))
    return board_signature(last[["branch", "system", "state", "note"]].itertuples(index=False))


def _in_service(df: pd.DataFrame, at: datetime | None = None) -> int:
    if at is not None:
        df = df[df["at"] <= pd.Timestamp(at)]
    last = df.sort_values(["at", "id"]).groupby("bs").tail(1)
    return int(last["state"].isin(IN_STATES).sum())


def _changes(df: pd.DataFrame, until: datetime) -> pd.DataFrame:
    df = df[df["at"] <= pd.Timestamp(until)]
    prev = df.groupby("bs")["state"].shift()
    ch = df[prev.isna() | (prev != df["state"])].assign(prev=prev)
    return ch.assign(day=ch["at"].dt.tz_convert(LONDON).dt.date, n=1)


def naive_durations(df: pd.DataFrame, m: Moments):
    df = df[df["at"] <= pd.Timestamp(m.now)]
    up = df["state"].isin(IN_STATES).astype(int)
    prev = up.groupby(df["bs"]).shift()
    flips = df.assign(up=up)[(prev.isna() & (up == 0)) | (prev.notna() & (prev != up))]
    return _episodes(flips)


def naive_segments(df: pd.DataFrame, m: Moments):
    ch = _changes(df, m.now)
    return {"segments": len(ch), "per_state": _counts(ch["state"])}


def naive_slippage(df: pd.DataFrame, m: Moments):
    df = df[df["at"] <= pd.Timestamp(m.now)]
    prev = df.groupby("bs")["eta"].shift()
    moved = df.assign(prev=prev)
    moved = moved[moved["eta"].notna() & moved["prev"].notna() & (moved["eta"] != moved["prev"])]
    days = [
        (pd.Timestamp(b) - pd.Timestamp(a)).days
        for a, b in zip(moved["prev"], moved["eta"], strict=True)
    ]
    return {"moves": len(moved), "days": int(sum(days))}


NAIVE: dict[str, Callable[[pd.DataFrame, Moments], object]] = {
    "board": lambda df, m: _newest(df),
    "status": lambda df, m: status_signature(
        df.groupby("bs").tail(1)[["branch", "system", "state", "eta"]].itertuples(index=False)
    ),
    "board_as_of": lambda df, m: _newest(df, m.past),
    "board_day_before": lambda df, m: _newest(df, m.day_before),
    "change_24h": lambda df, m: _in_service(df) - _in_service(df, m.day_before),
    "progress": lambda df, m: daily(_changes(df, m.until), m.until),
    "progress_by_system": lambda df, m: {
        k: daily(part, m.until) for k, part in sorted(_changes(df, m.until).groupby("system"))
    },
    "durations": naive_durations,
    "segments": naive_segments,
    "slippage": naive_slippage,
}
