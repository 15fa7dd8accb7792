"""Read models derived from the event log, as pandas DataFrames.

The heavy lifting is SQL: the current board is a join on each system's
newest-event pointer; the board "as of" T picks each system's newest event up
to T through the (branch_system_id, effective_at, id) index; progress counts are
aggregated per hour in SQL from state *changes* only. Python sees results sized
by branches x systems or by hours, never the whole log.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import and_, func, literal_column, select
from sqlalchemy.sql import Select

from restore.bounds import backdate_floor
from restore.domain import STATE_IDS, Band, band_of, label_of
from restore.filters import NO_FILTER, Filters, scope
from restore.frames import dates, raw_time, rows_frame, times
from restore.readmodels import reads as _reads
from restore.readmodels.reads import day_deltas, day_start
from restore.readmodels.tables import board_days
from restore.store import (
    CLOSINGS,
    Store,
    branch_systems,
    branches,
    events,
    incidents,
    now_utc,
    systems,
    users,
)
from restore.timefmt import LONDON, london_date

STALE_AFTER = timedelta(hours=48)
BOARD_COLUMNS = [
    "branch", "slug", "region", "is_hq", "system", "system_name", "state", "label", "band",
    "since", "at", "eta", "note", "note_at", "updated_by", "source", "event_id", "incident",
    "workaround", "created_at",
]  # fmt: skip
# What the overview's figures, heat map and critical path need of the board (see status).
STATUS_COLUMNS = [
    "branch", "slug", "region", "is_hq", "system", "system_name", "state", "label", "band",
    "at", "eta",
]  # fmt: skip
NEVER = "never reported"  # the band of a system with no event yet
LABELS = {s: label_of(s) for s in STATE_IDS}
BAND_VALUES = {s: band_of(s).value for s in STATE_IDS}


def _board_select(last_id, since, note_id, via=None) -> Select:
    """Every branch system with the event `last_id` points at (outer join: may have none),
    and the newest note (`note_id`), which a check-in without a note leaves in view.

    Branches, systems and incidents come as ids (_named puts their names in): 100,000 rows
    of repeated names cost more to build, row by row, than to look up a column at a time."""
    noted = events.alias("noted")
    # Branches and systems joined first, so that a region's board starts from its branches
    # (SQLite keeps the join order of outer joins; a scope() after them scanned every row).
    sites = branch_systems.join(branches, branches.c.id == branch_systems.c.branch_id).join(
        systems, systems.c.id == branch_systems.c.system_id
    )
    return (
        select(
            branch_systems.c.branch_id,
            branch_systems.c.system_id,
            events.c.state,
            raw_time(since).label("since"),
            raw_time(events.c.effective_at).label("at"),
            events.c.eta,
            noted.c.note,
            raw_time(noted.c.effective_at).label("note_at"),
            events.c.actor.label("updated_by"),
            events.c.source,
            events.c.id.label("event_id"),
            events.c.incident_id,
            branch_systems.c.workaround,
            raw_time(branch_systems.c.created_at).label("created_at"),
        )
        .select_from(sites if via is None else sites.outerjoin(*via))
        .outerjoin(events, events.c.id == last_id)
        .outerjoin(noted, noted.c.id == note_id)
        .order_by(branches.c.is_hq.desc(), branches.c.name, systems.c.id)
    )


_BRANCH_NAMES = select(
    branches.c.id, branches.c.name.label("branch"), branches.c.slug, branches.c.region,
    branches.c.is_hq,
)  # fmt: skip
_SYSTEM_NAMES = select(
    systems.c.id, systems.c.key.label("system"), systems.c.name.label("system_name")
)
_INCIDENT_NAMES = select(incidents.c.id, incidents.c.name.label("incident"))


def _named(conn, df: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Board rows with branch, system and incident names looked up by id, a column at a time
    (only the filter's regions' branches: a region's part of the board reads its own)."""
    sites = _BRANCH_NAMES
    if filters.regions:
        sites = sites.where(branches.c.region.in_(filters.regions))
    for q, key in ((sites, "branch_id"), (_SYSTEM_NAMES, "system_id"),
                   (_INCIDENT_NAMES, "incident_id")):  # fmt: skip
        if key not in df:
            continue
        names = _fetch(conn, q).set_index("id")
        for col in names.columns:  # a map, not a join: a part with no events has no ids' type
            found = df[key].map(names[col])
            df[col] = found.astype(names[col].dtype) if df.empty else found
    return df


def _frame(df: pd.DataFrame, columns: list[str] = BOARD_COLUMNS) -> pd.DataFrame:
    """A board from _board_select's columns (named): labels, bands, blanks and times filled in."""
    df = df.reindex(columns=columns)
    # Dictionary maps, not a Python call per row: boards run to 100,000 rows.
    df["label"] = df["state"].map(LABELS).fillna("No report")
    df["band"] = df["state"].map(BAND_VALUES).fillna(NEVER)
    df["is_hq"] = df["is_hq"].astype(bool)
    df["eta"] = dates(df["eta"])
    for col in ("note", "updated_by", "workaround", "incident", "source"):
        if col not in df:
            continue
        text = df[col].astype(object) if df[col].dtype.kind == "f" else df[col]  # none found
        df[col] = text.fillna("")
    for col in ("since", "at", "note_at", "created_at"):
        if col in df:
            df[col] = times(df[col])
    return df


def _fetch(conn, q: Select) -> pd.DataFrame:
    """The driver's rows as they come (see _frame for the conversions, done per column)."""
    return rows_frame(conn.execute(q), q.selected_columns.keys(), raw=True)


def board(store: Store, filters: Filters = NO_FILTER) -> pd.DataFrame:
    """Every branch system now: state, since when, expected date, last note, by whom."""
    q = filters.apply(
        _board_select(
            branch_systems.c.last_event_id, branch_systems.c.since, branch_systems.c.note_event_id
        )
    )
    with store.read() as conn:
        return _frame(_named(conn, _fetch(conn, q), filters))


def status(store: Store, filters: Filters = NO_FILTER) -> pd.DataFrame:
    """Every branch system's state now, with what figures, the heat map and the critical
    path use (STATUS_COLUMNS): the board without its notes, authors and workarounds, read
    from branch_systems alone (its copy of the last event's state, time and expected date),
    where the board looks each system's events up in the log (at 4,000 sites, about a
    quarter of the time). Ordered by branch and system id, so that the heat map's columns
    keep their order from one read to the next (PostgreSQL returns rows as stored)."""
    bs = branch_systems.c
    q = select(
        bs.branch_id, bs.system_id, bs.last_state.label("state"), raw_time(bs.last_at).label("at"),
        bs.last_eta.label("eta"),
    ).select_from(branch_systems).order_by(bs.branch_id, bs.system_id)  # fmt: skip
    if filters.narrows:
        q = filters.apply(scope(q))
    with store.read() as conn:
        df = _named(conn, _fetch(conn, q), filters)
    return _frame(df, STATUS_COLUMNS)


def board_as_of(store: Store, as_of: datetime, filters: Filters = NO_FILTER) -> pd.DataFrame:
    """The board as it stood at `as_of` (aware): each system's pointers at the end of the
    day before (rm_board_days), moved on by that day's events up to `as_of`.

    A system added after `as_of` (and not reported by then) is left out.
    """
    day = london_date(as_of)
    b = board_days.alias("b")
    newest_day = (
        select(b.c.day)
        .where(b.c.bs_id == branch_systems.c.id, b.c.day < day)
        .order_by(b.c.day.desc())
        .limit(1)
        .scalar_subquery()
    )
    base = board_days.alias("base")
    on = and_(base.c.bs_id == branch_systems.c.id, base.c.day == newest_day)
    q = filters.apply(
        _board_select(base.c.event_id, base.c.since, base.c.note_event_id, via=(base, on))
    ).add_columns(branch_systems.c.id.label("bs_id"))
    with store.read() as conn:
        df = _fetch(conn, q)
        df = _moved_on(df, conn.execute(_day_events(filters, day_start(day), as_of)).mappings())
        df = _named(conn, df, filters)
    df = _frame(df)
    existed = df["state"].notna() | df["created_at"].isna() | (df["created_at"] <= as_of)
    return df[existed.to_numpy()].reset_index(drop=True)


def _moved_on(df: pd.DataFrame, day_events) -> pd.DataFrame:
    """The board rows moved past the day's events (in order); untouched rows as they were."""
    day_events = list(day_events)
    if not day_events:
        return df
    at = pd.Series(range(len(df)), index=df["bs_id"])
    touched = list(dict.fromkeys(e["bs_id"] for e in day_events))
    rows = dict(zip(touched, df.iloc[at[touched].to_numpy()].to_dict("records"), strict=True))
    for e in day_events:
        _move_on(rows[e["bs_id"]], e)
    kept = df[~df["bs_id"].isin(touched)]
    changed = pd.DataFrame.from_records(list(rows.values()), columns=df.columns)
    order = pd.concat([at[kept["bs_id"]], at[changed["bs_id"]]], ignore_index=True)
    both = pd.concat([kept, changed], ignore_index=True)
    return both.iloc[order.argsort(kind="stable")].reset_index(drop=True)


def in_service_change(
    store: Store, since: datetime, filters: Filters = NO_FILTER, *, until: datetime | None = None
) -> int:
    """Systems in service at `until` (None: now) minus those in service at `since`: the
    headline's change in 24 hours, without reading the board as it stood a day ago."""
    return _reads.in_service_change(store, filters, since, until)


def _day_events(filters: Filters, start: datetime, as_of: datetime) -> Select:
    """Events from `start` to `as_of` with what the board shows of them, in order."""
    return filters.apply(
        scope(
            select(
                events.c.branch_system_id.label("bs_id"), events.c.id, events.c.state,
                events.c.effective_at, events.c.eta, events.c.note, events.c.actor,
                events.c.source, events.c.incident_id,
            )
            .select_from(events)
            .join(branch_systems, branch_systems.c.id == events.c.branch_system_id)
            .where(events.c.effective_at >= start, events.c.effective_at <= as_of)
        )
    ).order_by(events.c.branch_system_id, events.c.id)  # fmt: skip


def _move_on(row: dict, e) -> None:
    """Move one board row past a later event, as the write that appended it did."""
    if row["state"] != e["state"]:
        row["since"] = e["effective_at"]
    row.update(
        state=e["state"], at=e["effective_at"], eta=e["eta"], updated_by=e["actor"],
        source=e["source"], event_id=e["id"], incident_id=e["incident_id"],
    )  # fmt: skip
    if e["note"]:
        row["note"], row["note_at"] = e["note"], e["effective_at"]


# --- progress over time ------------------------------------------------------


def hour_bucket(dialect: str, col):
    if dialect == "sqlite":
        return func.strftime("%Y-%m-%d %H:00:00", col)
    return func.date_trunc("hour", col.op("AT TIME ZONE")(literal_column("'UTC'")))


def _changes(store: Store, filters: Filters, until: datetime) -> pd.DataFrame:
    """Per UTC hour and system type: how many systems entered each state from which state."""
    prev = func.lag(events.c.state).over(
        partition_by=events.c.branch_system_id, order_by=events.c.id
    )
    inner = filters.apply(
        scope(
            select(
                hour_bucket(store.dialect, events.c.effective_at).label("hour"),
                systems.c.key.label("system"),
                events.c.state,
                prev.label("prev"),
            )
            .select_from(events)
            .join(branch_systems, branch_systems.c.id == events.c.branch_system_id)
            .where(events.c.effective_at <= until)
        )
    ).subquery()
    q = (
        select(inner.c.hour, inner.c.system, inner.c.state, inner.c.prev, func.count().label("n"))
        .where((inner.c.prev.is_(None)) | (inner.c.prev != inner.c.state))
        .group_by(inner.c.hour, inner.c.system, inner.c.state, inner.c.prev)
    )
    with store.read() as conn:
        df = rows_frame(conn.execute(q), ["hour", "system", "state", "prev", "n"])
    df["hour"] = pd.to_datetime(df["hour"], utc=True)
    return df


def progress(
    store: Store,
    filters: Filters = NO_FILTER,
    *,
    until: datetime | None = None,
    freq: str = "D",
) -> pd.DataFrame:
    """Systems in each state over time, one row per hour ("h") or London day ("D").

    Each row counts states at the *end* of its period; the index is London time
    (the period's end for hours, the date for days). Band totals are added as
    columns named after the bands. Empty log: an empty frame with those columns.
    Days are summed from the daily read model; hours replay the log.
    """
    until = until or now_utc()
    if freq.upper() == "D":
        return _daily(day_deltas(store, filters, until), until, _floor(store, until))
    return _counts(_changes(store, filters, until), until, freq, _floor(store, until))


def progress_by_system(
    store: Store,
    filters: Filters = NO_FILTER,
    *,
    until: datetime | None = None,
    freq: str = "D",
) -> dict[str, pd.DataFrame]:
    """progress() for each system type (keyed by system key), from one query."""
    until = until or now_utc()
    floor = _floor(store, until)
    if freq.upper() == "D":
        deltas = _by_day(day_deltas(store, filters, until), floor, ["system"])
        if deltas.empty:
            return {}
        return {key: _cumulative(part.droplevel("system"), until) for key, part in
                deltas.groupby(level="system", sort=False)}  # fmt: skip
    changes = _changes(store, filters, until)
    return {key: _counts(part, until, freq, floor) for key, part in changes.groupby("system")}


def progress_total(by_system: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """progress() from progress_by_system()'s answer: the same counts summed over system
    types, so that a page drawing both reads the day counts once."""
    cols = list(STATE_IDS) + [b.value for b in Band]
    if not by_system:
        return pd.DataFrame(columns=cols, dtype="int64")
    days = sorted(set().union(*(part.index for part in by_system.values())))
    total = sum(part.reindex(days, fill_value=0) for part in by_system.values())
    total.index.name = "time"
    return total[cols].astype("int64")


def _daily(deltas: pd.DataFrame, until: datetime, floor: pd.Timestamp) -> pd.DataFrame:
    """Counts per London day from net changes per day; changes before the floor's day
    count on it, so the series never starts earlier, whatever the log holds."""
    return _cumulative(_by_day(deltas, floor), until)


def _by_day(deltas: pd.DataFrame, floor: pd.Timestamp, keys: list[str] | None = None):
    """Net change per day (and `keys`) and state, one column per state; days before the
    floor's day on it. One grouping for every system type, not a pivot for each."""
    keys = keys or []
    if deltas.empty:
        return pd.DataFrame(columns=list(STATE_IDS), dtype="int64")
    first = pd.Timestamp(floor.tz_convert(LONDON).date())
    days = pd.to_datetime(deltas["day"]).clip(lower=first)
    return (
        deltas.assign(day=days)
        .groupby([*keys, "day", "state"], sort=True)["n"]
        .sum()
        .unstack("state")
        .reindex(columns=list(STATE_IDS))
        .fillna(0)
    )


def _cumulative(delta: pd.DataFrame, until: datetime) -> pd.DataFrame:
    """Counts per day from the day's net changes (_by_day), up to `until`'s day."""
    cols = list(STATE_IDS) + [b.value for b in Band]
    if delta.empty:
        return pd.DataFrame(columns=cols, dtype="int64")
    last = pd.Timestamp(london_date(until))
    counts = delta.reindex(pd.date_range(delta.index.min(), last, freq="D"), fill_value=0)
    counts = counts.cumsum().astype("int64")
    counts.index = counts.index.date
    for band in Band:
        counts[band.value] = counts[[s for s in STATE_IDS if band_of(s) is band]].sum(axis=1)
    counts.index.name = "time"
    return counts[cols]


def _floor(store: Store, until: datetime) -> pd.Timestamp:
    with store.read() as conn:
        return pd.Timestamp(backdate_floor(conn, until)).tz_convert("UTC").floor("h")


def _counts(
    changes: pd.DataFrame, until: datetime, freq: str, floor: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Running counts per state (and band) from per-hour state changes.

    Changes before `floor` count as made at it, so the series never starts earlier,
    whatever the log holds.
    """
    cols = list(STATE_IDS) + [b.value for b in Band]
    if changes.empty:
        return pd.DataFrame(columns=cols, dtype="int64")
    if floor is not None:
        changes = changes.assign(hour=changes["hour"].clip(lower=floor))
    plus = changes.pivot_table(index="hour", columns="state", values="n", aggfunc="sum")
    minus = changes.dropna(subset=["prev"]).pivot_table(
        index="hour", columns="prev", values="n", aggfunc="sum"
    )
    delta = plus.sub(minus, fill_value=0).reindex(columns=list(STATE_IDS)).fillna(0)
    end = pd.Timestamp(until).tz_convert("UTC").floor("h")
    hours = pd.date_range(delta.index.min(), max(end, delta.index.max()), freq="h")
    counts = delta.reindex(hours, fill_value=0).cumsum().astype("int64")
    counts.index = (counts.index + pd.Timedelta(hours=1)).tz_convert(LONDON)
    if freq.upper() == "D":
        # Each value is the count at the end of its hour, so midnight closes the day before.
        daily = counts.resample("D", closed="right", label="left").last()
        counts = daily.ffill().fillna(0).astype("int64")
        counts.index = counts.index.date
        counts = counts[counts.index <= pd.Timestamp(until).tz_convert(LONDON).date()]
    for band in Band:
        counts[band.value] = counts[[s for s in STATE_IDS if band_of(s) is band]].sum(axis=1)
    counts.index.name = "time"
    return counts[cols]


# --- staleness, overdue -------------------------------------------------------


def stale(board_df: pd.DataFrame, now: datetime, after: timedelta = STALE_AFTER) -> pd.DataFrame:
    """Branches to chase: not all in service, and quiet for more than `after` (48 h) or
    holding a system never reported, which counts as stale from the moment it exists.

    Never-reported branches come first, then the longest quiet. `last_update` and
    `hours_quiet` are empty for a branch that has never reported at all.
    """
    cols = [
        "branch", "slug", "region", "last_update", "hours_quiet", "not_in_service",
        "never_reported", "last_by",
    ]  # fmt: skip
    if board_df.empty:
        return pd.DataFrame(columns=cols)
    g = board_df.groupby("branch", sort=False)
    reported = board_df.dropna(subset=["state"])
    newest = reported.sort_values("at").groupby("branch").tail(1).set_index("branch")
    df = pd.DataFrame(
        {
            "slug": g["slug"].first(),
            "region": g["region"].first(),
            "last_update": reported.groupby("branch")["at"].max(),
            "not_in_service": (board_df["band"] != Band.IN.value).groupby(board_df["branch"]).sum(),
            "never_reported": board_df["state"].isna().groupby(board_df["branch"]).sum(),
            "last_by": newest["updated_by"],
        }
    )
    df["last_update"] = pd.to_datetime(df["last_update"], utc=True)
    df["last_by"] = df["last_by"].fillna("")
    quiet = pd.Timestamp(now) - df["last_update"]
    df["hours_quiet"] = (quiet.dt.total_seconds() / 3600).round(1)
    chase = (df["never_reported"] > 0) | (df["last_update"] < pd.Timestamp(now) - after)
    df = df[(df["not_in_service"] > 0) & chase].reset_index(names="branch")
    return df[cols].sort_values(
        ["never_reported", "hours_quiet"], ascending=False, ignore_index=True, na_position="first"
    )


def never_reported(board_df: pd.DataFrame) -> tuple[list[str], int]:
    """Branches with no report on any system, and the number of systems never reported."""
    silent = board_df["state"].isna().groupby(board_df["branch"], sort=False).all()
    return sorted(silent[silent].index), int(board_df["state"].isna().sum())


def overdue(board_df: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Systems not in service whose expected restoration date (London) has passed."""
    today = pd.Timestamp(now).tz_convert(LONDON).date()
    df = board_df[(board_df["band"].isin([Band.OUT.value, Band.RECOVERING.value]))]
    df = df[df["eta"].notna() & (df["eta"] < today)].copy()
    df["days_overdue"] = [(today - d).days for d in df["eta"]]
    return df.sort_values("days_overdue", ascending=False, ignore_index=True)


def incidents_frame(store: Store) -> pd.DataFrame:
    """Every incident, oldest first, with `closed_at` (NaT while its recovery is open)."""
    q = (
        select(incidents, CLOSINGS.c.confirmed_at.label("closed_at"))
        .outerjoin(CLOSINGS, CLOSINGS.c.incident_id == incidents.c.id)
        .order_by(incidents.c.started_at)
    )
    with store.read() as conn:
        rows = conn.execute(q).mappings().all()
    df = pd.DataFrame([dict(r) for r in rows], columns=[*incidents.c.keys(), "closed_at"])
    df["started_at"] = pd.to_datetime(df["started_at"], utc=True)
    df["closed_at"] = pd.to_datetime(df["closed_at"], utc=True)
    return df


def history(store: Store, branch_id: int) -> pd.DataFrame:
    """One branch's whole event log, newest first, for its page."""
    q = (
        select(
            events.c.id.label("event_id"),
            events.c.effective_at.label("at"),
            systems.c.name.label("system"),
            events.c.state,
            events.c.note,
            events.c.eta,
            events.c.actor.label("by"),
            events.c.entered_by,
            events.c.source,
            events.c.override_reason.label("reason"),
            incidents.c.name.label("incident"),
        )
        .join(branch_systems, branch_systems.c.id == events.c.branch_system_id)
        .join(systems, systems.c.id == branch_systems.c.system_id)
        .outerjoin(incidents, incidents.c.id == events.c.incident_id)
        .where(branch_systems.c.branch_id == branch_id)
        .order_by(events.c.id.desc())
    )
    with store.read() as conn:
        df = pd.DataFrame(conn.execute(q).mappings().all(), columns=list(q.selected_columns.keys()))
    df["at"] = pd.to_datetime(df["at"], utc=True)
    df["state"] = df["state"].map(label_of)
    # Who said it, and who typed it in when that was someone else (an import).
    df["by"] = [
        f"{who} (imported by {typist})" if typist != who else who
        for who, typist in zip(df["by"], df["entered_by"], strict=True)
    ]
    return df


def branch_list(store: Store) -> pd.DataFrame:
    """Every branch: id, name, slug, region, HQ or not."""
    with store.read() as conn:
        rows = conn.execute(select(branches).order_by(branches.c.is_hq.desc(), branches.c.name))
        return pd.DataFrame(rows.mappings().all(), columns=list(branches.c.keys()))


def system_list(store: Store) -> pd.DataFrame:
    with store.read() as conn:
        rows = conn.execute(select(systems).order_by(systems.c.id)).mappings().all()
    return pd.DataFrame(rows, columns=list(systems.c.keys()))


def user_list(store: Store) -> pd.DataFrame:
    """Users without their password hashes."""
    q = (
        select(
            users.c.username, users.c.display_name, users.c.role, branches.c.name.label("branch"),
            users.c.email, users.c.phone, users.c.active, users.c.locked_until,
        )
        .outerjoin(branches, branches.c.id == users.c.branch_id)
        .order_by(users.c.role, users.c.username)
    )  # fmt: skip
    with store.read() as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=list(q.selected_columns.keys()))


def chair_contacts(store: Store) -> pd.DataFrame:
    """Each branch's active chairs and how to reach them, one row per branch (slug)."""
    q = (
        select(branches.c.slug, users.c.display_name, users.c.phone, users.c.email)
        .join(users, users.c.branch_id == branches.c.id)
        .where(users.c.role == "chair", users.c.active.is_(True))
        .order_by(branches.c.slug, users.c.username)
    )
    with store.read() as conn:
        rows = conn.execute(q).all()
    people: dict[str, list[str]] = {}
    for r in rows:
        ways = ", ".join(w for w in (r.phone, r.email) if w) or "no phone or e-mail held"
        people.setdefault(r.slug, []).append(f"{r.display_name}: {ways}")
    return pd.DataFrame(
        {"slug": list(people), "contact": ["; ".join(v) for v in people.values()]},
        columns=["slug", "contact"],
    )
