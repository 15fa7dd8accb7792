"""Which reads a page needs for one moment, named so that a cache can key on them.

A live page asks for reads that do not mention the clock (the board now, the
daily series through today), so their cache keys change only when the data
does. A replay asks for the same reads as of its moment. Nothing here touches
the database: `load` runs a plan through whatever reader it is given (cached
in pages, direct in briefings and tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pandas as pd

from restore import queries, timelines
from restore.queries import NO_FILTER, Filters
from restore.timefmt import LONDON, london_date

READERS: dict[str, Callable[..., Any]] = {
    "board": queries.board,
    "board_as_of": queries.board_as_of,
    "status": queries.status,
    "in_service_change": queries.in_service_change,
    "progress": queries.progress,
    "progress_by_system": queries.progress_by_system,
    "durations": timelines.durations,
    "segments": timelines.segments,
    "slippage": timelines.slippage,
    "incidents": queries.incidents_frame,
    "history": queries.history,
    "branches": queries.branch_list,
    "systems": queries.system_list,
    "users": queries.user_list,
    "contacts": queries.chair_contacts,
}


@dataclass(frozen=True)
class Read:
    """One read: READERS[name](store, *args, **dict(kwargs)); hashable, so a cache key."""

    name: str
    args: tuple = ()
    kwargs: tuple = ()


SPLIT = ("board", "status")  # live reads kept one part per region (see by_region)


def end_of_day(now: datetime) -> datetime:
    """The end of `now`'s London day: a live daily series runs to it and stays valid all day."""
    tomorrow = london_date(now) + timedelta(days=1)
    return (datetime.combine(tomorrow, time(0), LONDON) - timedelta(microseconds=1)).astimezone(UTC)


def moment(
    as_of: datetime | None,
    now: datetime,
    filters: Filters = NO_FILTER,
    *,
    notes: bool = True,
    daily: bool = True,
) -> dict[str, Read]:
    """The reads behind the overview and a briefing, live (`as_of` None) or as of a moment.

    The one live read that needs the clock, the change in service over 24 hours, is keyed
    to the hour, so it is read again at most once an hour when nothing changes. With
    `notes` False the live board is queries.status (no notes or authors): enough for the
    figures and the heat map, and a quarter of the cost of the board at national scale.
    With `daily` False the plan leaves out the daily totals, which overview.compose then
    sums from the counts per system type (one read of the day counts, not two).
    """
    live = as_of is None
    now_board = Read("board" if notes else "status", (filters,))
    hour = now.replace(minute=0, second=0, microsecond=0)
    until = (("until", None if live else as_of),)
    days = (("freq", "D"), ("until", end_of_day(now) if live else as_of))
    plan = {
        "board": now_board if live else Read("board_as_of", (as_of, filters)),
        "change_24h": Read(
            "in_service_change",
            ((hour if live else as_of) - timedelta(hours=24), filters),
            (("until", None if live else as_of),),
        ),
        "daily": Read("progress", (filters,), days),
        "by_system": Read("progress_by_system", (filters,), days),
        "incidents": Read("incidents"),
        "episodes": Read("durations", (filters,), until),
        "slippage": Read("slippage", (filters,), until),
    }
    if not daily:
        del plan["daily"]
    return plan


def timeline(
    as_of: datetime | None, pairs: tuple[tuple[str, str], ...], filters: Filters = NO_FILTER
) -> Read:
    """The state stretches of the branch systems the outage timeline draws (branch name,
    system key pairs, chosen from the episodes by restore.scale), live or as of a moment."""
    return Read("segments", (filters,), (("only", pairs), ("until", as_of)))


def load(plan: dict[str, Read], reader: Callable[[Read], Any]) -> dict[str, Any]:
    """Run every read of a plan through `reader`; returns the frames by plan key."""
    return {key: reader(read) for key, read in plan.items()}


def direct(store) -> Callable[[Read], Any]:
    """A reader that calls the query straight away (no cache)."""
    return lambda read: READERS[read.name](store, *read.args, **dict(read.kwargs))


def regions_of(read: Read) -> tuple[str, ...]:
    """The regions a read is narrowed to (empty: all), for its cache key."""
    return next((a.regions for a in read.args if isinstance(a, Filters)), ())


def by_region(read: Read, regions: list[str]) -> list[Read] | None:
    """The live board (or status) as one read per region in scope, so that a write re-reads
    only its own region's part (None: a read that is not split, or already one region)."""
    if read.name not in SPLIT:
        return None
    filters = read.args[0] if read.args else NO_FILTER
    scope = filters.regions or tuple(regions)
    if len(scope) <= 1:
        return None
    return [Read(read.name, (replace(filters, regions=(r,)),)) for r in scope]


def split_board(board: pd.DataFrame, parts: list[Read]) -> list[pd.DataFrame]:
    """A board read whole, cut into by_region's `parts` (each keeps the board's order), so
    that a page with nothing cached reads once and still keeps one part per region."""
    region_of = [p.args[0].regions[0] for p in parts]
    return [board[board["region"] == r].reset_index(drop=True) for r in region_of]


def with_notes(read: Read, region: str | None = None) -> Read:
    """The whole board for what `read` (a board, status or board as of) covers, narrowed
    to `region`: for the site grid, whose cells show each system's last note."""
    name = "board" if read.name == "status" else read.name
    args = tuple(
        replace(a, regions=(region,)) if isinstance(a, Filters) and region else a
        for a in read.args
    )
    return Read(name, args, read.kwargs)


def merge_board(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Per-region boards back into one, in the board's order (HQ first, then by branch;
    each branch's systems keep their order, as the sort is stable). A part with no
    reports has untyped empty columns, so each column takes the type the reported parts
    give it, as one read of the whole board would."""
    df = pd.concat(parts, ignore_index=True)
    for col in df.columns:
        typed = [p[col] for p in parts if p[col].notna().any() and p[col].dtype != object]
        if not typed:
            continue
        dtype = pd.concat(typed).dtype  # the parts' common type (int and float: float)
        if pd.api.types.is_integer_dtype(dtype) and df[col].isna().any():
            dtype = "float64"  # as one read of the whole board gives when a system has no event
        if df[col].dtype != dtype:
            df[col] = df[col].astype(dtype)
    return df.sort_values(
        ["is_hq", "branch"], ascending=[False, True], kind="stable", ignore_index=True
    )
